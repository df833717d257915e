package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes the running service over real HTTP with generated kick-off, status, cancel, download, CRUD,
 * Bundle and {@code $ingest} requests (random and malformed parameters, headers, bodies, path traversal,
 * NUL bytes, oversized inputs). Every answer must be below 500 and every 4xx must be a FHIR
 * OperationOutcome. Seeded: {@code -Dsluice.fuzz.seed}; count {@code -Dsluice.fuzz.count} (1,500 by default).
 */
@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
class ApiFuzzTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] TYPES = {"Patient", "Observation", "Group", "Encounter", "Condition", "Foo", "patient",
            "", "OperationOutcome", "Bundle", "Binary", "Patient,Observation", "Patient,,", "%00", "Patient%2FObservation"};
    private static final String[] PARAMS = {"_outputFormat", "_since", "_until", "_type", "_elements", "_typeFilter",
            "patient", "includeAssociatedData", "_count", "_foo", "_since", "_type", "", "%00", "_type[]", "_typeFilter"};
    private static final String[] VALUES = {"", "ndjson", "application/fhir+ndjson", "application/ndjson", "text/csv",
            "2024-01-01T00:00:00Z", "2024-01-01", "2024-02-30T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
            "0000-01-01T00:00:00Z", "2024-01-01T00:00:00+25:00", "-1", "1e309", "Patient", "Patient,Observation",
            "Foo", "Observation?status=final", "Observation?", "?", "Observation?code=http://loinc.org|8867-4",
            "Observation?date=ge2020-13", "Observation?_include=x", "Observation?date=ge2020&date=le2021",
            "Patient?gender=%ZZ", "Patient?birthdate=gt1900-01-01T00:00:00", "Observation?value-quantity=5",
            "id,Observation.code", "Observation.code.coding", ".", "..", "Patient/1", "Patient/", "Group/1", "1",
            "LatestProvenanceResources", "_custom", "%00", "%", "%zz", "%C0%AF", "\u00e9\u4e2d", "%F0%9F%92%A9",
            "a%2Cb", "Patient%2C%2C", "true", "null", "{}", "[]", "Observation?code:text=x", "Observation?status:not=final"};
    private static final String[] ACCEPT = {"application/fhir+json", "application/json", "*/*", "text/html", "application/xml",
            "application/fhir+xml", "", "garbage", "application/fhir+json;q=0", "application/fhir+ndjson"};
    private static final String[] PREFER = {"respond-async", "respond-async, handling=lenient", "handling=lenient",
            "handling=strict", "", "respond-sync", "respond-async;;;", "handling=", "wait=10"};
    private static final String[] CONTENT_TYPES = {"application/fhir+json", "application/json", "text/plain",
            "application/fhir+ndjson", "application/ndjson", "application/x-www-form-urlencoded", "multipart/form-data",
            "application/json; charset=latin1", "application/fhir+json; charset=utf-8", "garbage/", ""};

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void everyGeneratedRequestGetsBelow500AndEvery4xxIsAnOperationOutcome() throws Exception {
        long seed = Long.getLong("sluice.fuzz.seed", 20261127L);
        int count = Integer.getInteger("sluice.fuzz.count", 1500);
        Random rnd = new Random(seed);
        String base = "http://127.0.0.1:" + RestAssured.port;
        List<String> failures = new ArrayList<>();
        int[] byClass = new int[6];
        for (int i = 0; i < count; i++) {
            Req req = generate(rnd, i);
            HttpRequest.Builder b = HttpRequest.newBuilder();
            try {
                b.uri(URI.create(base + req.path));
            } catch (IllegalArgumentException notAUri) {
                continue; // the client cannot even send it
            }
            b.timeout(Duration.ofSeconds(60));
            for (String[] h : req.headers) {
                try {
                    b.header(h[0], h[1]);
                } catch (IllegalArgumentException restricted) {
                    // the JDK client refuses some header values; skip that header
                }
            }
            HttpRequest.BodyPublisher body = req.body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(req.body);
            b.method(req.method, body);
            HttpResponse<byte[]> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (java.io.IOException e) {
                failures.add("#" + i + " " + req + " -> I/O " + e);
                continue;
            }
            int s = r.statusCode();
            byClass[Math.min(s / 100, 5)]++;
            String text = new String(r.body(), StandardCharsets.UTF_8);
            if (s >= 500) {
                failures.add("#" + i + " " + req + " -> " + s + " " + abbreviate(text));
            } else if (s >= 400 && !isOperationOutcome(text)) {
                failures.add("#" + i + " " + req + " -> " + s + " not an OperationOutcome: " + abbreviate(text));
            }
            if (s == 202 && req.kickoff) {
                Optional<String> loc = r.headers().firstValue("Content-Location");
                if (loc.isPresent()) { // do not let accepted jobs pile up into 429s
                    http.send(HttpRequest.newBuilder(URI.create(loc.get())).DELETE().build(), HttpResponse.BodyHandlers.discarding());
                } else {
                    failures.add("#" + i + " " + req + " -> 202 without Content-Location");
                }
            }
        }
        System.out.printf("fuzz: seed=%d count=%d 2xx=%d 3xx=%d 4xx=%d 5xx=%d failures=%d%n",
                seed, count, byClass[2], byClass[3], byClass[4], byClass[5], failures.size());
        if (!failures.isEmpty()) {
            fail(failures.size() + " bad answers, first ones:\n" + String.join("\n", failures.subList(0, Math.min(25, failures.size()))));
        }
        assertTrue(byClass[2] > 0 && byClass[4] > 0, "the generator should produce both accepted and rejected requests");
    }

    private static boolean isOperationOutcome(String text) {
        try {
            JsonNode n = JSON.readTree(text);
            return n != null && "OperationOutcome".equals(n.path("resourceType").asText()) && n.path("issue").isArray();
        } catch (Exception e) {
            return false;
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }

    record Req(String method, String path, List<String[]> headers, byte[] body, boolean kickoff) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(method).append(' ').append(abbreviate(path));
            for (String[] h : headers) {
                sb.append(" [").append(h[0]).append(": ").append(abbreviate(h[1])).append(']');
            }
            if (body != null) {
                sb.append(" body(").append(body.length).append(")=").append(abbreviate(new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8)));
            }
            return sb.toString();
        }
    }

    private static <T> T pick(Random r, T[] a) {
        return a[r.nextInt(a.length)];
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private Req generate(Random r, int i) throws Exception {
        String prefix = switch (r.nextInt(6)) {
            case 0 -> "/tenants/" + pick(r, new String[] {"t1", "fuzz", "UPPER", "a".repeat(70), "..", "%2e%2e", "x%00"}) + "/fhir";
            default -> "/fhir";
        };
        List<String[]> headers = new ArrayList<>();
        int kind = r.nextInt(100);
        if (kind < 45) {
            return kickoff(r, prefix, headers);
        } else if (kind < 55) {
            String id = pick(r, new String[] {"", "x", "00000000-0000-0000-0000-000000000000", "..%2f..%2fetc%2fpasswd",
                    "%00", "not-a-uuid", "a".repeat(5000), "%2e%2e", java.util.UUID.randomUUID().toString()});
            randomHeaders(r, headers);
            return new Req(pick(r, new String[] {"GET", "DELETE", "POST", "PUT"}), prefix + "/$export-status/" + id, headers, null, false);
        } else if (kind < 65) {
            String[] bad = {"..%2f..%2fetc%2fpasswd", "..%2F..", "%2e%2e%2f%2e%2e", "x%00.ndjson", "..", ".", "%00",
                    "output-Patient-00000-t1.ndjson", "a".repeat(3000), "%252e%252e", "..\\..\\x", "%c0%ae%c0%ae"};
            String path = prefix + "/$export-file/" + pick(r, bad) + "/" + pick(r, bad);
            if (r.nextBoolean()) {
                path = prefix + "/$export-file/" + java.util.UUID.randomUUID() + "/" + pick(r, bad);
            }
            if (r.nextInt(5) == 0) {
                headers.add(new String[] {"Range", pick(r, new String[] {"bytes=0-", "bytes=-1", "bytes=5-2", "bytes=x", "bytes=0-99999999999999999999"})});
            }
            randomHeaders(r, headers);
            return new Req("GET", path, headers, null, false);
        }
        if (prefix.equals("/fhir")) {
            prefix = "/tenants/fuzz-writes/fhir"; // writes stay out of the default tenant that other tests export
        }
        if (kind < 82) {
            headers.add(new String[] {"Content-Type", r.nextInt(5) == 0 ? pick(r, CONTENT_TYPES) : "application/fhir+ndjson"});
            byte[] body = ingestBody(r, i);
            if (r.nextInt(8) == 0) {
                headers.add(new String[] {"Content-Encoding", pick(r, new String[] {"gzip", "br", "identity", "gzip, gzip"})});
                if (r.nextBoolean()) {
                    body = gzip(body);
                }
            }
            return new Req("POST", prefix + "/$ingest", headers, body, false);
        } else {
            String type = pick(r, new String[] {"Patient", "Observation", "Group", "Foo", "patient", "Patient%00"});
            String id = pick(r, new String[] {"p1", "x".repeat(65), "bad id", "%2e%2e", "..%2f", "a%00b", "ok-1", ""});
            headers.add(new String[] {"Content-Type", pick(r, CONTENT_TYPES)});
            randomHeaders(r, headers);
            String method = pick(r, new String[] {"GET", "PUT", "POST", "DELETE"});
            byte[] body = resourceLine(r, type.replace("%00", ""), id).getBytes(StandardCharsets.UTF_8);
            String path = switch (r.nextInt(4)) {
                case 0 -> prefix + "/" + type;
                case 1 -> prefix + "/" + type + "/" + id + "/_history/" + pick(r, new String[] {"1", "0", "-1", "x", "99999999999999999999"});
                case 2 -> prefix;
                default -> prefix + "/" + type + "/" + id;
            };
            if (path.equals(prefix)) {
                method = "POST";
                body = bundle(r).getBytes(StandardCharsets.UTF_8);
            }
            return new Req(method, path, headers, method.equals("GET") || method.equals("DELETE") ? null : body, false);
        }
    }

    private static void randomHeaders(Random r, List<String[]> headers) {
        if (r.nextBoolean()) {
            headers.add(new String[] {"Accept", pick(r, ACCEPT)});
        }
        if (r.nextInt(4) == 0) {
            headers.add(new String[] {"Authorization", pick(r, new String[] {"Bearer ", "Bearer x", "Basic Zm9vOmJhcg==", "garbage"})});
        }
    }

    private Req kickoff(Random r, String prefix, List<String[]> headers) throws Exception {
        String op = switch (r.nextInt(4)) {
            case 0 -> prefix + "/Patient/$export";
            case 1 -> prefix + "/Group/" + pick(r, new String[] {"g1", "missing", "%2e%2e", "a%00", "x".repeat(100)}) + "/$export";
            case 2 -> prefix + "/%24export";
            default -> prefix + "/$export";
        };
        if (r.nextInt(10) != 0) {
            headers.add(new String[] {"Prefer", pick(r, PREFER)});
        }
        if (r.nextInt(10) != 0) {
            headers.add(new String[] {"Accept", pick(r, ACCEPT)});
        }
        if (r.nextInt(4) == 0) {
            headers.add(new String[] {"Authorization", "Bearer "});
        }
        boolean post = r.nextInt(3) == 0;
        if (!post) {
            StringBuilder q = new StringBuilder();
            int n = r.nextInt(6);
            for (int k = 0; k < n; k++) {
                q.append(k == 0 ? '?' : '&');
                String name = pick(r, PARAMS);
                String value = r.nextInt(30) == 0 ? "x".repeat(r.nextInt(12_000)) : pick(r, VALUES);
                q.append(r.nextInt(4) == 0 ? name : enc(name)).append('=');
                q.append(r.nextInt(4) == 0 ? value : enc(value));
            }
            if (r.nextInt(20) == 0) {
                q.append("&&=&=x&%");
            }
            return new Req("GET", op + q, headers, null, true);
        }
        headers.add(new String[] {"Content-Type", r.nextInt(4) == 0 ? pick(r, CONTENT_TYPES) : "application/fhir+json"});
        return new Req("POST", op, headers, parametersBody(r).getBytes(StandardCharsets.UTF_8), true);
    }

    private static String parametersBody(Random r) {
        switch (r.nextInt(12)) {
            case 0: return "";
            case 1: return "{";
            case 2: return "[]";
            case 3: return "{\"resourceType\":\"Patient\"}";
            case 4: return "{\"resourceType\":\"Parameters\",\"parameter\":{}}";
            case 5: return "{\"resourceType\":\"Parameters\",\"parameter\":[" + "[".repeat(5000) + "]".repeat(5000) + "]}";
            case 6: return "\"x\"";
            case 7: return "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_type\",\"valueString\":\"" + "Patient,".repeat(20_000) + "\"}]}";
            default: break;
        }
        StringBuilder sb = new StringBuilder("{\"resourceType\":\"Parameters\",\"parameter\":[");
        int n = r.nextInt(5);
        String[] valueKeys = {"valueString", "valueInstant", "valueReference", "valueCode", "valueBoolean", "valueInteger", "valueFoo", "value"};
        for (int k = 0; k < n; k++) {
            if (k > 0) {
                sb.append(',');
            }
            String name = pick(r, PARAMS);
            String vk = pick(r, valueKeys);
            String v = pick(r, VALUES);
            String value = switch (r.nextInt(6)) {
                case 0 -> "{\"reference\":" + JSON.valueToTree(v) + "}";
                case 1 -> "123";
                case 2 -> "null";
                case 3 -> "[1,2]";
                default -> JSON.valueToTree(v).toString();
            };
            if (name.equals("patient") && r.nextBoolean()) {
                vk = "valueReference";
            }
            sb.append("{\"name\":").append(JSON.valueToTree(name).toString()).append(',');
            sb.append('"').append(vk).append("\":").append(value).append('}');
        }
        sb.append("]}");
        return sb.toString();
    }

    private static String resourceLine(Random r, String type, String id) {
        StringBuilder sb = new StringBuilder("{");
        if (r.nextInt(10) != 0) {
            sb.append("\"resourceType\":").append(JSON.valueToTree(r.nextInt(10) == 0 ? pick(r, TYPES) : type).toString()).append(',');
        }
        if (r.nextInt(10) != 0) {
            Object idv = switch (r.nextInt(8)) {
                case 0 -> 5;
                case 1 -> "x".repeat(65);
                case 2 -> "a b";
                case 3 -> "..";
                case 4 -> "";
                default -> id;
            };
            sb.append("\"id\":").append(JSON.valueToTree(idv).toString()).append(',');
        }
        switch (r.nextInt(10)) {
            case 0 -> sb.append("\"meta\":{\"versionId\":\"x\",\"lastUpdated\":\"not-a-date\"},");
            case 1 -> sb.append("\"meta\":5,");
            case 2 -> sb.append("\"subject\":{\"reference\":\"Patient/").append(id).append("\"},");
            case 3 -> sb.append("\"subject\":{\"reference\":5},");
            case 4 -> sb.append("\"member\":[{\"entity\":{\"reference\":\"Patient/p1\"}},{\"entity\":null},5],");
            case 5 -> sb.append("\"text\":\"").append("\\u0000").append("\",");
            case 6 -> sb.append("\"deep\":").append("[".repeat(3000)).append("]".repeat(3000)).append(',');
            case 7 -> sb.append("\"big\":\"").append("y".repeat(r.nextInt(200_000))).append("\",");
            case 8 -> sb.append("\"link\":[{\"other\":{\"reference\":\"Patient/\"}}],");
            default -> sb.append("\"gender\":\"other\",");
        }
        sb.append("\"active\":true}");
        return sb.toString();
    }

    private static String bundle(Random r) {
        return switch (r.nextInt(5)) {
            case 0 -> "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"fullUrl\":\"urn:uuid:1\",\"resource\":"
                    + resourceLine(r, "Patient", "b1") + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}";
            case 1 -> "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":5}";
            case 2 -> "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"request\":{\"method\":\"DELETE\",\"url\":\"../../x\"}},{}]}";
            case 3 -> "{\"resourceType\":\"Bundle\"}";
            default -> "not json";
        };
    }

    private static byte[] ingestBody(Random r, int i) {
        StringBuilder sb = new StringBuilder();
        int lines = r.nextInt(6);
        for (int k = 0; k < lines; k++) {
            switch (r.nextInt(8)) {
                case 0 -> sb.append("not json");
                case 1 -> sb.append("");
                case 2 -> sb.append("[1,2,3]");
                case 3 -> sb.append("{\"resourceType\":\"Patient\",\"id\":\"f").append(i).append("\"");
                default -> sb.append(resourceLine(r, pick(r, new String[] {"Patient", "Observation", "Group"}), "f" + i + "-" + k));
            }
            sb.append(r.nextInt(5) == 0 ? "\r\n" : "\n");
        }
        byte[] out = sb.toString().getBytes(StandardCharsets.UTF_8);
        if (r.nextInt(25) == 0) { // invalid UTF-8
            out = new byte[] {(byte) 0xC3, (byte) 0x28, '\n', (byte) 0xFF};
        }
        return out;
    }

    private static byte[] gzip(byte[] in) throws java.io.IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(in);
        }
        return bos.toByteArray();
    }
}
