package io.sluice.sample;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Deterministic generator of realistic FHIR R4 sample data: organizations, practitioners, patients
 * with encounters, vital-sign and lab observations, conditions, medication requests, procedures,
 * immunizations, allergies, and one Group holding every patient.
 *
 * <p>The same seed and size give byte-identical output, so tests and benchmarks can rely on it
 * without the Synthea files. Every reference points to a resource the generator also emits.
 */
public final class SampleDataGenerator {

    /** Id of the Group that lists every generated patient. */
    public static final String ALL_PATIENTS_GROUP = "sample-all-patients";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private static final String[] FAMILY = {"Smith", "Johnson", "Garcia", "Nguyen", "Okafor", "Müller", "Rossi",
        "Kowalski", "Haddad", "Tanaka", "O'Brien", "Fernández", "Ivanova", "Larsen", "Mensah", "Chen"};
    private static final String[] GIVEN_F = {"Maria", "Aisha", "Emma", "Sofia", "Mei", "Olivia", "Fatima", "Ana"};
    private static final String[] GIVEN_M = {"James", "Ahmed", "Liam", "Noah", "Kenji", "Mateo", "Oluwaseun", "Jan"};
    private static final String[] CITY = {"Boston", "Worcester", "Springfield", "Lowell", "Cambridge", "Quincy"};

    /** code, display, unit, UCUM code, mean, spread. */
    private static final Object[][] VITALS = {
        {"8867-4", "Heart rate", "/min", "/min", 72.0, 12.0},
        {"9279-1", "Respiratory rate", "/min", "/min", 15.0, 3.0},
        {"8310-5", "Body temperature", "Cel", "Cel", 36.8, 0.4},
        {"29463-7", "Body weight", "kg", "kg", 76.0, 15.0},
        {"8302-2", "Body height", "cm", "cm", 170.0, 10.0},
        {"39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "kg/m2", 26.0, 4.0},
    };
    private static final Object[][] LABS = {
        {"2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", "mg/dL", 98.0, 18.0},
        {"2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 190.0, 30.0},
        {"4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "%", 5.8, 0.8},
        {"718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "g/dL", 14.0, 1.5},
    };
    /** SNOMED code, display. */
    private static final String[][] CONDITIONS = {
        {"44054006", "Diabetes mellitus type 2"}, {"38341003", "Hypertensive disorder"},
        {"195662009", "Acute viral pharyngitis"}, {"10509002", "Acute bronchitis"},
        {"55822004", "Hyperlipidemia"}, {"40055000", "Chronic sinusitis"}, {"233604007", "Pneumonia"}};
    /** RxNorm code, display. */
    private static final String[][] MEDS = {
        {"860975", "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"},
        {"314076", "lisinopril 10 MG Oral Tablet"}, {"197361", "amlodipine 5 MG Oral Tablet"},
        {"308136", "amLODIPine 2.5 MG Oral Tablet"}, {"313782", "Acetaminophen 325 MG Oral Tablet"}};
    private static final String[][] PROCEDURES = {
        {"430193006", "Medication Reconciliation (procedure)"}, {"710824005", "Assessment of health and social care needs"},
        {"117015009", "Throat culture (procedure)"}, {"399208008", "Plain chest X-ray (procedure)"}};
    /** CVX code, display. */
    private static final String[][] VACCINES = {
        {"140", "Influenza, seasonal, injectable, preservative free"}, {"113", "Td (adult) preservative free"},
        {"133", "Pneumococcal conjugate PCV 13"}, {"208", "SARS-COV-2 (COVID-19) vaccine, mRNA"}};

    private final long seed;
    private final int patients;

    /**
     * @param seed     any number; the same seed gives the same data
     * @param patients how many patients (each brings about 60 resources)
     */
    public SampleDataGenerator(long seed, int patients) {
        this.seed = seed;
        this.patients = patients;
    }

    /** Every resource as one minified JSON line, in an order that keeps references pointing backwards. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        generate(out::add);
        return out;
    }

    /** Streams every resource as one minified JSON line to {@code sink}. */
    public void generate(Consumer<String> sink) {
        Random rnd = new Random(seed);
        int orgs = Math.max(2, patients / 20);
        for (int o = 0; o < orgs; o++) {
            sink.accept(write(organization(o)));
        }
        int practitioners = Math.max(3, patients / 8);
        for (int p = 0; p < practitioners; p++) {
            sink.accept(write(practitioner(p, rnd)));
        }
        ObjectNode group = F.objectNode();
        group.put("resourceType", "Group");
        group.put("id", ALL_PATIENTS_GROUP);
        group.put("type", "person");
        group.put("actual", true);
        group.put("name", "All sample patients");
        ArrayNode members = group.putArray("member");
        for (int i = 0; i < patients; i++) {
            String pid = patientId(i);
            String org = "Organization/" + orgId(rnd.nextInt(orgs));
            String prac = "Practitioner/" + practitionerId(rnd.nextInt(practitioners));
            ObjectNode patient = patient(i, rnd, org, prac);
            sink.accept(write(patient));
            patientRecord(pid, rnd, org, prac, sink);
            members.addObject().putObject("entity").put("reference", "Patient/" + pid);
        }
        group.put("quantity", patients);
        sink.accept(write(group));
    }

    /** Id of the i-th generated patient. */
    public static String patientId(int i) {
        return String.format("sample-patient-%05d", i);
    }

    private static String orgId(int i) {
        return String.format("sample-org-%03d", i);
    }

    private static String practitionerId(int i) {
        return String.format("sample-practitioner-%03d", i);
    }

    private ObjectNode organization(int i) {
        ObjectNode o = resource("Organization", orgId(i));
        o.put("active", true);
        o.putArray("type").addObject().putArray("coding").addObject()
                .put("system", "http://terminology.hl7.org/CodeSystem/organization-type").put("code", "prov")
                .put("display", "Healthcare Provider");
        o.put("name", CITY[i % CITY.length] + " Community Health Center " + (i + 1));
        o.putArray("address").addObject().put("city", CITY[i % CITY.length]).put("state", "MA").put("country", "US");
        return o;
    }

    private ObjectNode practitioner(int i, Random rnd) {
        ObjectNode p = resource("Practitioner", practitionerId(i));
        p.putArray("identifier").addObject().put("system", "http://hl7.org/fhir/sid/us-npi")
                .put("value", String.valueOf(9_990_000_000L + i));
        p.put("active", true);
        boolean female = rnd.nextBoolean();
        ObjectNode name = p.putArray("name").addObject();
        name.put("family", FAMILY[rnd.nextInt(FAMILY.length)]);
        name.putArray("given").add(female ? GIVEN_F[rnd.nextInt(GIVEN_F.length)] : GIVEN_M[rnd.nextInt(GIVEN_M.length)]);
        name.putArray("prefix").add("Dr.");
        p.put("gender", female ? "female" : "male");
        return p;
    }

    private ObjectNode patient(int i, Random rnd, String org, String prac) {
        ObjectNode p = resource("Patient", patientId(i));
        p.putArray("identifier").addObject().put("system", "urn:oid:2.16.840.1.113883.4.3.25")
                .put("value", String.format("MRN-%07d", 1_000_000 + i));
        boolean female = rnd.nextBoolean();
        ObjectNode name = p.putArray("name").addObject();
        name.put("use", "official");
        name.put("family", FAMILY[rnd.nextInt(FAMILY.length)]);
        name.putArray("given").add(female ? GIVEN_F[rnd.nextInt(GIVEN_F.length)] : GIVEN_M[rnd.nextInt(GIVEN_M.length)]);
        p.put("gender", female ? "female" : "male");
        p.put("birthDate", LocalDate.of(1935 + rnd.nextInt(85), 1 + rnd.nextInt(12), 1 + rnd.nextInt(28)).toString());
        p.putArray("address").addObject().putArray("line").add((10 + rnd.nextInt(900)) + " Main Street");
        ((ObjectNode) p.get("address").get(0)).put("city", CITY[rnd.nextInt(CITY.length)]).put("state", "MA")
                .put("postalCode", String.format("0%04d", 1000 + rnd.nextInt(8000))).put("country", "US");
        p.putArray("generalPractitioner").addObject().put("reference", prac);
        p.putObject("managingOrganization").put("reference", org);
        return p;
    }

    private void patientRecord(String pid, Random rnd, String org, String prac, Consumer<String> sink) {
        String subject = "Patient/" + pid;
        LocalDateTime start = LocalDateTime.of(2015, 1, 1, 8, 0).plusDays(rnd.nextInt(300));
        int encounters = 4 + rnd.nextInt(5);
        List<String[]> conditions = new ArrayList<>();
        for (int e = 0; e < encounters; e++) {
            String eid = pid.replace("patient", "enc") + "-" + e;
            LocalDateTime when = start.plusDays(e * 120L + rnd.nextInt(60)).plusMinutes(rnd.nextInt(480));
            sink.accept(write(encounter(eid, subject, org, prac, when)));
            String encRef = "Encounter/" + eid;
            int obsNo = 0;
            for (Object[] v : VITALS) {
                sink.accept(write(observation(eid + "-obs-" + obsNo++, subject, encRef, when, v, "vital-signs", rnd)));
            }
            if (rnd.nextInt(3) == 0) {
                for (Object[] l : LABS) {
                    sink.accept(write(observation(eid + "-obs-" + obsNo++, subject, encRef, when, l, "laboratory", rnd)));
                }
            }
            if (rnd.nextInt(2) == 0) {
                String[] c = CONDITIONS[rnd.nextInt(CONDITIONS.length)];
                String cid = eid + "-cond";
                conditions.add(new String[]{cid, c[0]});
                sink.accept(write(condition(cid, subject, encRef, when, c, rnd.nextInt(3) == 0)));
                String[] m = MEDS[rnd.nextInt(MEDS.length)];
                sink.accept(write(medicationRequest(eid + "-med", subject, encRef, prac, when, m, cid)));
            }
            String[] pr = PROCEDURES[rnd.nextInt(PROCEDURES.length)];
            sink.accept(write(procedure(eid + "-proc", subject, encRef, when, pr)));
            if (e % 2 == 0) {
                String[] v = VACCINES[rnd.nextInt(VACCINES.length)];
                sink.accept(write(immunization(eid + "-imm", subject, encRef, when, v)));
            }
        }
        if (rnd.nextInt(4) == 0) {
            ObjectNode a = resource("AllergyIntolerance", pid.replace("patient", "allergy"));
            a.putObject("clinicalStatus").putArray("coding").addObject()
                    .put("system", "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical").put("code", "active");
            a.putObject("verificationStatus").putArray("coding").addObject()
                    .put("system", "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification").put("code", "confirmed");
            a.put("type", "allergy");
            a.putArray("category").add("food");
            a.put("criticality", "low");
            codeable(a.putObject("code"), "http://snomed.info/sct", "91935009", "Allergy to peanuts");
            a.putObject("patient").put("reference", subject);
            a.put("recordedDate", instant(start));
            sink.accept(write(a));
        }
    }

    private ObjectNode encounter(String id, String subject, String org, String prac, LocalDateTime when) {
        ObjectNode e = resource("Encounter", id);
        e.put("status", "finished");
        e.putObject("class").put("system", "http://terminology.hl7.org/CodeSystem/v3-ActCode").put("code", "AMB");
        codeable(e.putArray("type").addObject(), "http://snomed.info/sct", "185349003", "Encounter for check up (procedure)");
        e.putObject("subject").put("reference", subject);
        e.putArray("participant").addObject().putObject("individual").put("reference", prac);
        e.putObject("period").put("start", instant(when)).put("end", instant(when.plusMinutes(30)));
        e.putObject("serviceProvider").put("reference", org);
        return e;
    }

    private ObjectNode observation(String id, String subject, String enc, LocalDateTime when, Object[] def,
                                   String category, Random rnd) {
        ObjectNode o = resource("Observation", id);
        o.put("status", "final");
        codeable(o.putArray("category").addObject(), "http://terminology.hl7.org/CodeSystem/observation-category",
                category, category.equals("laboratory") ? "Laboratory" : "Vital signs");
        codeable(o.putObject("code"), "http://loinc.org", (String) def[0], (String) def[1]);
        o.putObject("subject").put("reference", subject);
        o.putObject("encounter").put("reference", enc);
        o.put("effectiveDateTime", instant(when));
        o.put("issued", instant(when.plusMinutes(5)));
        double value = (double) def[4] + rnd.nextGaussian() * (double) def[5];
        o.putObject("valueQuantity").put("value", Math.round(value * 10) / 10.0).put("unit", (String) def[2])
                .put("system", "http://unitsofmeasure.org").put("code", (String) def[3]);
        return o;
    }

    private ObjectNode condition(String id, String subject, String enc, LocalDateTime when, String[] code, boolean resolved) {
        ObjectNode c = resource("Condition", id);
        c.putObject("clinicalStatus").putArray("coding").addObject()
                .put("system", "http://terminology.hl7.org/CodeSystem/condition-clinical").put("code", resolved ? "resolved" : "active");
        c.putObject("verificationStatus").putArray("coding").addObject()
                .put("system", "http://terminology.hl7.org/CodeSystem/condition-ver-status").put("code", "confirmed");
        codeable(c.putArray("category").addObject(), "http://terminology.hl7.org/CodeSystem/condition-category",
                "encounter-diagnosis", "Encounter Diagnosis");
        codeable(c.putObject("code"), "http://snomed.info/sct", code[0], code[1]);
        c.putObject("subject").put("reference", subject);
        c.putObject("encounter").put("reference", enc);
        c.put("onsetDateTime", instant(when));
        if (resolved) {
            c.put("abatementDateTime", instant(when.plusDays(14)));
        }
        c.put("recordedDate", instant(when));
        return c;
    }

    private ObjectNode medicationRequest(String id, String subject, String enc, String prac, LocalDateTime when,
                                         String[] med, String conditionId) {
        ObjectNode m = resource("MedicationRequest", id);
        m.put("status", "active");
        m.put("intent", "order");
        codeable(m.putObject("medicationCodeableConcept"), "http://www.nlm.nih.gov/research/umls/rxnorm", med[0], med[1]);
        m.putObject("subject").put("reference", subject);
        m.putObject("encounter").put("reference", enc);
        m.put("authoredOn", instant(when));
        m.putObject("requester").put("reference", prac);
        m.putArray("reasonReference").addObject().put("reference", "Condition/" + conditionId);
        m.putArray("dosageInstruction").addObject().put("sequence", 1).put("text", "Take as directed");
        return m;
    }

    private ObjectNode procedure(String id, String subject, String enc, LocalDateTime when, String[] code) {
        ObjectNode p = resource("Procedure", id);
        p.put("status", "completed");
        codeable(p.putObject("code"), "http://snomed.info/sct", code[0], code[1]);
        p.putObject("subject").put("reference", subject);
        p.putObject("encounter").put("reference", enc);
        p.putObject("performedPeriod").put("start", instant(when)).put("end", instant(when.plusMinutes(15)));
        return p;
    }

    private ObjectNode immunization(String id, String subject, String enc, LocalDateTime when, String[] vaccine) {
        ObjectNode i = resource("Immunization", id);
        i.put("status", "completed");
        codeable(i.putObject("vaccineCode"), "http://hl7.org/fhir/sid/cvx", vaccine[0], vaccine[1]);
        i.putObject("patient").put("reference", subject);
        i.putObject("encounter").put("reference", enc);
        i.put("occurrenceDateTime", instant(when));
        i.put("primarySource", true);
        return i;
    }

    private static ObjectNode resource(String type, String id) {
        ObjectNode r = F.objectNode();
        r.put("resourceType", type);
        r.put("id", id);
        return r;
    }

    private static void codeable(ObjectNode target, String system, String code, String display) {
        target.putArray("coding").addObject().put("system", system).put("code", code).put("display", display);
        target.put("text", display);
    }

    private static String instant(LocalDateTime t) {
        return t.atOffset(ZoneOffset.UTC).toInstant().toString();
    }

    private static String write(ObjectNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
