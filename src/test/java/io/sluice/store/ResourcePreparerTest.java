package io.sluice.store;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.fhir.FhirJson;
import io.sluice.sample.SampleDataGenerator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The stored form of a resource is the same whether it is serialized from the parsed tree or, for
 * bulk NDJSON already in stored form, taken from the line's own text (the ingest fast path).
 */
class ResourcePreparerTest {

    private static PreparedWrite fromTree(String line) {
        ObjectNode r = FhirJson.parseObject(line);
        return ResourcePreparer.prepare(ResourcePreparer.resourceType(r), ResourcePreparer.idOf(r), r);
    }

    private static PreparedWrite fromText(String line) {
        ObjectNode r = FhirJson.parseObject(line);
        return ResourcePreparer.prepare(ResourcePreparer.resourceType(r), ResourcePreparer.idOf(r), r, utf8(line));
    }

    private static PreparedWrite streamed(String line) {
        return ResourcePreparer.prepareStoredForm(utf8(line));
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String stored(PreparedWrite w) {
        return new String(ResourcePreparer.content(w, 3, "2026-11-27T08:00:00.123Z"), StandardCharsets.UTF_8);
    }

    @Test
    void generatedResourcesTakeTheFastPathAndStoreExactlyWhatTheTreeWouldGive() {
        List<String> lines = new SampleDataGenerator(7, 20).lines();
        assertTrue(lines.size() > 500);
        for (String line : lines) {
            ObjectNode r = FhirJson.parseObject(line);
            assertTrue(ResourcePreparer.storedHeadEnd(utf8(line), r.get("resourceType").asText(), r.get("id").asText()) > 0,
                    "generated lines are in stored form: " + line);
            PreparedWrite tree = fromTree(line);
            PreparedWrite text = fromText(line);
            assertEquals(stored(tree), stored(text));
            assertEquals(tree.patients(), text.patients());
            assertEquals(tree.members(), text.members());
            FhirJson.parseObject(stored(text)); // valid JSON
            PreparedWrite streamed = streamed(line);
            if (line.startsWith("{\"resourceType\":\"Group\"")) {
                assertNull(streamed, "Groups take the tree path (their members)");
            } else {
                assertNotNull(streamed, line);
                assertEquals(stored(tree), stored(streamed));
                assertEquals(tree.patients(), streamed.patients(), line);
            }
        }
    }

    @Test
    void theStreamingReadFindsTheSameCompartmentsAsTheTree() {
        List<String> lines = List.of(
                // nested arrays, a performer that is not a Patient, a versioned and an absolute reference
                "{\"resourceType\":\"Observation\",\"id\":\"o\",\"subject\":{\"reference\":\"Patient/a\"},"
                        + "\"performer\":[[{\"reference\":\"Patient/b/_history/2\"}],{\"reference\":\"Practitioner/x\"},"
                        + "{\"reference\":\"https://h.example/fhir/Patient/c\"}],\"focus\":[{\"reference\":\"Patient/no\"}]}",
                // an escaped slash, a reference that is not a string, a reference one level too deep
                "{\"resourceType\":\"Encounter\",\"id\":\"e\",\"subject\":{\"reference\":\"Patient\\/p\"},"
                        + "\"participant\":[{\"individual\":{\"reference\":\"Patient/no\"}}]}",
                "{\"resourceType\":\"Encounter\",\"id\":\"e\",\"subject\":{\"reference\":7}}",
                "{\"resourceType\":\"Encounter\",\"id\":\"e\",\"subject\":{\"x\":{\"reference\":\"Patient/no\"}}}",
                "{\"resourceType\":\"Encounter\",\"id\":\"e\",\"subject\":[\"Patient/no\",null,{\"reference\":\"Patient/q\"}]}",
                // paths of several steps, arrays at each step
                "{\"resourceType\":\"CarePlan\",\"id\":\"c\",\"activity\":[{\"detail\":{\"performer\":[{\"reference\":"
                        + "\"Patient/q\"}]}},{\"detail\":[{\"performer\":{\"reference\":\"Patient/r\"}}]},{\"detail\":1.5}]}",
                "{\"resourceType\":\"AuditEvent\",\"id\":\"x\",\"agent\":[{\"who\":{\"reference\":\"Patient/p\"}}],"
                        + "\"entity\":[{\"what\":{\"reference\":\"Patient/q\"}}]}",
                // a Patient is in its own compartment and its links'
                "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"link\":[{\"other\":{\"reference\":\"Patient/p2\"}}]}",
                "{\"resourceType\":\"Organization\",\"id\":\"o\",\"partOf\":{\"reference\":\"Patient/no\"}}");
        for (String line : lines) {
            PreparedWrite streamed = streamed(line);
            assertNotNull(streamed, line);
            PreparedWrite tree = fromTree(line);
            assertEquals(tree.patients(), streamed.patients(), line);
            assertEquals(stored(fromText(line)), stored(streamed), line); // the line's own text, escapes and all
        }
        assertEquals(java.util.Set.of("a", "b", "c"), streamed(lines.get(0)).patients());
        assertEquals(java.util.Set.of("p"), streamed(lines.get(1)).patients());
        assertEquals(java.util.Set.of("q", "r"), streamed(lines.get(5)).patients());
    }

    @Test
    void linesTheStreamingReadDoesNotTakeGoToTheTree() {
        List<String> lines = List.of(
                "{\"resourceType\":\"Patient\",\"id\":\"a\",\"meta\":{\"source\":\"x\"}}",       // client meta
                "{\"resourceType\":\"Patient\",\"id\":\"a\", \"gender\":\"other\"}",                 // whitespace
                "{\"resourceType\":\"Group\",\"id\":\"g\",\"type\":\"person\",\"actual\":true}",    // members
                "{\"resourceType\":\"Patient\",\"id\":\"\\u0061\"}",                                   // escaped id
                "{\"resourceType\":\"Observation\",\"id\":\"o\",\"valueQuantity\":{\"value\":1.5e3}}",           // exponent
                "{\"resourceType\":\"Patient\",\"id\":\"a\",\"gender\":\"other\"}x",                  // trailing text
                "{\"resourceType\":\"Patient\",\"id\":\"a\",\"gender\":\"other\",\"gender\":\"male\"}", // duplicate
                "{\"resourceType\":\"Observation\",\"id\":\"o\",\"code\":{\"coding\":[{\"code\":\"a\"},"
                        + "{\"code\":\"b\",\"system\":\"s\",\"code\":\"c\"}]}}",                      // duplicate, nested
                "{\"resourceType\":\"Observation\",\"id\":\"o\",\"valueQuantity\":{\"value\":1e999999999999}}",
                "{\"resourceType\":\"Observation\",\"id\":\"o\",\"code\":{\"text\":\"a\"}",           // unclosed
                "{\"resourceType\":\"Observation\",\"id\":\"o\",\"code\":[1,}",
                "{\"resourceType\":\"Unknown\",\"id\":\"o\"}",
                "{\"resourceType\":\"Patient\",\"id\":\"bad id\"}",
                "{\"resourceType\":\"Patient\",\"id\":\"a\",\"resourceType\":\"Patient\"}");
        for (String line : lines) {
            assertNull(streamed(line), line);
        }
        for (String bad : lines.subList(5, lines.size())) {
            assertThrows(RuntimeException.class, () -> fromText(bad), bad);
        }
    }

    @Test
    void textNotInStoredFormFallsBackToTheTree() {
        List<String> notStored = List.of(
                "{\"resourceType\":\"Patient\", \"id\":\"a\",\"gender\":\"other\"}",
                "{\"resourceType\":\"Patient\",\"id\":\"a\",\"gender\": \"other\"}",
                "{\"id\":\"a\",\"resourceType\":\"Patient\",\"gender\":\"other\"}",
                "{\"resourceType\":\"Patient\",\"id\":\"a\",\"meta\":{\"source\":\"x\"},\"gender\":\"other\"}",
                "{\"resourceType\":\"Patient\",\"id\":\"\\u0061\",\"gender\":\"other\"}",
                "{\"resourceType\":\"Patient\",\"id\":\"a\",\"gender\":\"other\"}\t");
        for (String line : notStored) {
            ObjectNode r = FhirJson.parseObject(line);
            if (!r.has("meta")) { // a client meta always takes the tree path (prepare checks it)
                assertEquals(-1, ResourcePreparer.storedHeadEnd(utf8(line), "Patient", "a"), line);
            }
            assertEquals(stored(fromTree(line)), stored(fromText(line)), line);
        }
        assertEquals("{\"resourceType\":\"Patient\",\"id\":\"a\",\"meta\":{\"versionId\":\"3\",\"lastUpdated\":"
                        + "\"2026-11-27T08:00:00.123Z\",\"source\":\"x\"},\"gender\":\"other\"}",
                stored(fromText(notStored.get(3))));
    }

    @Test
    void fastPathKeepsTheTextAndTheWhitespaceInsideStrings() {
        String line = "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\",\"code\":{\"text\":\"a \\\"quoted\\\" b\"},"
                + "\"subject\":{\"reference\":\"Patient/p1\"},\"valueQuantity\":{\"value\":1.50}}";
        PreparedWrite w = fromText(line);
        assertEquals("{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"versionId\":\"3\",\"lastUpdated\":"
                + "\"2026-11-27T08:00:00.123Z\"},\"status\":\"final\",\"code\":{\"text\":\"a \\\"quoted\\\" b\"},"
                + "\"subject\":{\"reference\":\"Patient/p1\"},\"valueQuantity\":{\"value\":1.50}}", stored(w));
        assertEquals(java.util.Set.of("p1"), w.patients());
        String empty = "{\"resourceType\":\"Patient\",\"id\":\"e\"}";
        assertEquals("{\"resourceType\":\"Patient\",\"id\":\"e\",\"meta\":{\"versionId\":\"3\",\"lastUpdated\":"
                + "\"2026-11-27T08:00:00.123Z\"}}", stored(fromText(empty)));
    }

    @Test
    void theStreamingReadTellsRepeatedNamesFromNamesOfOtherObjects() {
        // the same names in sibling objects, in array elements and at other depths are no duplicates
        String ok = "{\"resourceType\":\"Observation\",\"id\":\"o\",\"code\":{\"text\":\"a\",\"coding\":[{\"code\":\"x\","
                + "\"system\":\"s\"},{\"code\":\"y\",\"system\":\"s\"}]},\"valueCodeableConcept\":{\"text\":\"b\","
                + "\"coding\":[{\"code\":{\"code\":1},\"system\":\"s\"}]},\"text\":{\"status\":\"generated\"}}";
        assertNotNull(streamed(ok));
        assertEquals(stored(fromTree(ok)), stored(streamed(ok)));
        // a name repeated after a nested object closed is still a duplicate of its own object
        String dup = "{\"resourceType\":\"Observation\",\"id\":\"o\",\"code\":{\"text\":\"a\",\"coding\":[{\"code\":\"x\"}],"
                + "\"text\":\"b\"}}";
        assertNull(streamed(dup));
        assertThrows(RuntimeException.class, () -> fromText(dup));
        // an object of many fields is left to the tree, which stores it all the same
        StringBuilder many = new StringBuilder("{\"resourceType\":\"Basic\",\"id\":\"b\",\"code\":{");
        for (int i = 0; i < 100; i++) {
            many.append(i == 0 ? "" : ",").append("\"f").append(i).append("\":").append(i);
        }
        String wide = many.append("}}").toString();
        assertNull(streamed(wide));
        assertEquals(stored(fromTree(wide)), stored(fromText(wide)));
    }
}
