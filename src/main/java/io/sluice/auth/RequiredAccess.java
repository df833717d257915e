package io.sluice.auth;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a FHIR request needs, decided from its method and the path segments after the FHIR base.
 *
 * <ul>
 *   <li>public (no token): GET/HEAD {@code metadata}, {@code .well-known/smart-configuration}, {@code OperationDefinition/[id]};</li>
 *   <li>{@link Kind#READ_ANY} (some read scope; the API narrows by {@link Caller#readableTypesOrAll()} and checks
 *       job ownership): any path with a {@code $export...} segment (kick-off GET/POST, status, cancel, files),
 *       and GET/HEAD/DELETE of other paths whose first segment is not a resource type, {@code _history} or
 *       {@code _search} (the export API's status and file URLs);</li>
 *   <li>{@link Kind#READ} of types: GET/HEAD/OPTIONS of {@code [Type]...} (both types for a compartment
 *       search {@code Patient/1/Observation}), POST {@code [Type]/_search} or a read operation;
 *       GET of the base itself, {@code _history} or {@code _search} needs read of every type ({@code *});</li>
 *   <li>{@link Kind#WRITE} of types: POST/PUT/PATCH/DELETE of {@code [Type]...}; {@code $ingest} at a type;
 *       POST of the base (transaction/batch), {@code $ingest} at the base, or any other base-level POST needs
 *       write of every type ({@code *}).</li>
 * </ul>
 *
 * @param kind  what is needed
 * @param types resource types that all need the permission ({@code *} = every type); empty otherwise
 */
public record RequiredAccess(Kind kind, Set<String> types) {

    /** Kinds of access. */
    public enum Kind { PUBLIC, READ_ANY, READ, WRITE }

    private static final Pattern TYPE = Pattern.compile("[A-Z][A-Za-z]{0,63}");
    private static final Set<String> READ_OPERATIONS = Set.of("_search", "$everything", "$validate", "$meta");

    public static final RequiredAccess PUBLIC = new RequiredAccess(Kind.PUBLIC, Set.of());
    public static final RequiredAccess READ_ANY = new RequiredAccess(Kind.READ_ANY, Set.of());

    static RequiredAccess read(String... types) {
        return new RequiredAccess(Kind.READ, Set.of(types));
    }

    static RequiredAccess write(String... types) {
        return new RequiredAccess(Kind.WRITE, Set.of(types));
    }

    /** Whether a path segment names a resource type. */
    public static boolean isType(String segment) {
        return TYPE.matcher(segment).matches();
    }

    /** Classifies a request; {@code segments} are the decoded, non-empty path segments after the FHIR base. */
    public static RequiredAccess of(String method, List<String> segments) {
        String m = method.toUpperCase(Locale.ROOT);
        boolean reading = m.equals("GET") || m.equals("HEAD") || m.equals("OPTIONS");
        if (segments.isEmpty()) {
            return reading ? read(SmartScope.ALL_TYPES) : write(SmartScope.ALL_TYPES);
        }
        String first = segments.get(0);
        if ((m.equals("GET") || m.equals("HEAD"))
                && ((segments.size() == 1 && first.equals("metadata"))
                || (segments.size() == 2 && first.equals(".well-known") && segments.get(1).equals("smart-configuration"))
                || (segments.size() == 2 && first.equals("OperationDefinition")))) {
            return PUBLIC;
        }
        if (segments.stream().anyMatch(s -> s.startsWith("$export"))) {
            return READ_ANY;
        }
        if (!isType(first)) {
            if (first.equals("_history") || first.equals("_search")) {
                return reading || first.equals("_search") ? read(SmartScope.ALL_TYPES) : write(SmartScope.ALL_TYPES);
            }
            if (reading || m.equals("DELETE")) {
                return first.startsWith("$") ? (reading ? read(SmartScope.ALL_TYPES) : write(SmartScope.ALL_TYPES)) : READ_ANY;
            }
            return write(SmartScope.ALL_TYPES);
        }
        if (reading) {
            if (segments.size() >= 3 && isType(segments.get(2))) {
                return read(first, segments.get(2));
            }
            return read(first);
        }
        if (m.equals("POST") && segments.size() >= 2) {
            String last = segments.get(segments.size() - 1);
            if (READ_OPERATIONS.contains(last)) {
                return segments.size() >= 3 && isType(segments.get(2)) ? read(first, segments.get(2)) : read(first);
            }
        }
        return write(first);
    }

    /** Whether a caller with these scopes may do it. */
    public boolean allowedBy(ScopeSet scopes) {
        return switch (kind) {
            case PUBLIC -> true;
            case READ_ANY -> scopes.permitsSomeRead();
            case READ -> types.stream().allMatch(t -> scopes.permits(t, SmartScope.READ));
            case WRITE -> types.stream().allMatch(t -> scopes.permits(t, SmartScope.WRITE_ANY));
        };
    }

    /** A short description for error messages, e.g. "read access to Patient". */
    public String describe() {
        return switch (kind) {
            case PUBLIC -> "nothing";
            case READ_ANY -> "a read scope (system/<Type|*>.read or .rs)";
            case READ -> "read access to " + String.join(", ", types) + " (system/<Type|*>.read, .rs or .r)";
            case WRITE -> "write access to " + String.join(", ", types) + " (system/<Type|*>.write, .cud, .c, .u or .d)";
        };
    }
}
