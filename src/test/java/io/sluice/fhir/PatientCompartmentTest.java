package io.sluice.fhir;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PatientCompartmentTest {

    private static Set<String> ids(String json) {
        ObjectNode r = FhirJson.parseObject(json);
        return PatientCompartment.patientIds(r.get("resourceType").asText(), r.path("id").asText(null), r);
    }

    @Test
    void patientIsInItsOwnCompartmentAndLinkedPatients() {
        assertEquals(Set.of("p1", "p2"), ids("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"link\":[{\"other\":{\"reference\":\"Patient/p2\"},\"type\":\"seealso\"},"
                + "{\"other\":{\"reference\":\"RelatedPerson/r\"}}]}"));
    }

    @Test
    void observationSubjectAndPerformer() {
        assertEquals(Set.of("a", "b"), ids("{\"resourceType\":\"Observation\",\"id\":\"o\",\"subject\":{\"reference\":\"Patient/a\"},"
                + "\"performer\":[{\"reference\":\"Practitioner/x\"},{\"reference\":\"Patient/b/_history/3\"}],"
                + "\"focus\":[{\"reference\":\"Patient/not-a-compartment-param\"}]}"));
    }

    @Test
    void claimPatientAndPayeeAndEobPayee() {
        assertEquals(Set.of("a", "c"), ids("{\"resourceType\":\"Claim\",\"id\":\"c1\",\"patient\":{\"reference\":\"Patient/a\"},"
                + "\"payee\":{\"party\":{\"reference\":\"http://other.example/fhir/Patient/c\"}},"
                + "\"provider\":{\"reference\":\"Organization/o\"}}"));
        assertEquals(Set.of("p"), ids("{\"resourceType\":\"ExplanationOfBenefit\",\"id\":\"e\",\"payee\":{\"party\":{\"reference\":\"Patient/p\"}}}"));
    }

    @Test
    void whereResolveIsPatientOnlyCountsPatients() {
        assertEquals(Set.of(), ids("{\"resourceType\":\"Encounter\",\"id\":\"e\",\"subject\":{\"reference\":\"Group/g\"},"
                + "\"participant\":[{\"individual\":{\"reference\":\"Patient/not-in-r4-encounter-compartment\"}}]}"));
        assertEquals(Set.of("p"), ids("{\"resourceType\":\"Encounter\",\"id\":\"e\",\"subject\":{\"reference\":\"Patient/p\"}}"));
        assertEquals(Set.of("p", "q"), ids("{\"resourceType\":\"AuditEvent\",\"id\":\"x\",\"agent\":[{\"who\":{\"reference\":\"Patient/p\"}}],"
                + "\"entity\":[{\"what\":{\"reference\":\"Patient/q\"}},{\"what\":{\"reference\":\"Device/d\"}}]}"));
        assertEquals(Set.of("p"), ids("{\"resourceType\":\"Provenance\",\"id\":\"x\",\"target\":[{\"reference\":\"Patient/p\"},{\"reference\":\"Observation/o\"}]}"));
    }

    @Test
    void nestedArraysAreWalked() {
        assertEquals(Set.of("p", "q"), ids("{\"resourceType\":\"CarePlan\",\"id\":\"c\",\"subject\":{\"reference\":\"Patient/p\"},"
                + "\"activity\":[{\"detail\":{\"performer\":[{\"reference\":\"Patient/q\"}]}},{\"detail\":{}}]}"));
        assertEquals(Set.of("m1", "m2"), ids("{\"resourceType\":\"Group\",\"id\":\"g\",\"member\":[{\"entity\":{\"reference\":\"Patient/m1\"}},"
                + "{\"entity\":{\"reference\":\"Patient/m2\"}},{\"entity\":{\"reference\":\"Group/g2\"}}]}"));
    }

    @Test
    void typesOutsideTheCompartmentHaveNoMembers() {
        assertFalse(PatientCompartment.isCompartmentType("Organization"));
        assertFalse(PatientCompartment.isCompartmentType("Practitioner"));
        assertFalse(PatientCompartment.isCompartmentType("Medication"));
        assertTrue(PatientCompartment.isCompartmentType("Patient"));
        assertTrue(PatientCompartment.isCompartmentType("Provenance"));
        assertEquals(Set.of(), ids("{\"resourceType\":\"Organization\",\"id\":\"o\",\"partOf\":{\"reference\":\"Patient/p\"}}"));
        assertEquals(67, PatientCompartment.PARAMS.size(), "67 resource types have R4 Patient compartment params (Patient itself via link)");
        for (String type : PatientCompartment.PARAMS.keySet()) {
            assertTrue(ResourceTypes.isKnown(type), type);
        }
    }

    @Test
    void referenceParsing() {
        assertEquals("abc", PatientCompartment.patientId("Patient/abc"));
        assertEquals("abc", PatientCompartment.patientId("https://x.org/fhir/Patient/abc/_history/2"));
        assertNull(PatientCompartment.patientId("#contained"));
        assertNull(PatientCompartment.patientId("urn:uuid:1234"));
        assertNull(PatientCompartment.patientId("Practitioner/abc"));
        assertNull(PatientCompartment.patientId("Patient/bad_id"));
        assertNull(PatientCompartment.patientId("MyPatient/abc"));
    }

    @Test
    void resourceTypesAreR4() {
        assertEquals(146, ResourceTypes.ALL.size());
        assertTrue(ResourceTypes.isKnown("MedicinalProductPharmaceutical"));
        assertFalse(ResourceTypes.isKnown("MedicationUsage"), "R5 only");
        assertFalse(ResourceTypes.isKnown("patient"));
        assertTrue(ResourceTypes.isValidId("A-b.9"));
        assertFalse(ResourceTypes.isValidId("a/b"));
        assertFalse(ResourceTypes.isValidId("x".repeat(65)));
    }
}
