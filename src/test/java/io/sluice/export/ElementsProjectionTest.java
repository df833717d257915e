package io.sluice.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class ElementsProjectionTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void plainElementsApplyToAllTypesQualifiedOnlyToTheirType() {
        List<String> el = List.of("status", "Patient.name", "Observation.code");
        assertEquals(Set.of("status", "name"), ElementsProjection.elementsFor("Patient", el));
        assertEquals(Set.of("status", "code"), ElementsProjection.elementsFor("Observation", el));
        assertEquals(Set.of("status"), ElementsProjection.elementsFor("Encounter", el));
        assertEquals(Set.of(), ElementsProjection.elementsFor("Encounter", List.of("Patient.name")),
                "a type with no applicable entry is not projected");
    }

    @Test
    void keepsMandatoryAndNamedElementsAndTagsSubsetted() throws Exception {
        ObjectNode p = (ObjectNode) JSON.readTree("""
                {"resourceType":"Patient","id":"1","meta":{"versionId":"3","lastUpdated":"2024-01-01T00:00:00Z",
                 "tag":[{"system":"s","code":"c"}]},"name":[{"family":"X"}],"gender":"male","birthDate":"2000-01-01"}""");
        ObjectNode out = ElementsProjection.project(p, Set.of("name"));
        assertEquals("Patient", out.path("resourceType").asText());
        assertEquals("1", out.path("id").asText());
        assertEquals("3", out.path("meta").path("versionId").asText());
        assertEquals("X", out.path("name").path(0).path("family").asText());
        assertFalse(out.has("gender"));
        assertFalse(out.has("birthDate"));
        var tags = out.path("meta").path("tag");
        assertEquals(2, tags.size(), "existing tag kept, SUBSETTED added");
        assertEquals("SUBSETTED", tags.path(1).path("code").asText());
        assertEquals(ElementsProjection.SUBSETTED_SYSTEM, tags.path(1).path("system").asText());
        assertTrue(p.has("gender"), "input untouched");
        // idempotent tag
        assertEquals(2, ElementsProjection.project(out, Set.of("name")).path("meta").path("tag").size());
    }

    @Test
    void addsMetaWhenMissing() throws Exception {
        ObjectNode o = (ObjectNode) JSON.readTree("{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\"}");
        ObjectNode out = ElementsProjection.project(o, Set.of("code"));
        assertFalse(out.has("status"));
        assertEquals("SUBSETTED", out.path("meta").path("tag").path(0).path("code").asText());
    }
}
