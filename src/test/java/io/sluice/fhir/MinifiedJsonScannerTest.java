package io.sluice.fhir;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.sample.SampleDataGenerator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The one-pass read of minified JSON never accepts what the full parse refuses, and finds the same
 * Patient compartments as the walk over the parsed tree.
 */
class MinifiedJsonScannerTest {

    private static Set<String> scan(String json) {
        ObjectNode head = null;
        String type = "Observation";
        String id = "x";
        try {
            head = FhirJson.parseObject(json);
        } catch (RuntimeException e) {
            // not JSON: the scanner must decline it; type and id do not matter then
        }
        if (head != null) { // as tree() reads them
            type = head.path("resourceType").asText();
            id = head.path("id").asText(null);
        }
        return MinifiedJsonScanner.patientIds(type, id, json.getBytes(StandardCharsets.UTF_8), null);
    }

    /** The tree's compartments when the full parse accepts the text, else null. */
    private static Set<String> tree(String json) {
        try {
            ObjectNode r = FhirJson.parseObject(json);
            return PatientCompartment.patientIds(r.path("resourceType").asText(), r.path("id").asText(null), r);
        } catch (RuntimeException e) {
            return null;
        }
    }

    @Test
    void generatedResourcesAreReadWithTheirCompartments() {
        for (String line : new SampleDataGenerator(11, 10).lines()) {
            Set<String> scanned = scan(line);
            assertNotNull(scanned, line);
            assertEquals(tree(line), scanned, line);
        }
    }

    @Test
    void acceptsJsonAsTheFullParseDoes() {
        List<String> ok = List.of(
                "{}",
                "{\"resourceType\":\"Observation\",\"id\":\"o\",\"subject\":{\"reference\":\"Patient\\/p\"}}",
                "{\"resourceType\":\"Observation\",\"id\":\"o\",\"subject\":{\"reference\":\"Patient\\u002fq\"}}",
                "{\"a\":[],\"b\":{},\"c\":[[],[{}]],\"d\":[true,false,null],\"e\":-0,\"f\":0.5,\"g\":-12.250,\"h\":123456789012345678901234567890}",
                "{\"text\":\"tab\\t quote\\\" backslash\\\\ \\b\\f\\n\\r \\u00e9 \\ud83d\\ude00 é€😀\",\"ñame\":\"x\"}",
                "{\"a\":{\"x\":1},\"b\":{\"x\":1},\"c\":[{\"x\":1},{\"x\":2}],\"x\":{\"x\":{\"x\":1}}}",
                "{\"\":1,\"del\":\"\u007f\"}");
        for (String json : ok) {
            assertNotNull(scan(json), json);
            assertEquals(tree(json), scan(json), json);
        }
        assertEquals(Set.of("p"), scan(ok.get(1)));
        assertEquals(Set.of("q"), scan(ok.get(2)));
    }

    @Test
    void leavesEverythingElseToTheFullParse() {
        List<String> declined = List.of(
                // valid JSON it does not take on
                "{ \"a\":1}", "{\"a\": 1}", "{\"a\":1} ", "{\"a\":[1, 2]}",
                "{\"a\":1e5}", "{\"a\":1.5E-3}", "{\"a\\u0062\":1}", "{\"a\\\"\":1}",
                "{\"a\":" + "[".repeat(150) + "]".repeat(150) + "}",
                "{\"" + "n".repeat(1001) + "\":1}",
                "{\"a\":" + "1".repeat(101) + "}",
                // what the full parse refuses
                "", "[]", "1", "\"s\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,\"a\":1}", "{\"a\":[1,]}",
                "{\"a\":[1 2]}", "{\"a\":1}x", "{\"a\":1}{}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}",
                "{\"a\":+1}", "{\"a\":NaN}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":True}", "{\"a\":'s'}",
                "{\"a\":\"x\\q\"}", "{\"a\":\"\\u12G4\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\t\"}", "{\"a\":\"\u0001\"}",
                "{\"a\":\"open}", "{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1,\"c\":{},\"b\":2}}", "{a:1}");
        for (String json : declined) {
            assertNull(scan(json), json);
        }
        StringBuilder wide = new StringBuilder("{");
        for (int i = 0; i <= MinifiedJsonScanner.MAX_FIELDS; i++) {
            wide.append(i == 0 ? "" : ",").append("\"f").append(i).append("\":").append(i);
        }
        assertNull(scan(wide.append('}').toString()));
        String stop = "{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{},\"gender\":\"male\"}";
        assertNull(MinifiedJsonScanner.patientIds("Patient", "p", stop.getBytes(StandardCharsets.UTF_8), "meta"));
        assertEquals(Set.of("p"), MinifiedJsonScanner.patientIds("Patient", "p", stop.getBytes(StandardCharsets.UTF_8), null));
    }

    /** Strings are read eight bytes at a time: what ends or escapes them, or is not allowed in them, is seen at every offset. */
    @Test
    void readsStringsAtEveryOffsetOfTheirWords() {
        for (int at = 0; at < 24; at++) {
            String before = "a".repeat(at);
            String after = "b".repeat(24 - at);
            assertEquals(Set.of(), scan("{\"s\":\"" + before + "\\n\\\"\\\\" + after + "\"}"), "escapes at " + at);
            assertEquals(Set.of(), scan("{\"s\":\"" + before + "é€😀" + after + "\"}"), "text outside ASCII at " + at);
            assertEquals(Set.of(), scan("{\"s\":\"" + before + "\",\"t\":\"" + after + "\"}"), "a quote at " + at);
            for (char c = 0; c < 0x20; c++) {
                assertNull(scan("{\"s\":\"" + before + c + after + "\"}"), "control character " + (int) c + " at " + at);
            }
            assertNull(scan("{\"s\":\"" + before + "\\x" + after + "\"}"), "a bad escape at " + at);
            assertNull(scan("{\"s\":\"" + before + after), "an open string at " + at);
        }
    }

    /** Every prefix of a valid line is declined: nothing cut short passes. */
    @Test
    void declinesEveryTruncation() {
        String line = new SampleDataGenerator(3, 2).lines().stream().filter(l -> l.contains("\"Observation\"")).findFirst()
                .orElseThrow();
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        for (int n = 0; n < b.length; n++) {
            byte[] cut = java.util.Arrays.copyOf(b, n);
            assertNull(MinifiedJsonScanner.patientIds("Observation", "x", cut, null), line.substring(0, Math.min(n, line.length())));
        }
    }

    /**
     * Random one-byte edits of generated lines (ASCII only, so the text stays UTF-8; quotes, backslashes and
     * control characters among them, at every offset of the eight-byte words strings are read in): whatever the scanner
     * accepts, the full parse accepts too, with the same compartments.
     */
    @Test
    void acceptsNoEditTheFullParseRefuses() {
        List<String> lines = new SampleDataGenerator(5, 4).lines();
        Random r = new Random(42);
        String alphabet = "{}[]\":,.-+0123456789eEtrufalsn \\/ux\t\u0001\u001f";
        int accepted = 0;
        for (int k = 0; k < 30_000; k++) {
            StringBuilder sb = new StringBuilder(lines.get(r.nextInt(lines.size())));
            int at = r.nextInt(sb.length());
            char c = alphabet.charAt(r.nextInt(alphabet.length()));
            switch (r.nextInt(3)) {
                case 0 -> sb.deleteCharAt(at);
                case 1 -> sb.insert(at, c);
                default -> sb.setCharAt(at, c);
            }
            String json = sb.toString();
            Set<String> scanned = scan(json);
            if (scanned != null) {
                accepted++;
                Set<String> full = tree(json);
                if (full == null) {
                    fail("accepted what the full parse refuses: " + json);
                }
                assertEquals(full, scanned, json);
            }
        }
        assertTrue(accepted > 1000, "some edits stay valid JSON: " + accepted);
    }
}
