package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.fhir.TypeFilter;
import io.sluice.job.ExportLevel;
import io.sluice.job.ExportRequest;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Validates and normalizes the parameters of a {@code $export} kick-off into an {@link ExportRequest}.
 *
 * <p>Malformed input (bad instants, unknown types, unusable {@code _typeFilter}s, a filter for a type
 * outside {@code _type}, an unknown {@code _outputFormat}) is always a 400. Valid but unsupported
 * input (unknown parameters, {@code includeAssociatedData}, {@code patient} on GET, filters using
 * unsupported search parameters) is a 400 under {@code handling=strict} and is ignored and reported in
 * {@link ExportRequest#lenientIssues()} under {@code handling=lenient}.
 */
public final class KickoffParameters {

    /** One parameter as sent: from the query string (GET) or a {@code Parameters.parameter} entry (POST). */
    public record Raw(String name, String value, boolean reference) {
        public static Raw of(String name, String value) {
            return new Raw(name, value, false);
        }
    }

    /** The {@code _outputFormat} spellings that mean NDJSON. */
    public static final Set<String> OUTPUT_FORMATS = Set.of("application/fhir+ndjson", "application/ndjson", "ndjson");

    private static final Pattern INSTANT = Pattern.compile(
            "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$");
    private static final Pattern FHIR_ID = Pattern.compile("^[A-Za-z0-9\\-.]{1,64}$");
    private static final Pattern ELEMENT = Pattern.compile("^(?:([A-Z][A-Za-z]+)\\.)?([a-z][A-Za-z0-9]*)$");

    private final Predicate<String> isResourceType;

    /** @param isResourceType tells R4 resource type names from anything else */
    public KickoffParameters(Predicate<String> isResourceType) {
        this.isResourceType = isResourceType;
    }

    /**
     * Parses a kick-off.
     *
     * @param level   system, patient or group
     * @param post    whether it came as POST with a Parameters body
     * @param params  every parameter in order of appearance
     * @param lenient {@code Prefer: handling=lenient}
     * @throws ApiException (400) for what cannot be accepted
     */
    public ExportRequest parse(ExportLevel level, boolean post, List<Raw> params, boolean lenient) {
        List<String> issues = new ArrayList<>();
        LinkedHashSet<String> types = new LinkedHashSet<>();
        Instant since = null;
        Instant until = null;
        LinkedHashSet<String> elements = new LinkedHashSet<>();
        LinkedHashSet<String> patients = new LinkedHashSet<>();
        Map<String, List<String>> filters = new LinkedHashMap<>();
        boolean typeGiven = false;

        for (Raw p : params) {
            String name = p.name();
            String value = p.value() == null ? "" : p.value().trim();
            if (name.indexOf('\u0000') >= 0 || value.indexOf('\u0000') >= 0) {
                // PostgreSQL text/jsonb cannot hold U+0000: reject it here, also where lenient mode would ignore it
                throw ApiException.badRequest("parameter '" + name.replace('\u0000', '?') + "' contains a NUL character (%00)");
            }
            switch (name) {
                case "_outputFormat" -> {
                    if (!OUTPUT_FORMATS.contains(value)) {
                        throw ApiException.badRequest("_outputFormat '" + value + "' is not supported; use one of "
                                + "application/fhir+ndjson, application/ndjson or ndjson");
                    }
                }
                case "_since" -> {
                    if (since != null) {
                        throw ApiException.badRequest("_since may be given only once");
                    }
                    since = instant("_since", value);
                }
                case "_until" -> {
                    if (until != null) {
                        throw ApiException.badRequest("_until may be given only once");
                    }
                    until = instant("_until", value);
                }
                case "_type" -> {
                    typeGiven = true;
                    for (String t : commaList("_type", value)) {
                        if (!isResourceType.test(t)) {
                            throw ApiException.badRequest("_type: '" + t + "' is not a FHIR R4 resource type");
                        }
                        types.add(t);
                    }
                }
                case "_elements" -> {
                    for (String e : commaList("_elements", value)) {
                        var m = ELEMENT.matcher(e);
                        if (!m.matches()) {
                            throw ApiException.badRequest("_elements: '" + e + "' is neither 'element' nor 'Type.element'");
                        }
                        if (m.group(1) != null && !isResourceType.test(m.group(1))) {
                            throw ApiException.badRequest("_elements: '" + m.group(1) + "' is not a FHIR R4 resource type");
                        }
                        elements.add(e);
                    }
                }
                case "patient" -> {
                    if (level == ExportLevel.SYSTEM) {
                        throw ApiException.badRequest("patient is only allowed at Patient and Group level ($export on Patient or Group/[id])");
                    }
                    if (!post) {
                        unsupported(lenient, issues, "patient is only supported in a POST Parameters body (valueReference); ignored");
                        continue;
                    }
                    if (!p.reference()) {
                        throw ApiException.badRequest("patient must be a valueReference such as {\"reference\": \"Patient/123\"}");
                    }
                    patients.add(patientId(value));
                }
                case "_typeFilter" -> {
                    int q = value.indexOf('?');
                    if (q <= 0 || q == value.length() - 1) {
                        throw ApiException.badRequest("_typeFilter '" + value + "' is not of the form Type?search-parameters");
                    }
                    String type = value.substring(0, q);
                    if (!isResourceType.test(type)) {
                        throw ApiException.badRequest("_typeFilter: '" + type + "' is not a FHIR R4 resource type");
                    }
                    filters.computeIfAbsent(type, k -> new ArrayList<>()).add(value.substring(q + 1));
                }
                case "includeAssociatedData" -> {
                    for (String v : commaList("includeAssociatedData", value)) {
                        unsupported(lenient, issues, "includeAssociatedData value '" + v + "' is not supported; ignored");
                    }
                }
                default -> unsupported(lenient, issues, "parameter '" + name + "' is not supported by this server; ignored");
            }
        }
        if (typeGiven && types.isEmpty()) {
            throw ApiException.badRequest("_type is empty");
        }
        if (since != null && until != null && since.isAfter(until)) {
            throw ApiException.badRequest("_since (" + since + ") is after _until (" + until + ")");
        }
        Map<String, List<String>> usable = new LinkedHashMap<>();
        for (var e : filters.entrySet()) {
            String type = e.getKey();
            if (!types.isEmpty() && !types.contains(type)) {
                throw ApiException.badRequest("_typeFilter for " + type + " but " + type + " is not in _type " + types);
            }
            try {
                TypeFilter.compile(type, e.getValue());
                usable.put(type, List.copyOf(e.getValue()));
            } catch (TypeFilter.InvalidFilterException ex) {
                if (!ex.unsupported()) {
                    throw ApiException.badRequest(ex.getMessage());
                }
                unsupported(lenient, issues, ex.getMessage() + "; every _typeFilter of " + type
                        + " is ignored, so all " + type + " resources are exported");
            }
        }
        return new ExportRequest(List.copyOf(types), since, until, List.copyOf(elements), List.copyOf(patients),
                usable, List.of(), issues);
    }

    /**
     * Reads a FHIR {@code Parameters} body into raw parameters: primitive {@code value[x]} as text,
     * {@code valueReference} as its {@code reference}.
     */
    public static List<Raw> fromParametersResource(JsonNode body) {
        if (body == null || !body.isObject() || !"Parameters".equals(body.path("resourceType").asText())) {
            throw ApiException.badRequest("POST $export needs a FHIR Parameters resource as its body");
        }
        List<Raw> out = new ArrayList<>();
        JsonNode list = body.path("parameter");
        if (!list.isMissingNode() && !list.isArray()) {
            throw ApiException.badRequest("Parameters.parameter must be an array");
        }
        for (JsonNode p : list) {
            String name = p.path("name").asText("");
            if (name.isEmpty()) {
                throw ApiException.badRequest("every Parameters.parameter needs a name");
            }
            Raw raw = null;
            var fields = p.fields();
            while (fields.hasNext()) {
                var f = fields.next();
                if (!f.getKey().startsWith("value")) {
                    continue;
                }
                if (raw != null) {
                    throw ApiException.badRequest("parameter '" + name + "' has more than one value[x]");
                }
                if (f.getKey().equals("valueReference")) {
                    String ref = f.getValue().path("reference").asText("");
                    raw = new Raw(name, ref, true);
                } else if (f.getValue().isValueNode()) {
                    raw = new Raw(name, f.getValue().asText(), false);
                } else {
                    throw ApiException.badRequest("parameter '" + name + "': " + f.getKey() + " is not supported");
                }
            }
            if (raw == null) {
                if (p.has("resource") || p.has("part")) {
                    throw ApiException.badRequest("parameter '" + name + "' must have a value[x]");
                }
                throw ApiException.badRequest("parameter '" + name + "' has no value");
            }
            out.add(raw);
        }
        return out;
    }

    private static void unsupported(boolean lenient, List<String> issues, String message) {
        if (!lenient) {
            throw ApiException.badRequest(message.replace("; ignored", "")
                    + " (send 'Prefer: handling=lenient' to have it ignored)");
        }
        issues.add(message);
    }

    private static List<String> commaList(String param, String value) {
        List<String> out = new ArrayList<>();
        for (String s : value.split(",", -1)) {
            String t = s.trim();
            if (t.isEmpty()) {
                throw ApiException.badRequest(param + " has an empty entry in '" + value + "'");
            }
            out.add(t);
        }
        return out;
    }

    static Instant instant(String param, String value) {
        if (!INSTANT.matcher(value).matches()) {
            throw ApiException.badRequest(param + " '" + value + "' is not a FHIR instant "
                    + "(YYYY-MM-DDThh:mm:ss[.fff] with Z or +hh:mm)");
        }
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest(param + " '" + value + "' is not a valid instant: " + e.getMessage());
        }
    }

    private static String patientId(String reference) {
        String ref = reference.trim();
        if (!ref.startsWith("Patient/") || !FHIR_ID.matcher(ref.substring("Patient/".length())).matches()) {
            throw ApiException.badRequest("patient reference '" + reference + "' must be of the form Patient/[id]");
        }
        return ref.substring("Patient/".length());
    }
}
