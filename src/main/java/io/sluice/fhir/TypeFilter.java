package io.sluice.fhir;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compiles {@code _typeFilter} queries into predicates over a resource's stored JSON.
 *
 * <p>A query is the part after {@code Type?}: {@code name=value&name=value}. Parameters are AND'ed,
 * comma-separated values within one parameter are OR'ed, several queries of one type are OR'ed.
 * Names and values are percent-decoded once more (clients often double-encode); {@code \,} and
 * {@code \|} are literal characters. No modifiers, chains, {@code _has} or prefixes other than
 * listed are supported.
 *
 * <p>Supported search parameters (R4 definitions, evaluated on the stored JSON):
 * <table>
 * <caption>_typeFilter parameters</caption>
 * <tr><th>Type</th><th>Parameter</th><th>Kind</th><th>Element(s)</th></tr>
 * <tr><td>every type</td><td>_id</td><td>token (exact id)</td><td>id</td></tr>
 * <tr><td>every type</td><td>_lastUpdated</td><td>date</td><td>meta.lastUpdated</td></tr>
 * <tr><td>every type</td><td>identifier</td><td>token</td><td>identifier</td></tr>
 * </table>
 * and the per-type table in {@link #PARAMETERS} (rendered in {@code docs/export-api.md}). Token
 * values: {@code code}, {@code system|code}, {@code |code} (no system), {@code system|}. Date values:
 * optional prefix {@code eq ne lt le gt ge sa eb} then {@code YYYY}, {@code YYYY-MM},
 * {@code YYYY-MM-DD} or a dateTime; the value's precision gives its range; dates and times
 * without a zone are taken as UTC. Reference values: {@code Type/id}, {@code id} or an absolute URL
 * ending in {@code Type/id}.
 *
 * <p>Errors are {@link InvalidFilterException}s: {@code unsupported()} ones (unknown parameter,
 * modifier, chain, {@code ap} prefix) fall under {@code Prefer: handling}; the others (syntax,
 * bad dates, result-shaping parameters such as {@code _include}) are always refused.
 */
public final class TypeFilter {

    /** A filter that cannot be used; {@link #unsupported()} tells a valid-but-unsupported one from a malformed one. */
    public static final class InvalidFilterException extends RuntimeException {
        private final boolean unsupported;

        public InvalidFilterException(boolean unsupported, String message) {
            super(message, null, false, false);
            this.unsupported = unsupported;
        }

        /** True for valid FHIR search syntax that Sluice does not evaluate. */
        public boolean unsupported() {
            return unsupported;
        }
    }

    /** Kinds of search parameter. */
    public enum Kind { TOKEN, DATE, REFERENCE }

    /**
     * One supported search parameter.
     *
     * @param paths      element paths (dot-separated, arrays flattened; choice types listed per concrete name)
     * @param targetType for reference parameters restricted to one type (e.g. {@code patient}), else null
     */
    public record Param(String name, Kind kind, List<String> paths, String targetType) {
    }

    /** Parameters that change the shape of results rather than select resources: never allowed in a filter. */
    public static final Set<String> RESULT_PARAMETERS = Set.of(
            "_include", "_revinclude", "_sort", "_count", "_elements", "_summary", "_total", "_contained",
            "_containedType", "_format", "_pretty");

    /** Parameters of every type. */
    public static final List<Param> COMMON = List.of(
            new Param("_id", Kind.TOKEN, List.of("id"), null),
            new Param("_lastUpdated", Kind.DATE, List.of("meta.lastUpdated"), null),
            new Param("identifier", Kind.TOKEN, List.of("identifier"), null));

    /** Supported parameters per resource type (besides {@link #COMMON}). */
    public static final Map<String, List<Param>> PARAMETERS = buildTable();

    private static final Pattern PREFIXED = Pattern.compile("^(eq|ne|lt|le|gt|ge|sa|eb|ap)?(.*)$");
    private static final Pattern DATE = Pattern.compile(
            "^(\\d{4})(?:-(\\d{2})(?:-(\\d{2})(?:T(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,9}))?)?(Z|[+-]\\d{2}:\\d{2})?)?)?)?$");
    private static final Pattern NAME = Pattern.compile("^[A-Za-z_][A-Za-z0-9_\\-]*(?:[:.].*)?$");

    private TypeFilter() {
    }

    private static Map<String, List<Param>> buildTable() {
        Map<String, List<Param>> t = new LinkedHashMap<>();
        t.put("Observation", List.of(tok("code", "code"), tok("category", "category"), tok("status", "status"),
                date("date", "effectiveDateTime", "effectivePeriod", "effectiveInstant", "effectiveTiming.event"),
                ref("subject", "subject"), patient("subject"), ref("encounter", "encounter")));
        t.put("Condition", List.of(tok("code", "code"), tok("category", "category"),
                tok("clinical-status", "clinicalStatus"), tok("verification-status", "verificationStatus"),
                date("onset-date", "onsetDateTime", "onsetPeriod"), date("recorded-date", "recordedDate"),
                date("abatement-date", "abatementDateTime", "abatementPeriod"),
                ref("subject", "subject"), patient("subject"), ref("encounter", "encounter")));
        t.put("Encounter", List.of(tok("status", "status"), tok("class", "class"), tok("type", "type"),
                tok("reason-code", "reasonCode"), date("date", "period"),
                ref("subject", "subject"), patient("subject")));
        t.put("Procedure", List.of(tok("code", "code"), tok("status", "status"), tok("category", "category"),
                date("date", "performedDateTime", "performedPeriod"),
                ref("subject", "subject"), patient("subject"), ref("encounter", "encounter")));
        t.put("MedicationRequest", List.of(tok("code", "medicationCodeableConcept"), tok("status", "status"),
                tok("intent", "intent"), tok("category", "category"), date("authoredon", "authoredOn"),
                ref("subject", "subject"), patient("subject"), ref("encounter", "encounter")));
        t.put("MedicationAdministration", List.of(tok("code", "medicationCodeableConcept"), tok("status", "status"),
                date("effective-time", "effectiveDateTime", "effectivePeriod"),
                ref("subject", "subject"), patient("subject"), ref("context", "context")));
        t.put("DiagnosticReport", List.of(tok("code", "code"), tok("category", "category"), tok("status", "status"),
                date("date", "effectiveDateTime", "effectivePeriod"), date("issued", "issued"),
                ref("subject", "subject"), patient("subject"), ref("encounter", "encounter")));
        t.put("Immunization", List.of(tok("vaccine-code", "vaccineCode"), tok("status", "status"),
                date("date", "occurrenceDateTime"), patientRef("patient"), ref("encounter", "encounter")));
        t.put("AllergyIntolerance", List.of(tok("code", "code"), tok("clinical-status", "clinicalStatus"),
                tok("verification-status", "verificationStatus"), tok("category", "category"),
                tok("type", "type"), tok("criticality", "criticality"), date("date", "recordedDate"),
                patientRef("patient")));
        t.put("CarePlan", List.of(tok("category", "category"), tok("status", "status"), tok("intent", "intent"),
                date("date", "period"), ref("subject", "subject"), patient("subject"), ref("encounter", "encounter")));
        t.put("CareTeam", List.of(tok("category", "category"), tok("status", "status"), date("date", "period"),
                ref("subject", "subject"), patient("subject"), ref("encounter", "encounter")));
        t.put("Goal", List.of(tok("lifecycle-status", "lifecycleStatus"), tok("category", "category"),
                ref("subject", "subject"), patient("subject")));
        t.put("Claim", List.of(tok("status", "status"), tok("use", "use"), date("created", "created"),
                patientRef("patient"), ref("encounter", "item.encounter")));
        t.put("ExplanationOfBenefit", List.of(tok("status", "status"), date("created", "created"),
                patientRef("patient"), ref("encounter", "item.encounter")));
        t.put("DocumentReference", List.of(tok("type", "type"), tok("category", "category"), tok("status", "status"),
                date("date", "date"), ref("subject", "subject"), patient("subject"),
                ref("encounter", "context.encounter")));
        t.put("ImagingStudy", List.of(tok("status", "status"), date("started", "started"),
                ref("subject", "subject"), patient("subject"), ref("encounter", "encounter")));
        t.put("Device", List.of(tok("type", "type"), tok("status", "status"), patientRef("patient")));
        t.put("SupplyDelivery", List.of(tok("status", "status"), patientRef("patient")));
        t.put("Patient", List.of(tok("gender", "gender"), date("birthdate", "birthDate"), tok("active", "active"),
                date("death-date", "deceasedDateTime")));
        t.put("Practitioner", List.of(tok("gender", "gender"), tok("active", "active")));
        t.put("Organization", List.of(tok("type", "type"), tok("active", "active")));
        t.put("Location", List.of(tok("type", "type"), tok("status", "status")));
        return java.util.Collections.unmodifiableMap(t);
    }

    private static Param tok(String name, String... paths) {
        return new Param(name, Kind.TOKEN, List.of(paths), null);
    }

    private static Param date(String name, String... paths) {
        return new Param(name, Kind.DATE, List.of(paths), null);
    }

    private static Param ref(String name, String... paths) {
        return new Param(name, Kind.REFERENCE, List.of(paths), null);
    }

    private static Param patient(String path) {
        return new Param("patient", Kind.REFERENCE, List.of(path), "Patient");
    }

    private static Param patientRef(String path) {
        return new Param("patient", Kind.REFERENCE, List.of(path), "Patient");
    }

    /** The parameter {@code name} of {@code resourceType}, or null when not supported. */
    public static Param lookup(String resourceType, String name) {
        for (Param p : COMMON) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        for (Param p : PARAMETERS.getOrDefault(resourceType, List.of())) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    /**
     * Compiles every query of one type into one predicate (queries OR'ed). An empty list matches everything.
     *
     * @throws InvalidFilterException when a query cannot be used
     */
    public static Predicate<JsonNode> compile(String resourceType, List<String> queries) {
        if (queries == null || queries.isEmpty()) {
            return r -> true;
        }
        List<Predicate<JsonNode>> any = new ArrayList<>();
        for (String q : queries) {
            any.add(compileQuery(resourceType, q));
        }
        return r -> {
            for (Predicate<JsonNode> p : any) {
                if (p.test(r)) {
                    return true;
                }
            }
            return false;
        };
    }

    /** Compiles one query ({@code a=1&b=2}, parameters AND'ed). */
    public static Predicate<JsonNode> compileQuery(String resourceType, String query) {
        if (query == null || query.isBlank()) {
            throw new InvalidFilterException(false, "empty _typeFilter query for " + resourceType);
        }
        List<Predicate<JsonNode>> all = new ArrayList<>();
        for (String pair : query.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new InvalidFilterException(false, "_typeFilter " + resourceType + "?" + query
                        + ": '" + pair + "' is not name=value");
            }
            String name = percentDecode(pair.substring(0, eq));
            String value = percentDecode(pair.substring(eq + 1));
            all.add(compileParameter(resourceType, name, value));
        }
        if (all.isEmpty()) {
            throw new InvalidFilterException(false, "empty _typeFilter query for " + resourceType);
        }
        return r -> {
            for (Predicate<JsonNode> p : all) {
                if (!p.test(r)) {
                    return false;
                }
            }
            return true;
        };
    }

    private static Predicate<JsonNode> compileParameter(String type, String name, String value) {
        if (!NAME.matcher(name).matches()) {
            throw new InvalidFilterException(false, "_typeFilter for " + type + ": '" + name + "' is not a search parameter name");
        }
        String base = name.split("[:.]", 2)[0];
        if (RESULT_PARAMETERS.contains(base)) {
            throw new InvalidFilterException(false, "_typeFilter for " + type + " may not use " + base
                    + " (only parameters that select resources are allowed)");
        }
        if (name.contains(":")) {
            throw new InvalidFilterException(true, "_typeFilter for " + type + ": modifier in '" + name + "' is not supported");
        }
        if (name.contains(".") || base.equals("_has")) {
            throw new InvalidFilterException(true, "_typeFilter for " + type + ": chained parameter '" + name + "' is not supported");
        }
        Param p = lookup(type, base);
        if (p == null) {
            throw new InvalidFilterException(true, "_typeFilter for " + type + ": search parameter '" + base
                    + "' is not supported (see docs/export-api.md for the supported list)");
        }
        List<String> alternatives = splitUnescaped(value, ',');
        if (alternatives.isEmpty() || alternatives.stream().anyMatch(String::isEmpty)) {
            throw new InvalidFilterException(false, "_typeFilter for " + type + ": empty value for " + base);
        }
        List<Predicate<JsonNode>> any = new ArrayList<>();
        for (String alt : alternatives) {
            any.add(switch (p.kind()) {
                case TOKEN -> p.name().equals("_id") ? idMatcher(unescape(alt)) : tokenMatcher(p, alt);
                case DATE -> dateMatcher(type, p, alt);
                case REFERENCE -> referenceMatcher(p, unescape(alt));
            });
        }
        return r -> {
            for (Predicate<JsonNode> m : any) {
                if (m.test(r)) {
                    return true;
                }
            }
            return false;
        };
    }

    // ---- token

    private static Predicate<JsonNode> idMatcher(String id) {
        return r -> id.equals(r.path("id").asText(null));
    }

    private static Predicate<JsonNode> tokenMatcher(Param p, String raw) {
        List<String> parts = splitUnescaped(raw, '|');
        String system;
        String code;
        boolean systemGiven;
        if (parts.size() == 1) {
            systemGiven = false;
            system = null;
            code = unescape(parts.get(0));
        } else if (parts.size() == 2) {
            systemGiven = true;
            system = unescape(parts.get(0));
            code = parts.get(1).isEmpty() ? null : unescape(parts.get(1));
        } else {
            throw new InvalidFilterException(false, "_typeFilter: token '" + raw + "' of " + p.name() + " has more than one '|'");
        }
        return r -> {
            for (JsonNode n : resolve(r, p.paths())) {
                if (tokenMatches(n, systemGiven, system, code)) {
                    return true;
                }
            }
            return false;
        };
    }

    private static boolean tokenMatches(JsonNode n, boolean systemGiven, String system, String code) {
        if (n.isTextual() || n.isBoolean() || n.isNumber()) {
            // a plain code: it has no system
            return (!systemGiven || system.isEmpty()) && code != null && code.equals(n.asText());
        }
        if (!n.isObject()) {
            return false;
        }
        if (n.has("coding")) {
            for (JsonNode c : n.path("coding")) {
                if (codingMatches(c, "code", systemGiven, system, code)) {
                    return true;
                }
            }
            return false;
        }
        if (n.has("value") && !n.has("code")) {
            return codingMatches(n, "value", systemGiven, system, code); // Identifier
        }
        return codingMatches(n, "code", systemGiven, system, code);
    }

    private static boolean codingMatches(JsonNode c, String codeField, boolean systemGiven, String system, String code) {
        String s = c.path("system").asText(null);
        String v = c.path(codeField).asText(null);
        if (systemGiven) {
            boolean systemOk = system.isEmpty() ? s == null : system.equals(s);
            return systemOk && (code == null || code.equals(v));
        }
        return code != null && code.equals(v);
    }

    // ---- reference

    private static Predicate<JsonNode> referenceMatcher(Param p, String raw) {
        String[] wanted = referenceParts(raw);
        if (wanted[1] == null || wanted[1].isEmpty()) {
            throw new InvalidFilterException(false, "_typeFilter: '" + raw + "' is not a reference for " + p.name());
        }
        String wantedType = wanted[0] != null ? wanted[0] : p.targetType();
        if (p.targetType() != null && wanted[0] != null && !wanted[0].equals(p.targetType())) {
            throw new InvalidFilterException(false, "_typeFilter: " + p.name() + " takes a " + p.targetType()
                    + " reference, not '" + raw + "'");
        }
        return r -> {
            for (JsonNode n : resolve(r, p.paths())) {
                String ref = n.path("reference").asText(null);
                if (ref == null) {
                    continue;
                }
                String[] have = referenceParts(ref);
                if (!wanted[1].equals(have[1])) {
                    continue;
                }
                if (wantedType == null || have[0] == null || wantedType.equals(have[0])) {
                    return true;
                }
            }
            return false;
        };
    }

    /** {type or null, id} of a reference string or search value. */
    static String[] referenceParts(String ref) {
        if (ref.startsWith("urn:uuid:")) {
            return new String[] {null, ref.substring("urn:uuid:".length())};
        }
        String s = ref;
        int h = s.indexOf("/_history/");
        if (h >= 0) {
            s = s.substring(0, h);
        }
        String[] segs = s.split("/");
        if (segs.length == 1) {
            return new String[] {null, segs[0]};
        }
        return new String[] {segs[segs.length - 2], segs[segs.length - 1]};
    }

    // ---- date

    /** A half-open range [lo, hi) in epoch microseconds. */
    record Range(long lo, long hi) {
    }

    private static Predicate<JsonNode> dateMatcher(String type, Param p, String raw) {
        Matcher m = PREFIXED.matcher(raw);
        m.matches();
        String prefix = m.group(1) == null ? "eq" : m.group(1);
        if (prefix.equals("ap")) {
            throw new InvalidFilterException(true, "_typeFilter for " + type + ": prefix 'ap' of " + p.name() + " is not supported");
        }
        Range v = parseRange(m.group(2));
        if (v == null) {
            throw new InvalidFilterException(false, "_typeFilter for " + type + ": '" + raw + "' is not a valid date for "
                    + p.name() + " (use [prefix]YYYY[-MM[-DD[Thh:mm[:ss[.fff]][Z|+hh:mm]]]])");
        }
        return r -> {
            for (JsonNode n : resolve(r, p.paths())) {
                Range t = targetRange(n);
                if (t != null && compare(prefix, v, t)) {
                    return true;
                }
            }
            return false;
        };
    }

    static boolean compare(String prefix, Range v, Range t) {
        boolean eq = v.lo <= t.lo && t.hi <= v.hi;
        return switch (prefix) {
            case "eq" -> eq;
            case "ne" -> !eq;
            case "gt" -> t.hi > v.hi;
            case "lt" -> t.lo < v.lo;
            case "ge" -> t.hi > v.hi || eq;
            case "le" -> t.lo < v.lo || eq;
            case "sa" -> t.lo >= v.hi;
            case "eb" -> t.hi <= v.lo;
            default -> throw new IllegalStateException(prefix);
        };
    }

    private static Range targetRange(JsonNode n) {
        if (n.isTextual()) {
            return parseRange(n.asText());
        }
        if (n.isObject() && (n.has("start") || n.has("end"))) {
            Range s = n.has("start") ? parseRange(n.path("start").asText()) : null;
            Range e = n.has("end") ? parseRange(n.path("end").asText()) : null;
            return new Range(s == null ? Long.MIN_VALUE : s.lo, e == null ? Long.MAX_VALUE : e.hi);
        }
        return null;
    }

    /** The range a FHIR date/dateTime/instant covers at its precision, or null when it does not parse. */
    static Range parseRange(String s) {
        Matcher m = DATE.matcher(s);
        if (!m.matches()) {
            return null;
        }
        try {
            int year = Integer.parseInt(m.group(1));
            if (m.group(2) == null) {
                LocalDateTime lo = LocalDate.of(year, 1, 1).atStartOfDay();
                return range(lo, lo.plusYears(1), ZoneOffset.UTC);
            }
            int month = Integer.parseInt(m.group(2));
            if (m.group(3) == null) {
                LocalDateTime lo = LocalDate.of(year, month, 1).atStartOfDay();
                return range(lo, lo.plusMonths(1), ZoneOffset.UTC);
            }
            LocalDate day = LocalDate.of(year, month, Integer.parseInt(m.group(3)));
            if (m.group(4) == null) {
                return range(day.atStartOfDay(), day.plusDays(1).atStartOfDay(), ZoneOffset.UTC);
            }
            ZoneOffset zone = m.group(8) == null || m.group(8).equals("Z") ? ZoneOffset.UTC : ZoneOffset.of(m.group(8));
            LocalDateTime t = day.atTime(Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)));
            if (m.group(6) == null) {
                return range(t, t.plusMinutes(1), zone);
            }
            t = t.withSecond(Integer.parseInt(m.group(6)));
            if (m.group(7) == null) {
                return range(t, t.plusSeconds(1), zone);
            }
            String frac = m.group(7);
            long nanos = Long.parseLong((frac + "000000000").substring(0, 9));
            long step = (long) Math.pow(10, 9 - frac.length());
            t = t.withNano((int) nanos);
            return range(t, t.plusNanos(Math.max(step, 1000)), zone);
        } catch (DateTimeException | NumberFormatException e) {
            return null;
        }
    }

    private static Range range(LocalDateTime lo, LocalDateTime hi, ZoneOffset zone) {
        return new Range(micros(OffsetDateTime.of(lo, zone)), micros(OffsetDateTime.of(hi, zone)));
    }

    private static long micros(OffsetDateTime t) {
        return ChronoUnit.MICROS.between(java.time.Instant.EPOCH, t.toInstant());
    }

    // ---- helpers

    /** Values at the given paths, arrays flattened at every step. */
    static List<JsonNode> resolve(JsonNode root, List<String> paths) {
        List<JsonNode> out = new ArrayList<>();
        for (String path : paths) {
            List<JsonNode> current = List.of(root);
            for (String seg : path.split("\\.")) {
                List<JsonNode> next = new ArrayList<>();
                for (JsonNode c : current) {
                    JsonNode v = c.get(seg);
                    if (v == null || v.isNull()) {
                        continue;
                    }
                    if (v.isArray()) {
                        v.forEach(next::add);
                    } else {
                        next.add(v);
                    }
                }
                current = next;
            }
            out.addAll(current);
        }
        return out;
    }

    static List<String> splitUnescaped(String s, char sep) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                cur.append(c).append(s.charAt(++i));
            } else if (c == sep) {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                c = s.charAt(++i);
            }
            b.append(c);
        }
        return b.toString();
    }

    /** Decodes %XX escapes (UTF-8); '+' stays '+' (it appears in time zone offsets). */
    static String percentDecode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c != '%') {
                out.append(c);
                i++;
                continue;
            }
            bytes.reset();
            while (i < s.length() && s.charAt(i) == '%') {
                int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
                int lo = i + 2 < s.length() ? Character.digit(s.charAt(i + 2), 16) : -1;
                if (hi < 0 || lo < 0) {
                    throw new InvalidFilterException(false, "_typeFilter: bad percent escape in '" + s + "'");
                }
                bytes.write(hi * 16 + lo);
                i += 3;
            }
            out.append(bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
        }
        return out.toString();
    }
}
