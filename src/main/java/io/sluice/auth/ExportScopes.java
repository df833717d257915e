package io.sluice.auth;

import io.sluice.job.ExportRequest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Narrows an export request to the resource types the caller's token may read (SMART scopes).
 * Pure: the export API calls it after parsing the kick-off and turns {@link Narrowed#refusedTypes()}
 * into a 403 OperationOutcome.
 */
public final class ExportScopes {

    private ExportScopes() {
    }

    /**
     * The outcome.
     *
     * @param request      the request to run (unchanged when every type is readable); null when refused
     * @param refusedTypes types the request names ({@code _type} or {@code _typeFilter}) outside the scope;
     *                     non-empty with a null request means "refuse with 403"
     */
    public record Narrowed(ExportRequest request, List<String> refusedTypes) {
        /** Whether the kick-off must be refused (403). */
        public boolean refused() {
            return request == null;
        }
    }

    /**
     * Applies the scope rule.
     * <ul>
     *   <li>{@code readable} = {@code {"*"}}: unchanged;</li>
     *   <li>no {@code _type}: {@code _type} becomes the readable types;</li>
     *   <li>{@code _type}/{@code _typeFilter} naming unreadable types: strict → refused; lenient → those
     *       types and filters are dropped and reported in {@code lenientIssues}; refused as well when no
     *       requested type is left.</li>
     * </ul>
     *
     * @param readable {@link Caller#readableTypesOrAll()}
     * @param lenient  whether the client sent {@code Prefer: handling=lenient}
     */
    public static Narrowed narrow(ExportRequest r, Set<String> readable, boolean lenient) {
        if (readable.contains(SmartScope.ALL_TYPES)) {
            return new Narrowed(r, List.of());
        }
        Set<String> outside = new TreeSet<>();
        r.types().stream().filter(t -> !readable.contains(t)).forEach(outside::add);
        r.typeFilters().keySet().stream().filter(t -> !readable.contains(t)).forEach(outside::add);
        if (!outside.isEmpty() && !lenient) {
            return new Narrowed(null, List.copyOf(outside));
        }
        List<String> types;
        if (r.types().isEmpty()) {
            types = List.copyOf(new TreeSet<>(readable));
        } else {
            types = r.types().stream().filter(readable::contains).toList();
            if (types.isEmpty()) {
                return new Narrowed(null, List.copyOf(outside));
            }
        }
        Map<String, List<String>> filters = new LinkedHashMap<>();
        r.typeFilters().forEach((t, f) -> {
            if (readable.contains(t)) {
                filters.put(t, f);
            }
        });
        List<String> issues = new ArrayList<>(r.lenientIssues());
        if (!outside.isEmpty()) {
            issues.add("resource types outside the access token's scope were not exported: " + String.join(", ", outside));
        }
        return new Narrowed(new ExportRequest(types, r.since(), r.until(), r.elements(), r.patients(), filters,
                r.includeAssociatedData(), issues), List.copyOf(outside));
    }
}
