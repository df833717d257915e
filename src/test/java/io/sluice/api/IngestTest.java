package io.sluice.api;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
class IngestTest {

    static final String MIXED = String.join("\n",
            "{\"resourceType\":\"Patient\",\"id\":\"ing-p1\",\"gender\":\"female\"}",       // 1 ok
            "{\"resourceType\":\"Patient\",\"id\":\"ing-p2\",",                              // 2 malformed
            "{\"resourceType\":\"Alien\",\"id\":\"a1\"}",                                     // 3 unknown type
            "",                                                                               // 4 blank, skipped
            "{\"resourceType\":\"Observation\",\"status\":\"final\"}",                       // 5 no id
            "{\"resourceType\":\"Observation\",\"id\":\"ing-o1\",\"subject\":{\"reference\":\"Patient/ing-p1\"}}\r", // 6 ok, CRLF
            "[1,2,3]",                                                                        // 7 not an object
            "{\"resourceType\":\"Patient\",\"id\":\"ing-p1\",\"gender\":\"male\"}",          // 8 ok: version 2
            "{\"resourceType\":\"Patient\",\"id\":\"bad_id\"}",                              // 9 bad id
            "{\"resourceType\":\"Patient\",\"id\":\"ing-p3\"} trailing",                     // 10 trailing garbage
            "{\"id\":\"x\"}");                                                                // 11 no resourceType

    /**
     * A large ingest refreshes the planner statistics after it answered: ANALYZE of resource_version
     * shows up in pg_stat_user_tables shortly after the response (the ingest adds more than a tenth of
     * the rows the planner knows, and at least sluice.store.analyze-after-ingest-rows).
     */
    /** Large resources are stored lz4-compressed (migration V41) when the server has lz4, and read back intact. */
    @Test
    void largeResourcesAreStoredWithLz4() throws Exception {
        try (Connection c = PostgresTestResource.jdbc(); var s = c.createStatement()) {
            try {
                s.execute("CREATE TEMP TABLE lz4_probe (x text COMPRESSION lz4)");
            } catch (java.sql.SQLException e) {
                org.junit.jupiter.api.Assumptions.abort("this PostgreSQL has no lz4: " + e.getMessage());
            }
        }
        String text = "lorem ipsum dolor sit amet ".repeat(400);
        given().contentType("application/fhir+ndjson")
                .body(("{\"resourceType\":\"Basic\",\"id\":\"big-note\",\"text\":{\"status\":\"generated\",\"div\":\"" + text + "\"}}\n").getBytes(StandardCharsets.UTF_8))
                .post("/tenants/lz4/fhir/$ingest").then().statusCode(200);
        try (Connection c = PostgresTestResource.jdbc(); var s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT pg_column_compression(content), pg_column_size(content) < octet_length(content) "
                    + "FROM resource_version WHERE tenant = 'lz4' AND id = 'big-note'");
            assertTrue(rs.next());
            assertEquals("lz4", rs.getString(1));
            assertTrue(rs.getBoolean(2), "compressed");
        }
        given().get("/tenants/lz4/fhir/Basic/big-note").then().statusCode(200).body("text.div", equalTo(text));
    }

    /**
     * Stored JSON travels to PostgreSQL as UTF-8 bytes: text outside ASCII (two-, three- and four-byte
     * characters) and JSON escapes come back byte for byte, from the ingest's streaming path (a line in
     * stored form), from its tree path (a line with whitespace) and from a PUT.
     */
    @Test
    void textOutsideAsciiIsStoredExactly() {
        String name = "Zoë Ångström 中文 \\u00e9 \\\" 😀";
        String streamed = "{\"resourceType\":\"Patient\",\"id\":\"utf-1\",\"name\":[{\"text\":\"" + name + "\"}]}";
        String tree = "{ \"resourceType\":\"Patient\",\"id\":\"utf-2\",\"name\":[{\"text\":\"" + name + "\"}]}";
        Response r = given().contentType("application/fhir+ndjson")
                .body((streamed + "\n" + tree + "\n").getBytes(StandardCharsets.UTF_8))
                .post("/tenants/utf8/fhir/$ingest");
        r.then().statusCode(200).body("parameter.find { it.name == 'stored' }.valueInteger", equalTo(2));
        given().contentType("application/fhir+json").body(tree.replace("utf-2", "utf-3").getBytes(StandardCharsets.UTF_8))
                .put("/tenants/utf8/fhir/Patient/utf-3").then().statusCode(201);
        String expected = "Zoë Ångström 中文 é \" 😀";
        for (String id : List.of("utf-1", "utf-2", "utf-3")) {
            given().get("/tenants/utf8/fhir/Patient/" + id).then().statusCode(200)
                    .body("name[0].text", equalTo(expected));
        }
        String body = given().get("/tenants/utf8/fhir/Patient/utf-1").then().extract().body().asString();
        assertTrue(body.endsWith(",\"name\":[{\"text\":\"" + name + "\"}]}"), "the line's own text is kept: " + body);
    }

    @Test
    void aLargeIngestRefreshesThePlannerStatisticsAfterItsAnswer() throws Exception {
        long known;
        java.sql.Timestamp before;
        try (Connection c = PostgresTestResource.jdbc(); var s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT greatest(reltuples, 0)::bigint, now() FROM pg_class "
                    + "WHERE oid = 'resource_version'::regclass");
            rs.next();
            known = rs.getLong(1);
            before = rs.getTimestamp(2);
        }
        int n = (int) Math.max(5000, known + 100);   // at least doubles the rows the planner knows
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < n; i++) {
            body.append("{\"resourceType\":\"Patient\",\"id\":\"an-").append(i).append("\"}\n");
        }
        given().contentType("application/fhir+ndjson").body(body.toString().getBytes(StandardCharsets.UTF_8))
                .post("/tenants/analyze/fhir/$ingest").then().statusCode(200)
                .body("parameter.find { it.name == 'stored' }.valueInteger", equalTo(n));
        long end = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
        while (true) {
            try (Connection c = PostgresTestResource.jdbc(); var ps = c.prepareStatement(
                    "SELECT last_analyze >= ? FROM pg_stat_user_tables WHERE relname = 'resource_version'")) {
                ps.setTimestamp(1, before);
                ResultSet rs = ps.executeQuery();
                if (rs.next() && rs.getBoolean(1)) {
                    break;
                }
            }
            assertTrue(System.nanoTime() < end, "no ANALYZE of resource_version after an ingest of " + n + " resources");
            Thread.sleep(100);
        }
    }

    /**
     * Lines travel as the bytes received: one that is not well-formed UTF-8 (a surrogate, an overlong form,
     * a stray byte inside a string, none of which PostgreSQL stores as text) is rejected with its line
     * number, and the lines around it are stored.
     */
    @Test
    void linesThatAreNotUtf8AreRejected() throws Exception {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        String head = "{\"resourceType\":\"Patient\",\"id\":\"";
        body.write((head + "u8-ok1\",\"gender\":\"male\"}\n").getBytes(StandardCharsets.UTF_8));
        for (byte[] bad : List.of(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, new byte[] {(byte) 0xC0, (byte) 0xAF},
                new byte[] {'a', (byte) 0xFF, 'b'})) {
            body.write((head + "u8-bad\",\"name\":[{\"text\":\"").getBytes(StandardCharsets.UTF_8));
            body.write(bad);
            body.write("\"}]}\n".getBytes(StandardCharsets.UTF_8));
        }
        body.write((head + "u8-ok2\",\"name\":[{\"text\":\"Zoë\"}]}\n").getBytes(StandardCharsets.UTF_8));
        Response r = given().contentType("application/fhir+ndjson").body(body.toByteArray()).post("/tenants/u8/fhir/$ingest");
        r.then().statusCode(200);
        var jp = r.jsonPath();
        assertEquals(2, jp.getInt("parameter.find { it.name == 'stored' }.valueInteger"));
        assertEquals(List.of(2, 3, 4), jp.getList("parameter.findAll { it.name == 'rejectedLine' }.part.flatten()"
                + ".findAll { it.name == 'line' }.valueInteger"));
        for (String reason : jp.<String>getList("parameter.findAll { it.name == 'rejectedLine' }.part.flatten()"
                + ".findAll { it.name == 'reason' }.valueString")) {
            assertTrue(reason.contains("UTF-8"), reason);
        }
        given().get("/tenants/u8/fhir/Patient/u8-ok2").then().statusCode(200).body("name[0].text", equalTo("Zoë"));
        given().get("/tenants/u8/fhir/Patient/u8-bad").then().statusCode(404);
    }

    /**
     * The batches of an ingest are written as creates until one meets a resource that exists; that batch is
     * written again as upserts (so are the later ones): resources already stored get a new version, new ones
     * their first.
     */
    @Test
    void anIngestOverStoredResourcesAddsVersions() throws Exception {
        StringBuilder first = new StringBuilder();
        StringBuilder second = new StringBuilder();
        for (int i = 0; i < 600; i++) {
            String line = "{\"resourceType\":\"Observation\",\"id\":\"re-" + i + "\",\"status\":\"%s\","
                    + "\"subject\":{\"reference\":\"Patient/rp\"}}\n";
            if (i % 2 == 0) {
                first.append(line.formatted("preliminary"));
            }
            second.append(line.formatted("final")); // every other one exists, from the first line on
        }
        given().contentType("application/fhir+ndjson").body(first.toString().getBytes(StandardCharsets.UTF_8)).post("/tenants/reingest/fhir/$ingest")
                .then().statusCode(200).body("parameter.find { it.name == 'stored' }.valueInteger", equalTo(300));
        given().contentType("application/fhir+ndjson").body(second.toString().getBytes(StandardCharsets.UTF_8)).post("/tenants/reingest/fhir/$ingest")
                .then().statusCode(200).body("parameter.find { it.name == 'stored' }.valueInteger", equalTo(600));
        given().get("/tenants/reingest/fhir/Observation/re-0").then().statusCode(200)
                .header("ETag", "W/\"2\"").body("status", equalTo("final"));
        given().get("/tenants/reingest/fhir/Observation/re-0/_history/1").then().statusCode(200).body("status", equalTo("preliminary"));
        given().get("/tenants/reingest/fhir/Observation/re-599").then().statusCode(200).header("ETag", "W/\"1\"");
        try (Connection c = PostgresTestResource.jdbc(); var s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT count(*), count(*) FILTER (WHERE valid_to IS NULL), "
                    + "(SELECT count(*) FROM resource_compartment WHERE tenant = 'reingest') FROM resource_version WHERE tenant = 'reingest'");
            rs.next();
            assertEquals(900, rs.getLong(1));
            assertEquals(600, rs.getLong(2), "one open version per resource");
            assertEquals(900, rs.getLong(3), "one compartment row per version");
        }
    }

    @Test
    void goodLinesStoredBadLinesReportedWithLineNumbers() throws Exception {
        Response r = given().contentType("application/fhir+ndjson").body(MIXED.getBytes(StandardCharsets.UTF_8))
                .post("/tenants/ing/fhir/$ingest");
        checkMixedReport(r);
        given().get("/tenants/ing/fhir/Patient/ing-p1").then().statusCode(200).body("gender", equalTo("male"))
                .header("ETag", "W/\"2\"");
        given().get("/tenants/ing/fhir/Patient/ing-p1/_history/1").then().statusCode(200).body("gender", equalTo("female"));
        given().get("/tenants/ing/fhir/Observation/ing-o1").then().statusCode(200);
        given().get("/tenants/ing/fhir/Patient/ing-p3").then().statusCode(404);
        given().get("/fhir/Patient/ing-p1").then().statusCode(404);
        try (Connection c = PostgresTestResource.jdbc(); var s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT resource_type, id FROM resource_compartment WHERE tenant = 'ing' "
                    + "AND patient_id = 'ing-p1' ORDER BY 1, 2");
            StringBuilder sb = new StringBuilder();
            while (rs.next()) {
                sb.append(rs.getString(1)).append('/').append(rs.getString(2)).append(' ');
            }
            assertEquals("Observation/ing-o1 Patient/ing-p1 Patient/ing-p1 ", sb.toString(), "one row per Patient version");
        }
    }

    @Test
    void gzipBodyAndOtherNdjsonMediaTypes() throws Exception {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(MIXED.getBytes(StandardCharsets.UTF_8));
        }
        Response r = given().contentType("application/x-ndjson").header("Content-Encoding", "gzip").body(bos.toByteArray())
                .post("/tenants/ing-gz/fhir/$ingest");
        checkMixedReport(r);
        given().get("/tenants/ing-gz/fhir/Patient/ing-p1").then().statusCode(200).body("gender", equalTo("male"));
        given().contentType("application/ndjson").header("Content-Encoding", "gzip").body("not gzip".getBytes())
                .post("/tenants/ing-gz/fhir/$ingest").then().statusCode(400).body("resourceType", equalTo("OperationOutcome"));
        given().contentType("application/ndjson").header("Content-Encoding", "br").body("{}".getBytes())
                .post("/tenants/ing-gz/fhir/$ingest").then().statusCode(415).body("resourceType", equalTo("OperationOutcome"));
    }

    @Test
    void manyBatchesWithRepeatsAcrossAndWithinBatches() throws Exception {
        StringBuilder sb = new StringBuilder();
        int n = 4500;
        for (int i = 0; i < n; i++) {
            sb.append("{\"resourceType\":\"Observation\",\"id\":\"m-").append(i % 3000)
                    .append("\",\"status\":\"final\",\"subject\":{\"reference\":\"Patient/mp-").append(i % 7).append("\"}}\n");
            if (i == 10) {
                sb.append("{\"resourceType\":\"Observation\",\"id\":\"m-10\",\"status\":\"amended\"}\n");
            }
        }
        Response r = given().contentType("application/fhir+ndjson").body(sb.toString().getBytes(StandardCharsets.UTF_8))
                .post("/tenants/many/fhir/$ingest");
        r.then().statusCode(200);
        assertEquals(n + 1, r.jsonPath().getInt("parameter.find { it.name == 'stored' }.valueInteger"));
        try (Connection c = PostgresTestResource.jdbc(); var s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT count(*), count(*) FILTER (WHERE valid_to IS NULL), max(version_id) "
                    + "FROM resource_version WHERE tenant = 'many'");
            rs.next();
            assertEquals(n + 1, rs.getLong(1));
            assertEquals(3000, rs.getLong(2), "exactly one open version per resource");
            assertEquals(3, rs.getLong(3), "m-10 has three versions");
            rs = s.executeQuery("SELECT count(*) FROM resource_version a JOIN resource_version b ON a.tenant = b.tenant "
                    + "AND a.resource_type = b.resource_type AND a.id = b.id AND b.version_id = a.version_id + 1 "
                    + "WHERE a.tenant = 'many' AND a.valid_to IS DISTINCT FROM b.valid_from");
            rs.next();
            assertEquals(0, rs.getLong(1), "every closed version ends where its successor starts");
            rs = s.executeQuery("SELECT count(*) FROM resource_compartment WHERE tenant = 'many'");
            rs.next();
            assertEquals(n, rs.getLong(1), "one compartment row per version with a subject");
        }
        given().get("/tenants/many/fhir/Observation/m-10/_history/2").then().statusCode(200).body("status", equalTo("amended"));
    }

    private static void checkMixedReport(Response r) {
        r.then().statusCode(200).body("resourceType", equalTo("Parameters"));
        var jp = r.jsonPath();
        assertEquals(11, jp.getInt("parameter.find { it.name == 'lines' }.valueInteger"));
        assertEquals(3, jp.getInt("parameter.find { it.name == 'stored' }.valueInteger"));
        assertEquals(7, jp.getInt("parameter.find { it.name == 'rejected' }.valueInteger"));
        List<Map<String, Object>> byType = jp.getList("parameter.find { it.name == 'storedByType' }.part");
        assertEquals(Map.of("name", "Observation", "valueInteger", 1), byType.get(0));
        assertEquals(Map.of("name", "Patient", "valueInteger", 2), byType.get(1));
        List<Integer> lines = jp.getList("parameter.findAll { it.name == 'rejectedLine' }.part.flatten().findAll { it.name == 'line' }.valueInteger");
        assertEquals(List.of(2, 3, 5, 7, 9, 10, 11), lines);
        List<String> reasons = jp.getList("parameter.findAll { it.name == 'rejectedLine' }.part.flatten().findAll { it.name == 'reason' }.valueString");
        assertTrue(reasons.get(0).contains("malformed JSON"), reasons.get(0));
        assertTrue(reasons.get(1).contains("Alien"), reasons.get(1));
        assertTrue(reasons.get(2).contains("no id"), reasons.get(2));
        assertTrue(reasons.get(3).contains("JSON object"), reasons.get(3));
        assertTrue(reasons.get(4).contains("bad_id"), reasons.get(4));
        assertTrue(reasons.get(5).contains("malformed JSON"), reasons.get(5));
        assertTrue(reasons.get(6).contains("resourceType"), reasons.get(6));
    }
}
