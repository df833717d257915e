package io.sluice.sample;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SampleDataGeneratorTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void sameSeedGivesSameLines() {
        assertEquals(new SampleDataGenerator(7, 10).lines(), new SampleDataGenerator(7, 10).lines());
    }

    @Test
    void everyReferenceResolvesAndIdsAreUnique() throws Exception {
        List<String> lines = new SampleDataGenerator(42, 30).lines();
        assertTrue(lines.size() > 30 * 40, "about 60 resources per patient, got " + lines.size());
        Set<String> ids = new HashSet<>();
        for (String line : lines) {
            JsonNode r = JSON.readTree(line);
            assertTrue(ids.add(r.get("resourceType").asText() + "/" + r.get("id").asText()), "duplicate " + line);
        }
        Pattern ref = Pattern.compile("\"reference\":\"([^\"]+)\"");
        for (String line : lines) {
            Matcher m = ref.matcher(line);
            while (m.find()) {
                assertTrue(ids.contains(m.group(1)), "dangling reference " + m.group(1));
            }
        }
        JsonNode group = JSON.readTree(lines.get(lines.size() - 1));
        assertEquals("Group", group.get("resourceType").asText());
        assertEquals(30, group.get("member").size());
    }
}
