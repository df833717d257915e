package io.sluice.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code _elements} projection. An entry {@code element} applies to every type, {@code Type.element}
 * only to that type. A type with no applicable entry is exported unchanged. Otherwise a resource
 * keeps {@code resourceType}, {@code id}, {@code meta} and the named top-level elements, and gets the
 * {@code SUBSETTED} meta.tag (system {@value #SUBSETTED_SYSTEM}). Pure.
 */
public final class ElementsProjection {

    public static final String SUBSETTED_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

    private ElementsProjection() {
    }

    /** The top-level element names kept for {@code resourceType}; empty = no projection. */
    public static Set<String> elementsFor(String resourceType, List<String> elements) {
        Set<String> out = new LinkedHashSet<>();
        for (String e : elements) {
            int dot = e.indexOf('.');
            if (dot < 0) {
                out.add(e);
            } else if (e.substring(0, dot).equals(resourceType)) {
                out.add(e.substring(dot + 1));
            }
        }
        return out;
    }

    /** A copy of {@code resource} with only the mandatory and the {@code keep} elements, tagged SUBSETTED. */
    public static ObjectNode project(ObjectNode resource, Set<String> keep) {
        ObjectNode out = resource.objectNode();
        resource.fields().forEachRemaining(f -> {
            String name = f.getKey();
            if (name.equals("resourceType") || name.equals("id") || name.equals("meta") || keep.contains(name)) {
                out.set(name, f.getValue().deepCopy());
            }
        });
        JsonNode metaNode = out.get("meta");
        ObjectNode meta = metaNode instanceof ObjectNode m ? m : out.putObject("meta");
        if (metaNode == null) {
            // keep member order stable: resourceType, id, meta first as in the source
            out.remove("meta");
            out.set("meta", meta);
        }
        JsonNode tags = meta.get("tag");
        ArrayNode tagArray = tags instanceof ArrayNode a ? a : meta.putArray("tag");
        boolean present = false;
        for (JsonNode t : tagArray) {
            if (SUBSETTED_SYSTEM.equals(t.path("system").asText()) && "SUBSETTED".equals(t.path("code").asText())) {
                present = true;
            }
        }
        if (!present) {
            tagArray.addObject().put("system", SUBSETTED_SYSTEM).put("code", "SUBSETTED");
        }
        return out;
    }
}
