package io.sluice.store;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.fhir.FhirJson;
import io.sluice.sample.SampleDataGenerator;
import org.junit.jupiter.api.Test;

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
        return ResourcePreparer.prepare(ResourcePreparer.resourceType(r), ResourcePreparer.idOf(r), r, line);
    }

    private static String stored(PreparedWrite w) {
        return ResourcePreparer.content(w, 3, "2026-11-27T08:00:00.123Z");
    }

    @Test
    void generatedResourcesTakeTheFastPathAndStoreExactlyWhatTheTreeWouldGive() {
        List<String> lines = new SampleDataGenerator(7, 20).lines();
        assertTrue(lines.size() > 500);
        for (String line : lines) {
            ObjectNode r = FhirJson.parseObject(line);
            assertNotNull(ResourcePreparer.storedTail(line, r.get("resourceType").asText(), r.get("id").asText()),
                    "generated lines are in stored form: " + line);
            PreparedWrite tree = fromTree(line);
            PreparedWrite text = fromText(line);
            assertEquals(stored(tree), stored(text));
            assertEquals(tree.patients(), text.patients());
            assertEquals(tree.members(), text.members());
            FhirJson.parseObject(stored(text)); // valid JSON
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
                assertNull(ResourcePreparer.storedTail(line, "Patient", "a"), line);
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
}
