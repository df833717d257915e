package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.fhir.FhirJson;
import io.sluice.fhir.MinifiedJsonScanner;
import io.sluice.fhir.PatientCompartment;
import io.sluice.fhir.ResourceTypes;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validates a resource and turns it into a {@link PreparedWrite}. The stored JSON always starts
 * with {@code {"resourceType":T,"id":I,"meta":{"versionId":V,"lastUpdated":L}, so the server meta is
 * added by text concatenation once the version and timestamp are known; the client's other meta
 * elements (profile, tag, source, ...) follow, then every other element in the order received.
 */
final class ResourcePreparer {

    private ResourcePreparer() {
    }

    /** Checks the resourceType element and returns it. */
    static String resourceType(ObjectNode resource) {
        JsonNode rt = resource.get("resourceType");
        if (rt == null || !rt.isTextual()) {
            throw new StoreException.Invalid("resource has no resourceType");
        }
        String type = rt.textValue();
        if (!ResourceTypes.isKnown(type)) {
            throw new StoreException.Invalid("unknown resourceType '" + type + "' (not a FHIR R4 resource type)");
        }
        return type;
    }

    /** The id element when present (validated), else null. */
    static String idOf(ObjectNode resource) {
        JsonNode id = resource.get("id");
        if (id == null || id.isNull()) {
            return null;
        }
        if (!id.isTextual() || !ResourceTypes.isValidId(id.textValue())) {
            throw new StoreException.Invalid("invalid resource id " + id + ": must match [A-Za-z0-9\\-.]{1,64}");
        }
        return id.textValue();
    }

    /**
     * Prepares a create/update of {@code resource} as {@code type/id}; the resource's own id element
     * is replaced by {@code id}.
     */
    static PreparedWrite prepare(String type, String id, ObjectNode resource) {
        return prepare(type, id, resource, null);
    }

    /**
     * Like {@link #prepare(String, String, ObjectNode)}, with the UTF-8 JSON text {@code resource} was
     * parsed from. When that text is already in stored form (it starts with {@code {"resourceType":T,"id":I},
     * has no meta and no whitespace outside strings, as bulk NDJSON usually is), the stored content
     * is built from the text itself instead of serializing the tree again.
     */
    static PreparedWrite prepare(String type, String id, ObjectNode resource, byte[] source) {
        checkId(id);
        int headEnd = source == null || resource.has("meta") ? -1 : storedHeadEnd(source, type, id);
        if (headEnd >= 0) {
            List<GroupMember> members = "Group".equals(type) ? members(resource) : List.of();
            return new PreparedWrite(type, id, source, headEnd, true, PatientCompartment.patientIds(type, id, resource), members);
        }
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode ordered = f.objectNode();
        ordered.put("resourceType", type);
        ordered.put("id", id);
        ObjectNode meta = ordered.putObject("meta");
        JsonNode oldMeta = resource.get("meta");
        if (oldMeta != null && !oldMeta.isNull()) {
            if (!oldMeta.isObject()) {
                throw new StoreException.Invalid("meta must be a JSON object");
            }
            Iterator<Map.Entry<String, JsonNode>> it = oldMeta.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getKey().equals("versionId") && !e.getKey().equals("lastUpdated")) {
                    meta.set(e.getKey(), e.getValue());
                }
            }
        }
        Iterator<Map.Entry<String, JsonNode>> it = resource.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String k = e.getKey();
            if (!k.equals("resourceType") && !k.equals("id") && !k.equals("meta")) {
                ordered.set(k, e.getValue());
            }
        }
        String text = FhirJson.write(ordered);
        String prefix = prefix(type, id);
        if (!text.startsWith(prefix)) {
            throw new IllegalStateException("unexpected serialization prefix for " + type + "/" + id);
        }
        List<GroupMember> members = "Group".equals(type) ? members(resource) : List.of();
        // the prefix is ASCII (a known type, a valid id): its length in chars is its length in bytes
        return new PreparedWrite(type, id, text.getBytes(StandardCharsets.UTF_8), prefix.length(), false,
                PatientCompartment.patientIds(type, id, resource), members);
    }

    private static void checkId(String id) {
        if (!ResourceTypes.isValidId(id)) {
            throw new StoreException.Invalid("invalid resource id '" + id + "': must match [A-Za-z0-9\\-.]{1,64}");
        }
    }

    /**
     * The ingest fast path: prepares a line already in stored form (it starts with
     * {@code {"resourceType":T,"id":I}, has no top-level meta and no whitespace outside strings, as bulk
     * NDJSON usually is) with one pass over its bytes ({@link MinifiedJsonScanner}) that checks the JSON
     * and collects the Patient compartment, without building a tree. Returns null for every other line,
     * valid or not, and for Groups (their members are read from the tree):
     * {@link #prepare(String, String, ObjectNode, byte[])} takes those and reports what is wrong with them.
     */
    static PreparedWrite prepareStoredForm(byte[] utf8) {
        if (!startsWith(utf8, 0, TYPE_START)) {
            return null;
        }
        int typeEnd = indexOfQuote(utf8, TYPE_START.length());
        if (typeEnd < 0 || !startsWith(utf8, typeEnd, ID_START)) {
            return null;
        }
        int idStart = typeEnd + ID_START.length();
        int idEnd = indexOfQuote(utf8, idStart);
        if (idEnd < 0) {
            return null;
        }
        // a known type and a valid id are ASCII; other bytes read as Latin-1 fail these checks
        String type = new String(utf8, TYPE_START.length(), typeEnd - TYPE_START.length(), StandardCharsets.ISO_8859_1);
        String id = new String(utf8, idStart, idEnd - idStart, StandardCharsets.ISO_8859_1);
        if (!ResourceTypes.isKnown(type) || "Group".equals(type) || !ResourceTypes.isValidId(id)) {
            return null;
        }
        int headEnd = idEnd + 1;
        if (!headGoesOn(utf8, headEnd)) {
            return null;
        }
        Set<String> patients = MinifiedJsonScanner.patientIds(type, id, utf8, "meta");
        return patients == null ? null : new PreparedWrite(type, id, utf8, headEnd, true, patients, List.of());
    }

    private static final String TYPE_START = "{\"resourceType\":\"";
    private static final String ID_START = "\",\"id\":\"";

    /**
     * Where the head {@code {"resourceType":T,"id":I} of UTF-8 JSON text ends, when the text starts with
     * it, goes on with {@code ,} or {@code }} and has no whitespace outside strings; -1 when the text is
     * not in that form.
     */
    static int storedHeadEnd(byte[] utf8, String type, String id) {
        String head = head(type, id);
        // the head is ASCII (a known type, a valid id): its length in chars is its length in bytes
        return startsWith(utf8, 0, head) && headGoesOn(utf8, head.length()) && minified(utf8, head.length())
                ? head.length() : -1;
    }

    private static boolean startsWith(byte[] utf8, int at, String ascii) {
        if (at + ascii.length() > utf8.length) {
            return false;
        }
        for (int i = 0; i < ascii.length(); i++) {
            if (utf8[at + i] != ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOfQuote(byte[] utf8, int from) {
        for (int i = from; i < utf8.length; i++) {
            if (utf8[i] == '"') {
                return i;
            }
        }
        return -1;
    }

    /**
     * True when the head {@code {"resourceType":T,"id":I} (ending at {@code headEnd}) is followed by another
     * field or ends the object: the server meta is spliced in there.
     */
    private static boolean headGoesOn(byte[] utf8, int headEnd) {
        return headEnd < utf8.length && (utf8[headEnd] == ',' || utf8[headEnd] == '}');
    }

    /**
     * True when there is no JSON whitespace outside strings from {@code from} on (the text is valid JSON;
     * bytes of multi-byte characters are never quotes, backslashes or whitespace).
     */
    private static boolean minified(byte[] utf8, int from) {
        boolean inString = false;
        for (int i = from; i < utf8.length; i++) {
            byte c = utf8[i];
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                return false;
            }
        }
        return true;
    }

    /** The fixed start of every stored content, up to and including {@code "meta":{}. */
    static String prefix(String type, String id) {
        return head(type, id) + ",\"meta\":{";
    }

    /** {@code {"resourceType":T,"id":I} as every stored content (and most bulk NDJSON) starts. */
    private static String head(String type, String id) {
        return "{\"resourceType\":\"" + type + "\",\"id\":\"" + id + "\"";
    }

    /** The stored JSON of a version as UTF-8: the prefix, the server meta, then the tail of the write's source text. */
    static byte[] content(PreparedWrite w, long versionId, String lastUpdated) {
        byte[] source = w.source();
        int from = w.tailFrom();
        // the tail either follows the head (the server meta is closed before it) or goes on inside the meta
        String join = w.afterHead() ? "}" : from < source.length && source[from] == '}' ? "" : ",";
        // everything before the tail is ASCII (the type, a valid id, digits and an ISO instant): one byte per char
        String head = prefix(w.resourceType(), w.id()) + "\"versionId\":\"" + versionId
                + "\",\"lastUpdated\":\"" + lastUpdated + '"' + join;
        byte[] out = new byte[head.length() + source.length - from];
        for (int i = 0; i < head.length(); i++) {
            out[i] = (byte) head.charAt(i);
        }
        System.arraycopy(source, from, out, head.length(), source.length - from);
        return out;
    }

    private static List<GroupMember> members(ObjectNode group) {
        JsonNode arr = group.get("member");
        if (arr == null || arr.isNull()) {
            return List.of();
        }
        if (!arr.isArray()) {
            throw new StoreException.Invalid("Group.member must be an array");
        }
        List<GroupMember> out = new ArrayList<>();
        int i = 0;
        for (JsonNode m : arr) {
            String ref = m.path("entity").path("reference").asText("");
            String[] parts = ref.split("/");
            if (parts.length < 2 || !ResourceTypes.isValidId(parts[parts.length - 1])
                    || !(parts[parts.length - 2].equals("Patient") || parts[parts.length - 2].equals("Group"))) {
                // members that are not a Patient or Group reference (e.g. Device) take no part in exports
                i++;
                continue;
            }
            JsonNode period = m.path("period");
            Instant start = dateTime(period.path("start"), false, "Group.member[" + i + "].period.start");
            Instant end = dateTime(period.path("end"), true, "Group.member[" + i + "].period.end");
            out.add(new GroupMember(parts[parts.length - 2], parts[parts.length - 1], start, end,
                    m.path("inactive").asBoolean(false)));
            i++;
        }
        return out;
    }

    /**
     * A FHIR dateTime as an instant: full date-times with offset as given; partial dates (YYYY,
     * YYYY-MM, YYYY-MM-DD, taken as UTC) as the start of that period, or for a period end as the
     * start of the next one.
     */
    static Instant dateTime(JsonNode node, boolean end, String where) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return null;
        }
        String s = node.asText();
        try {
            if (s.length() > 10) {
                return OffsetDateTime.parse(s).toInstant();
            }
            if (s.length() == 10) {
                LocalDate d = LocalDate.parse(s);
                return (end ? d.plusDays(1) : d).atStartOfDay().toInstant(ZoneOffset.UTC);
            }
            if (s.length() == 7) {
                YearMonth ym = YearMonth.parse(s);
                return (end ? ym.plusMonths(1) : ym).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
            }
            if (s.length() == 4) {
                Year y = Year.parse(s);
                return (end ? y.plusYears(1) : y).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
            }
        } catch (DateTimeParseException e) {
            // fall through
        }
        throw new StoreException.Invalid(where + ": '" + s + "' is not a FHIR dateTime");
    }
}
