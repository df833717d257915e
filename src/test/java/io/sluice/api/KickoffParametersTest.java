package io.sluice.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.job.ExportLevel;
import io.sluice.job.ExportRequest;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KickoffParametersTest {

    private final KickoffParameters parser = new KickoffParameters(io.sluice.fhir.ResourceTypes::isKnown);

    private static List<KickoffParameters.Raw> q(String... nameValues) {
        List<KickoffParameters.Raw> out = new ArrayList<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            out.add(KickoffParameters.Raw.of(nameValues[i], nameValues[i + 1]));
        }
        return out;
    }

    private ExportRequest get(boolean lenient, String... nameValues) {
        return parser.parse(ExportLevel.SYSTEM, false, q(nameValues), lenient);
    }

    private void bad(String expectedFragment, boolean lenient, String... nameValues) {
        ApiException e = assertThrows(ApiException.class, () -> get(lenient, nameValues));
        assertEquals(400, e.status());
        assertTrue(e.getMessage().contains(expectedFragment), e.getMessage());
    }

    @Test
    void normalizesEverySupportedParameter() {
        ExportRequest r = get(false, "_outputFormat", "ndjson", "_type", "Patient,Observation", "_type", "Condition,Patient",
                "_since", "2024-01-01T00:00:00+05:45", "_until", "2024-01-02T00:00:00.5Z",
                "_elements", "id,Observation.code", "_typeFilter", "Observation?status=final",
                "_typeFilter", "Observation?code=http://loinc.org|8867-4");
        assertEquals(List.of("Patient", "Observation", "Condition"), r.types());
        assertEquals(Instant.parse("2023-12-31T18:15:00Z"), r.since());
        assertEquals(Instant.parse("2024-01-02T00:00:00.5Z"), r.until());
        assertEquals(List.of("id", "Observation.code"), r.elements());
        assertEquals(List.of("status=final", "code=http://loinc.org|8867-4"), r.typeFilters().get("Observation"));
        assertTrue(r.lenientIssues().isEmpty());
        for (String f : List.of("application/fhir+ndjson", "application/ndjson", "ndjson")) {
            get(false, "_outputFormat", f);
        }
    }

    @Test
    void malformedValuesAreAlways400() {
        for (boolean lenient : new boolean[] {false, true}) {
            bad("_outputFormat", lenient, "_outputFormat", "text/csv");
            bad("not a FHIR instant", lenient, "_since", "2024-01-01");
            bad("not a FHIR instant", lenient, "_since", "2024-01-01T00:00:00");
            bad("not a valid instant", lenient, "_until", "2024-02-30T00:00:00Z");
            bad("is after _until", lenient, "_since", "2024-01-02T00:00:00Z", "_until", "2024-01-01T00:00:00Z");
            bad("not a FHIR R4 resource type", lenient, "_type", "Patient,Foo");
            bad("empty entry", lenient, "_type", "Patient,,Observation");
            bad("may not use _include", lenient, "_typeFilter", "Observation?_include=Observation:subject");
            bad("may not use _sort", lenient, "_typeFilter", "Observation?_sort=date");
            bad("may not use _count", lenient, "_typeFilter", "Observation?_count=1");
            bad("may not use _elements", lenient, "_typeFilter", "Observation?_elements=id");
            bad("may not use _summary", lenient, "_typeFilter", "Observation?_summary=count");
            bad("not of the form", lenient, "_typeFilter", "status=final");
            bad("not in _type", lenient, "_type", "Patient", "_typeFilter", "Observation?status=final");
            bad("not a valid date", lenient, "_typeFilter", "Observation?date=ge2020-13");
            bad("only allowed at Patient and Group level", lenient, "patient", "Patient/1");
            bad("Type.element", lenient, "_elements", "Observation.code.coding");
        }
    }

    /** Regression (fuzzing): a NUL in an ignored lenient parameter reached jsonb and gave a 500. */
    @Test
    void nulCharactersAreRejectedInNamesAndValuesAlsoWhenLenient() {
        for (boolean lenient : new boolean[] {false, true}) {
            bad("contains a NUL character", lenient, "\u0000", "Observation?date=ge2020");
            bad("contains a NUL character", lenient, "_foo\u0000", "x");
            bad("contains a NUL character", lenient, "_typeFilter", "Observation?code=a\u0000b");
            bad("contains a NUL character", lenient, "includeAssociatedData", "_x\u0000y");
        }
    }

    @Test
    void sinceEqualToUntilAndFutureSinceAreAccepted() {
        ExportRequest r = get(false, "_since", "2024-01-01T00:00:00Z", "_until", "2024-01-01T00:00:00Z");
        assertEquals(r.since(), r.until());
        get(false, "_since", "2999-01-01T00:00:00Z");
    }

    @Test
    void unsupportedIsStrict400OrLenientIssue() {
        bad("parameter '_foo' is not supported", false, "_foo", "1");
        bad("includeAssociatedData value 'LatestProvenanceResources'", false, "includeAssociatedData", "LatestProvenanceResources");
        bad("search parameter 'value-quantity' is not supported", false, "_typeFilter", "Observation?value-quantity=5");

        ExportRequest r = get(true, "_foo", "1", "includeAssociatedData", "LatestProvenanceResources,_custom",
                "_typeFilter", "Observation?value-quantity=5", "_typeFilter", "Observation?status=final",
                "_typeFilter", "Condition?clinical-status=active");
        assertEquals(4, r.lenientIssues().size(), r.lenientIssues().toString());
        assertTrue(r.lenientIssues().get(0).contains("_foo"));
        assertTrue(r.typeFilters().get("Observation") == null, "an unsupported filter drops every filter of its type");
        assertEquals(List.of("clinical-status=active"), r.typeFilters().get("Condition"));
        assertTrue(r.includeAssociatedData().isEmpty());
    }

    @Test
    void patientParameterOnlyAsPostReference() throws Exception {
        var body = new ObjectMapper().readTree("""
                {"resourceType":"Parameters","parameter":[
                  {"name":"_type","valueString":"Patient,Observation"},
                  {"name":"_since","valueInstant":"2024-01-01T00:00:00Z"},
                  {"name":"patient","valueReference":{"reference":"Patient/p1"}},
                  {"name":"patient","valueReference":{"reference":"Patient/p2"}}]}""");
        ExportRequest r = parser.parse(ExportLevel.PATIENT, true, KickoffParameters.fromParametersResource(body), false);
        assertEquals(List.of("p1", "p2"), r.patients());
        assertEquals(List.of("Patient", "Observation"), r.types());

        var bad = new ObjectMapper().readTree("""
                {"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"Group/g"}}]}""");
        assertThrows(ApiException.class, () -> parser.parse(ExportLevel.GROUP, true, KickoffParameters.fromParametersResource(bad), false));
        var notRef = new ObjectMapper().readTree("""
                {"resourceType":"Parameters","parameter":[{"name":"patient","valueString":"Patient/p1"}]}""");
        assertThrows(ApiException.class, () -> parser.parse(ExportLevel.GROUP, true, KickoffParameters.fromParametersResource(notRef), false));

        ApiException strictGet = assertThrows(ApiException.class,
                () -> parser.parse(ExportLevel.PATIENT, false, q("patient", "Patient/p1"), false));
        assertEquals(400, strictGet.status());
        ExportRequest lenientGet = parser.parse(ExportLevel.PATIENT, false, q("patient", "Patient/p1"), true);
        assertTrue(lenientGet.patients().isEmpty());
        assertEquals(1, lenientGet.lenientIssues().size());
        assertThrows(ApiException.class, () -> KickoffParameters.fromParametersResource(new ObjectMapper().readTree("{\"resourceType\":\"Patient\"}")));
    }

    @Test
    void preferAndAcceptHeaders() {
        assertTrue(ExportApi.Prefer.parse(List.of("respond-async")).respondAsync());
        var p = ExportApi.Prefer.parse(List.of("respond-async, handling=lenient"));
        assertTrue(p.respondAsync() && p.lenient());
        p = ExportApi.Prefer.parse(List.of("handling=lenient", "respond-async"));
        assertTrue(p.respondAsync() && p.lenient());
        assertTrue(!ExportApi.Prefer.parse(List.of("respond-async; handling=strict")).lenient());
        assertTrue(!ExportApi.Prefer.parse(null).respondAsync());
        ExportApi.checkAccept(null);
        ExportApi.checkAccept(List.of("application/fhir+json"));
        ExportApi.checkAccept(List.of("text/html, */*;q=0.1"));
        assertEquals(406, assertThrows(ApiException.class, () -> ExportApi.checkAccept(List.of("text/csv"))).status());
        assertTrue(ExportApi.acceptsGzip(List.of("gzip, deflate")));
        assertTrue(!ExportApi.acceptsGzip(List.of("gzip;q=0, identity")));
        assertTrue(!ExportApi.acceptsGzip(List.of("br")));
    }
}
