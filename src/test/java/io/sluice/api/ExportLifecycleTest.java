package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.config.DecoderConfig;
import io.restassured.response.Response;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPInputStream;

import static io.restassured.RestAssured.given;
import static io.sluice.api.BulkClient.async;
import static io.sluice.api.BulkClient.complete;
import static io.sluice.api.BulkClient.ids;
import static io.sluice.api.BulkClient.json;
import static io.sluice.api.BulkClient.outputs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole $export protocol on data this test writes through the FHIR REST API. */
@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
class ExportLifecycleTest {

    static final String TENANT = "api-life";
    static final BulkClient C = BulkClient.tenant(TENANT);
    static final String LOINC = "http://loinc.org";
    static boolean seeded;
    static final Map<String, String> LAST_UPDATED = new TreeMap<>();

    static final List<String> DATA = List.of(
            "{'resourceType':'Patient','id':'p1','gender':'female','birthDate':'1980-01-01'}",
            "{'resourceType':'Patient','id':'p2','gender':'male','birthDate':'1975-06-30'}",
            "{'resourceType':'Patient','id':'p3','gender':'other','birthDate':'2001-12-24'}",
            "{'resourceType':'Practitioner','id':'pr1','name':[{'family':'Who'}]}",
            "{'resourceType':'Encounter','id':'e1','status':'finished','class':{'system':'http://terminology.hl7.org/CodeSystem/v3-ActCode','code':'AMB'},"
                    + "'subject':{'reference':'Patient/p1'},'participant':[{'individual':{'reference':'Practitioner/pr1'}}],"
                    + "'period':{'start':'2020-01-10T08:00:00Z','end':'2020-01-10T09:00:00Z'}}",
            "{'resourceType':'Observation','id':'o1','status':'final','category':[{'coding':[{'system':'http://terminology.hl7.org/CodeSystem/observation-category','code':'vital-signs'}]}],"
                    + "'code':{'coding':[{'system':'http://loinc.org','code':'8867-4'}]},'subject':{'reference':'Patient/p1'},"
                    + "'encounter':{'reference':'Encounter/e1'},'effectiveDateTime':'2020-05-17T13:45:00+02:00',"
                    + "'valueQuantity':{'value':72,'unit':'/min','system':'http://unitsofmeasure.org','code':'/min'}}",
            "{'resourceType':'Observation','id':'o2','status':'final','code':{'coding':[{'system':'http://loinc.org','code':'1234-5'}]},"
                    + "'subject':{'reference':'Patient/p2'},'effectiveDateTime':'2021-02-01'}",
            "{'resourceType':'Observation','id':'o3','status':'amended','code':{'coding':[{'system':'http://loinc.org','code':'8867-4'}]},"
                    + "'subject':{'reference':'Patient/p3'},'effectiveDateTime':'2022-03-01T10:00:00Z'}",
            "{'resourceType':'Condition','id':'c1','clinicalStatus':{'coding':[{'system':'http://terminology.hl7.org/CodeSystem/condition-clinical','code':'active'}]},"
                    + "'code':{'text':'Hypertension'},'subject':{'reference':'Patient/p1'},'onsetDateTime':'2019-03-01'}",
            "{'resourceType':'Condition','id':'c2','clinicalStatus':{'coding':[{'system':'http://terminology.hl7.org/CodeSystem/condition-clinical','code':'resolved'}]},"
                    + "'code':{'text':'Flu'},'subject':{'reference':'Patient/p2'},'onsetDateTime':'2018-01-01','abatementDateTime':'2018-02-01'}",
            "{'resourceType':'Group','id':'g1','type':'person','actual':true,'member':[{'entity':{'reference':'Patient/p1'}},{'entity':{'reference':'Patient/p2'}}]}");

    @BeforeEach
    void seed() {
        if (seeded) {
            return;
        }
        for (String r : DATA) {
            JsonNode stored = json(C.put(r.replace('\'', '"')));
            LAST_UPDATED.put(stored.path("resourceType").asText() + "/" + stored.path("id").asText(),
                    stored.path("meta").path("lastUpdated").asText());
        }
        seeded = true;
    }

    static Map<String, Long> storedCounts(String tenant) throws Exception {
        Map<String, Long> counts = new TreeMap<>();
        try (Connection c = PostgresTestResource.jdbc();
             PreparedStatement s = c.prepareStatement(
                     "SELECT resource_type, count(*) FROM resource WHERE tenant = ? AND NOT deleted GROUP BY resource_type")) {
            s.setString(1, tenant);
            ResultSet rs = s.executeQuery();
            while (rs.next()) {
                counts.put(rs.getString(1), rs.getLong(2));
            }
        }
        return counts;
    }

    static Set<String> set(String... s) {
        return new TreeSet<>(Arrays.asList(s));
    }

    /** Resources referencing each patient anywhere in their JSON, computed from the test data itself. */
    static Map<String, Set<String>> compartmentOf(Set<String> patients) {
        Map<String, Set<String>> out = new TreeMap<>();
        for (String raw : DATA) {
            JsonNode r = json(raw.replace('\'', '"'));
            String type = r.path("resourceType").asText();
            String id = r.path("id").asText();
            boolean member = type.equals("Patient") ? patients.contains(id)
                    : r.findValuesAsText("reference").stream().anyMatch(ref -> ref.startsWith("Patient/")
                    && patients.contains(ref.substring(8)));
            if (member) {
                out.computeIfAbsent(type, k -> new TreeSet<>()).add(id);
            }
        }
        return out;
    }

    static void assertValid(Map<String, List<JsonNode>> outputs) {
        outputs.forEach((type, rs) -> rs.forEach(r -> {
            List<String> errors = R4Validation.errors(r.toString());
            assertTrue(errors.isEmpty(), type + "/" + r.path("id").asText() + " is not valid R4: " + errors);
        }));
    }

    // ------------------------------------------------------------------ levels

    @Test
    void systemExportHasEveryStoredResourceWithExactCounts() throws Exception {
        String status = C.kickoff("/$export", "_outputFormat", "application/fhir+ndjson");
        JsonNode m = complete(status);
        assertTrue(m.path("request").asText().endsWith("/tenants/api-life/fhir/$export?_outputFormat=application%2Ffhir%2Bndjson")
                || m.path("request").asText().contains("/tenants/api-life/fhir/$export?_outputFormat="), m.path("request").asText());
        assertFalse(m.path("requiresAccessToken").asBoolean());
        assertTrue(m.path("error").isArray());
        Instant tt = Instant.parse(m.path("transactionTime").asText());
        assertTrue(tt.isAfter(Instant.parse(LAST_UPDATED.get("Group/g1"))), "transactionTime after the last write");
        Map<String, List<JsonNode>> out = outputs(m);
        Map<String, Long> exported = new TreeMap<>();
        out.forEach((t, rs) -> exported.put(t, (long) rs.size()));
        Map<String, Long> manifestCounts = new TreeMap<>();
        m.path("output").forEach(o -> manifestCounts.merge(o.path("type").asText(), o.path("count").asLong(), Long::sum));
        assertEquals(storedCounts(TENANT), exported);
        assertEquals(storedCounts(TENANT), manifestCounts);
        assertValid(out);
        for (JsonNode o : m.path("output")) {
            assertTrue(o.path("url").asText().startsWith(status.substring(0, status.indexOf("/$export-status/")) + "/$export-file/"),
                    o.path("url").asText());
        }
    }

    @Test
    void patientLevelIsTheCompartmentUnion() {
        JsonNode m = complete(C.kickoff("/Patient/$export"));
        Map<String, Set<String>> got = ids(outputs(m));
        Map<String, Set<String>> expected = compartmentOf(set("p1", "p2", "p3"));
        expected.forEach((type, want) -> assertEquals(want, got.get(type), "Patient-level " + type));
        got.keySet().stream().filter(t -> !expected.containsKey(t))
                .forEach(t -> assertTrue(io.sluice.fhir.PatientCompartment.params(t).isEmpty(),
                        t + " is no Patient compartment type but was exported as one"));
        assertTrue(got.get("Patient").size() >= 2);
    }

    @Test
    void groupLevelHasOnlyMembersData() {
        JsonNode m = complete(C.kickoff("/Group/g1/$export"));
        Map<String, Set<String>> got = ids(outputs(m));
        Map<String, Set<String>> expected = compartmentOf(set("p1", "p2"));
        expected.forEach((type, want) -> assertEquals(want, got.get(type), "Group-level " + type));
        assertFalse(got.values().stream().anyMatch(s -> s.contains("p3") || s.contains("o3")), got.toString());

        Response unknown = async().get(C.base + "/Group/nope/$export");
        assertEquals(404, unknown.statusCode());
        assertEquals("OperationOutcome", json(unknown.asString()).path("resourceType").asText());
    }

    @Test
    void postParametersEqualsGet() {
        String since = LAST_UPDATED.get("Patient/p2");
        JsonNode viaGet = complete(C.kickoff("/Patient/$export", "_type", "Patient,Observation", "_type", "Condition", "_since", since));
        JsonNode viaPost = complete(C.kickoffPost("/Patient/$export", """
                {"resourceType":"Parameters","parameter":[
                 {"name":"_type","valueString":"Patient,Observation"},{"name":"_type","valueString":"Condition"},
                 {"name":"_since","valueInstant":"%s"}]}""".formatted(since)));
        assertEquals(ids(outputs(viaGet)), ids(outputs(viaPost)));
        assertEquals(set("Condition", "Observation", "Patient"), ids(outputs(viaGet)).keySet());
    }

    @Test
    void patientParameterLimitsToThosePatients() {
        JsonNode m = complete(C.kickoffPost("/Patient/$export", """
                {"resourceType":"Parameters","parameter":[
                 {"name":"_type","valueString":"Patient,Observation,Condition,Encounter"},
                 {"name":"patient","valueReference":{"reference":"Patient/p2"}}]}"""));
        Map<String, Set<String>> got = ids(outputs(m));
        assertEquals(Map.of("Patient", set("p2"), "Observation", set("o2"), "Condition", set("c2")), got);
        Response systemLevel = async().contentType("application/fhir+json").body("""
                {"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"Patient/p2"}}]}""")
                .post(C.base + "/$export");
        assertEquals(400, systemLevel.statusCode());
    }

    // ------------------------------------------------------------------ parameters

    @Test
    void typeAndTypeFilter() {
        Map<String, Set<String>> got = ids(outputs(complete(C.kickoff("/$export", "_type", "Observation",
                "_typeFilter", "Observation?code=http://loinc.org|8867-4&status=final"))));
        assertEquals(Map.of("Observation", set("o1")), got);

        got = ids(outputs(complete(C.kickoff("/$export", "_type", "Observation,Condition,Encounter",
                "_typeFilter", "Observation?date=ge2021-01-01", "_typeFilter", "Observation?_id=o1",
                "_typeFilter", "Condition?clinical-status=active", "_typeFilter", "Encounter?date=eb2020-01-01"))));
        assertEquals(set("o1", "o2", "o3"), got.get("Observation"));
        assertEquals(set("c1"), got.get("Condition"));
        assertEquals(null, got.get("Encounter"));

        got = ids(outputs(complete(C.kickoff("/Patient/$export", "_type", "Observation,Patient",
                "_typeFilter", "Observation?patient=Patient/p2,p3&date=2021"))));
        assertEquals(set("o2"), got.get("Observation"));
        assertEquals(set("p1", "p2", "p3"), got.get("Patient"));
    }

    @Test
    void elementsSubsetsAndTags() {
        Map<String, List<JsonNode>> out = outputs(complete(C.kickoff("/$export", "_type", "Observation", "_elements", "status")));
        assertEquals(3, out.get("Observation").size());
        for (JsonNode o : out.get("Observation")) {
            assertFalse(o.has("valueQuantity"), o.toString());
            assertTrue(o.has("status"), o.toString());
            assertTrue(o.path("meta").path("tag").findValuesAsText("code").contains("SUBSETTED"), o.toString());
        }
    }

    @Test
    void sinceAndUntilAreInclusive() {
        String edge = LAST_UPDATED.get("Observation/o2");
        Map<String, List<JsonNode>> since = outputs(complete(C.kickoff("/$export", "_since", edge)));
        Map<String, List<JsonNode>> until = outputs(complete(C.kickoff("/$export", "_until", edge)));
        Set<String> sinceRefs = new TreeSet<>();
        since.forEach((t, rs) -> rs.forEach(r -> sinceRefs.add(t + "/" + r.path("id").asText())));
        Set<String> untilRefs = new TreeSet<>();
        until.forEach((t, rs) -> rs.forEach(r -> untilRefs.add(t + "/" + r.path("id").asText())));
        Instant e = Instant.parse(edge);
        LAST_UPDATED.forEach((ref, lu) -> {
            Instant t = Instant.parse(lu);
            assertEquals(!t.isBefore(e), sinceRefs.contains(ref), "_since " + edge + " and " + ref + " at " + lu);
            assertEquals(!t.isAfter(e), untilRefs.contains(ref), "_until " + edge + " and " + ref + " at " + lu);
        });
        assertTrue(sinceRefs.contains("Observation/o2") && untilRefs.contains("Observation/o2"));
        Response bad = async().queryParam("_since", "2024-01-01").get(C.base + "/$export");
        assertEquals(400, bad.statusCode());
        bad = async().queryParam("_since", "2024-01-02T00:00:00Z").queryParam("_until", "2024-01-01T00:00:00Z").get(C.base + "/$export");
        assertEquals(400, bad.statusCode());
    }

    @Test
    void deletedListsResourcesDeletedSince() {
        BulkClient d = BulkClient.tenant("api-del");
        d.put("{\"resourceType\":\"Patient\",\"id\":\"x1\"}");
        String second = d.put("{\"resourceType\":\"Patient\",\"id\":\"x2\"}");
        d.put("{\"resourceType\":\"Patient\",\"id\":\"x3\"}");
        String since = json(second).path("meta").path("lastUpdated").asText();
        d.delete("Patient", "x3");
        d.delete("Patient", "x1");
        JsonNode m = complete(d.kickoff("/$export", "_since", since));
        assertEquals(Map.of("Patient", set("x2")), ids(outputs(m)));
        Set<String> deleted = new TreeSet<>();
        for (JsonNode f : m.path("deleted")) {
            assertEquals("Bundle", f.path("type").asText());
            List<String> lines = BulkClient.lines(f.path("url").asText());
            assertEquals(f.path("count").asLong(), lines.size());
            for (String l : lines) {
                JsonNode b = json(l);
                assertEquals("Bundle", b.path("resourceType").asText());
                assertEquals("transaction", b.path("type").asText());
                for (JsonNode entry : b.path("entry")) {
                    assertEquals("DELETE", entry.path("request").path("method").asText());
                    deleted.add(entry.path("request").path("url").asText());
                }
                assertTrue(R4Validation.errors(l).isEmpty(), R4Validation.errors(l).toString());
            }
        }
        assertEquals(set("Patient/x1", "Patient/x3"), deleted);
        JsonNode all = complete(d.kickoff("/$export"));
        assertEquals(Map.of("Patient", set("x2")), ids(outputs(all)));
    }

    @Test
    void strictRefusesLenientReportsInErrorFiles() {
        Response strict = async().queryParam("_foo", "1").get(C.base + "/$export");
        assertEquals(400, strict.statusCode());
        JsonNode oo = json(strict.asString());
        assertEquals("OperationOutcome", oo.path("resourceType").asText());
        assertTrue(oo.toString().contains("_foo"), oo.toString());
        assertEquals(400, async().header("Prefer", "handling=strict").queryParam("includeAssociatedData", "LatestProvenanceResources")
                .get(C.base + "/$export").statusCode());

        Response lenient = given().header("Prefer", "respond-async, handling=lenient")
                .queryParam("_type", "Patient").queryParam("_foo", "1")
                .queryParam("includeAssociatedData", "LatestProvenanceResources")
                .get(C.base + "/$export");
        assertEquals(202, lenient.statusCode(), lenient.asString());
        JsonNode m = complete(lenient.header("Content-Location"));
        assertEquals(set("p1", "p2", "p3"), ids(outputs(m)).get("Patient"));
        StringBuilder errors = new StringBuilder();
        for (JsonNode f : m.path("error")) {
            assertEquals("OperationOutcome", f.path("type").asText());
            for (String l : BulkClient.lines(f.path("url").asText())) {
                assertEquals("OperationOutcome", json(l).path("resourceType").asText());
                errors.append(l);
            }
        }
        assertTrue(errors.toString().contains("_foo"), errors.toString());
        assertTrue(errors.toString().contains("LatestProvenanceResources"), errors.toString());

        // malformed values stay 400 even when lenient
        assertEquals(400, given().header("Prefer", "respond-async, handling=lenient").queryParam("_type", "Nope")
                .get(C.base + "/$export").statusCode());
        assertEquals(400, given().header("Prefer", "respond-async, handling=lenient")
                .queryParam("_typeFilter", "Observation?_include=Observation:subject").get(C.base + "/$export").statusCode());
    }

    @Test
    void kickoffHeadersAreChecked() {
        Response noPrefer = given().header("Accept", "application/fhir+json").get(C.base + "/$export");
        assertEquals(400, noPrefer.statusCode());
        assertTrue(noPrefer.asString().contains("respond-async"));
        assertEquals(406, given().header("Prefer", "respond-async").header("Accept", "text/csv").get(C.base + "/$export").statusCode());
        assertEquals(202, given().header("Prefer", "respond-async").get(C.base + "/$export").statusCode());
        assertEquals(400, async().queryParam("_outputFormat", "text/csv").get(C.base + "/$export").statusCode());
    }

    // ------------------------------------------------------------------ status, cancel, files

    @Test
    void cancelThenNotFound() {
        String status = C.kickoff("/$export");
        Response del = given().delete(status);
        assertEquals(202, del.statusCode());
        assertEquals("OperationOutcome", json(del.asString()).path("resourceType").asText());
        Response after = given().get(status);
        assertEquals(404, after.statusCode());
        assertEquals("OperationOutcome", json(after.asString()).path("resourceType").asText());
        assertEquals(404, given().delete(status).statusCode());

        String done = C.kickoff("/$export", "_type", "Patient");
        JsonNode m = complete(done);
        String file = m.path("output").get(0).path("url").asText();
        assertEquals(200, given().get(file).statusCode());
        assertEquals(202, given().delete(done).statusCode());
        assertEquals(404, given().get(done).statusCode());
        assertEquals(404, given().get(file).statusCode());
    }

    @Test
    void unknownMalformedAndForeignJobsAre404() {
        String status = C.kickoff("/$export", "_type", "Patient");
        JsonNode m = complete(status);
        String id = status.substring(status.lastIndexOf('/') + 1);
        String file = m.path("output").get(0).path("url").asText();
        String fileName = file.substring(file.lastIndexOf('/') + 1);
        for (String path : List.of(
                "/tenants/api-other/fhir/$export-status/" + id,
                C.base + "/$export-status/" + UUID.randomUUID(),
                C.base + "/$export-status/not-a-uuid",
                "/tenants/api-other/fhir/$export-file/" + id + "/" + fileName,
                C.base + "/$export-file/" + id + "/output-Patient-99.ndjson",
                C.base + "/$export-file/" + id + "/..%2F..%2Fpasswd",
                C.base + "/$export-file/" + id + "/output-Patient-0.ndjson%2F..",
                C.base + "/$export-file/" + id + "/..")) {
            Response r = given().urlEncodingEnabled(false).get(path);
            assertEquals(404, r.statusCode(), path);
        }
        Response r = given().get(C.base + "/$export-status/not-a-uuid");
        assertEquals("OperationOutcome", json(r.asString()).path("resourceType").asText());
        assertEquals(404, given().delete("/tenants/api-other/fhir/$export-status/" + id).statusCode());
        assertEquals(200, given().get(status).statusCode(), "a foreign DELETE must not cancel the job");
    }

    @Test
    void gzipRangeAndEtagDownloads() throws Exception {
        JsonNode m = complete(C.kickoff("/$export", "_type", "Observation"));
        String url = m.path("output").get(0).path("url").asText();
        var raw = RestAssured.config().decoderConfig(DecoderConfig.decoderConfig().noContentDecoders());
        Response plain = given().config(raw).get(url);
        assertEquals(null, plain.header("Content-Encoding"));
        byte[] full = plain.asByteArray();
        String etag = plain.header("ETag");
        assertNotNull(etag);
        assertTrue(etag.matches("\"[0-9a-f]{64}\""), etag);
        assertEquals(String.valueOf(full.length), plain.header("Content-Length"));

        Response gz = given().config(raw).header("Accept-Encoding", "gzip").get(url);
        assertEquals(200, gz.statusCode());
        assertEquals("gzip", gz.header("Content-Encoding"));
        assertTrue(gz.contentType().startsWith("application/fhir+ndjson"));
        byte[] inflated = new GZIPInputStream(new ByteArrayInputStream(gz.asByteArray())).readAllBytes();
        assertArrayEquals(full, inflated);

        Response range = given().header("Range", "bytes=0-9").get(url);
        assertEquals(206, range.statusCode());
        assertEquals("bytes 0-9/" + full.length, range.header("Content-Range"));
        assertArrayEquals(Arrays.copyOfRange(full, 0, 10), range.asByteArray());
        Response tail = given().header("Range", "bytes=-7").get(url);
        assertEquals(206, tail.statusCode());
        assertArrayEquals(Arrays.copyOfRange(full, full.length - 7, full.length), tail.asByteArray());
        Response open = given().header("Range", "bytes=5-").get(url);
        assertArrayEquals(Arrays.copyOfRange(full, 5, full.length), open.asByteArray());
        Response unsat = given().header("Range", "bytes=" + full.length + "-").get(url);
        assertEquals(416, unsat.statusCode());
        assertEquals("bytes */" + full.length, unsat.header("Content-Range"));
        assertEquals(304, given().header("If-None-Match", etag).get(url).statusCode());
        String text = new String(full, StandardCharsets.UTF_8);
        assertEquals(3, text.split("\n").length);
    }

    @Test
    void forwardedHeadersShapeEveryUrl() {
        Response k = async().header("X-Forwarded-Proto", "https").header("X-Forwarded-Host", "proxy.example.org")
                .header("X-Forwarded-Prefix", "/sluice").queryParam("_type", "Patient").get(C.base + "/$export");
        assertEquals(202, k.statusCode());
        String location = k.header("Content-Location");
        assertTrue(location.startsWith("https://proxy.example.org/sluice/tenants/api-life/fhir/$export-status/"), location);
        String local = location.substring("https://proxy.example.org/sluice".length());
        JsonNode m = complete(local);
        Response status = given().header("X-Forwarded-Proto", "https").header("X-Forwarded-Host", "proxy.example.org:8443")
                .header("X-Forwarded-Prefix", "/sluice").get(local);
        JsonNode viaProxy = json(status.asString());
        assertTrue(viaProxy.path("request").asText().startsWith("https://proxy.example.org/sluice/tenants/api-life/fhir/$export"),
                viaProxy.path("request").asText());
        for (JsonNode o : viaProxy.path("output")) {
            assertTrue(o.path("url").asText().startsWith("https://proxy.example.org:8443/sluice/tenants/api-life/fhir/$export-file/"),
                    o.path("url").asText());
        }
        assertTrue(m.path("output").size() > 0);
    }

    @Test
    void errorJobIs500AndRunningJobShowsProgress() throws Exception {
        UUID failed = UUID.randomUUID();
        UUID running = UUID.randomUUID();
        try (Connection c = PostgresTestResource.jdbc()) {
            try (PreparedStatement s = c.prepareStatement("""
                    INSERT INTO export_job (id, tenant, status, level, request, request_url, transaction_time, created_at,
                                            started_at, completed_at, error_message, worker_id, lease_expires_at)
                    VALUES (?, 'api-state', ?, 'system', '{}'::jsonb, 'http://x/fhir/$export', now(), now(), now(), ?, ?, ?, ?)""")) {
                s.setObject(1, failed);
                s.setString(2, "error");
                s.setObject(3, java.time.OffsetDateTime.now());
                s.setString(4, "output disk full while writing Observation part 3");
                s.setString(5, null);
                s.setObject(6, null);
                s.executeUpdate();
                s.setObject(1, running);
                s.setString(2, "in-progress");
                s.setObject(3, null);
                s.setString(4, null);
                s.setString(5, "another-worker");
                s.setObject(6, java.time.OffsetDateTime.now().plusHours(1));
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO export_type_progress (job_id, resource_type, exported, total, done) VALUES (?, ?, ?, ?, ?)")) {
                s.setObject(1, running);
                s.setString(2, "Patient");
                s.setLong(3, 10);
                s.setLong(4, 10);
                s.setBoolean(5, true);
                s.executeUpdate();
                s.setString(2, "Observation");
                s.setLong(3, 20);
                s.setLong(4, 70);
                s.setBoolean(5, false);
                s.executeUpdate();
            }
        }
        Response err = given().get("/tenants/api-state/fhir/$export-status/" + failed);
        assertEquals(500, err.statusCode());
        JsonNode oo = json(err.asString());
        assertEquals("OperationOutcome", oo.path("resourceType").asText());
        assertTrue(oo.toString().contains("disk full"), oo.toString());

        Response prog = given().get("/tenants/api-state/fhir/$export-status/" + running);
        assertEquals(202, prog.statusCode());
        String x = prog.header("X-Progress");
        assertTrue(x.contains("1 of 2 types done") && x.contains("30 resources exported") && x.contains("(37%)"), x);
        assertTrue(Integer.parseInt(prog.header("Retry-After")) <= 2);
        try (Connection c = PostgresTestResource.jdbc(); var s = c.prepareStatement("UPDATE export_job SET status = 'cancelled', completed_at = now() WHERE id = ?")) {
            s.setObject(1, running);
            s.executeUpdate();
        }
    }

    @Test
    void tooManyActiveJobsIs429EvenUnderConcurrentKickoffs() throws Exception {
        String tenant = "api-limit";
        int max = 10; // sluice.export.max-active-jobs-per-tenant default
        List<UUID> held = new ArrayList<>();
        try (Connection c = PostgresTestResource.jdbc(); PreparedStatement s = c.prepareStatement("""
                INSERT INTO export_job (id, tenant, status, level, request, request_url, transaction_time, created_at,
                                        started_at, worker_id, lease_expires_at)
                VALUES (?, ?, 'in-progress', 'system', '{}'::jsonb, 'http://x/fhir/$export', now(), now(), now(),
                        'another-worker', now() + interval '1 hour')""")) {
            for (int i = 0; i < max - 2; i++) {
                UUID id = UUID.randomUUID();
                held.add(id);
                s.setObject(1, id);
                s.setString(2, tenant);
                s.executeUpdate();
            }
        }
        BulkClient t = BulkClient.tenant(tenant);
        t.put("{\"resourceType\":\"Patient\",\"id\":\"busy\"}");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Response>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Callable<Response> k = () -> async().queryParam("_type", "Patient").get(t.base + "/$export");
                results.add(pool.submit(k));
            }
            int accepted = 0;
            int throttled = 0;
            for (Future<Response> f : results) {
                Response r = f.get();
                if (r.statusCode() == 202) {
                    accepted++;
                } else {
                    assertEquals(429, r.statusCode(), r.asString());
                    assertNotNull(r.header("Retry-After"));
                    assertEquals("OperationOutcome", json(r.asString()).path("resourceType").asText());
                    throttled++;
                }
            }
            // the two free slots may be used, and freed again by jobs finishing in between: never more than max at once
            assertTrue(accepted >= 2 && throttled >= 1, "accepted " + accepted + ", throttled " + throttled);
        } finally {
            pool.shutdownNow();
        }
        try (Connection c = PostgresTestResource.jdbc(); var s = c.prepareStatement(
                "SELECT count(*) FROM export_job WHERE tenant = ? AND status IN ('accepted', 'in-progress')")) {
            s.setString(1, tenant);
            ResultSet rs = s.executeQuery();
            rs.next();
            assertTrue(rs.getLong(1) <= max, "active jobs " + rs.getLong(1));
        }
        try (Connection c = PostgresTestResource.jdbc(); var s = c.prepareStatement(
                "UPDATE export_job SET status = 'cancelled', completed_at = now() WHERE id = ANY (?)")) {
            s.setArray(1, c.createArrayOf("uuid", held.toArray()));
            s.executeUpdate();
        }
        assertEquals(202, async().get(t.base + "/$export").statusCode(), "after the limit clears, kick-offs are accepted again");
    }

    @Test
    void capabilityAndOperationDefinitions() {
        Response md = given().get("/fhir/metadata");
        assertEquals(200, md.statusCode());
        JsonNode cs = json(md.asString());
        assertTrue(cs.path("instantiates").toString().contains("http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"));
        String s = cs.toString();
        for (String d : List.of("export", "patient-export", "group-export")) {
            assertTrue(s.contains("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/" + d), d);
            Response od = given().get(C.base + "/OperationDefinition/" + d);
            assertEquals(200, od.statusCode(), d);
            assertEquals(d, json(od.asString()).path("id").asText());
            assertTrue(R4Validation.errors(od.asString()).isEmpty(), R4Validation.errors(od.asString()).toString());
        }
    }
}
