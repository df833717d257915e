package io.sluice.auth;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** The SMART system scopes a client may ask for or a token carries. Immutable. */
public final class ScopeSet {

    /** No scope at all. */
    public static final ScopeSet EMPTY = new ScopeSet(List.of());

    private final List<SmartScope> scopes;

    private ScopeSet(List<SmartScope> scopes) {
        this.scopes = List.copyOf(scopes);
    }

    /** The system resource scopes of a space-separated scope string; other tokens are ignored. */
    public static ScopeSet parse(String scopeString) {
        List<SmartScope> out = new ArrayList<>();
        for (String token : tokens(scopeString)) {
            SmartScope.parse(token).filter(SmartScope::isSystem).ifPresent(out::add);
        }
        return new ScopeSet(out);
    }

    /** Tokens of a space-separated scope string that are not supported system scopes. */
    public static List<String> unsupported(String scopeString) {
        List<String> out = new ArrayList<>();
        for (String token : tokens(scopeString)) {
            if (SmartScope.parse(token).filter(SmartScope::isSystem).isEmpty()) {
                out.add(token);
            }
        }
        return out;
    }

    private static List<String> tokens(String s) {
        if (s == null || s.isBlank()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String t : s.trim().split("[ \\t]+")) {
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    /**
     * What a token request gets: for each requested system scope, the part the allowed scopes cover
     * (the whole scope when fully covered, e.g. system/Patient.rs under system/*.read; the intersection
     * when partly covered, e.g. system/*.read under system/Observation.rs gives system/Observation.rs).
     * Unsupported or non-system requested scopes are dropped. Empty when nothing is granted.
     */
    public static ScopeSet grant(String requested, ScopeSet allowed) {
        List<SmartScope> granted = new ArrayList<>();
        for (String token : tokens(requested)) {
            SmartScope r = SmartScope.parse(token).filter(SmartScope::isSystem).orElse(null);
            if (r == null) {
                continue;
            }
            for (SmartScope a : allowed.scopes) {
                r.intersect(a).ifPresent(granted::add);
            }
        }
        return new ScopeSet(minimal(granted));
    }

    /** Drops scopes another scope of the list already covers (keeps the first of equal ones). */
    private static List<SmartScope> minimal(List<SmartScope> in) {
        List<SmartScope> out = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            SmartScope s = in.get(i);
            boolean redundant = false;
            for (int j = 0; j < in.size() && !redundant; j++) {
                if (i == j) {
                    continue;
                }
                SmartScope o = in.get(j);
                boolean covered = s.coveredBy(o);
                boolean equal = covered && o.coveredBy(s);
                redundant = covered && (!equal || j < i);
            }
            if (!redundant) {
                out.add(s);
            }
        }
        return out;
    }

    /** Whether some scope gives any of {@code wanted} permissions ({@link SmartScope} bits) on the type; {@code *} asks for every type. */
    public boolean permits(String resourceType, int wanted) {
        return scopes.stream().anyMatch(s -> s.grants(resourceType, wanted));
    }

    /** Whether some scope allows reading some type. */
    public boolean permitsSomeRead() {
        return scopes.stream().anyMatch(s -> (s.permissions() & SmartScope.READ) != 0);
    }

    /** Types with read permission; {@code Set.of("*")} when every type is readable. */
    public Set<String> readableTypesOrAll() {
        if (permits(SmartScope.ALL_TYPES, SmartScope.READ)) {
            return Set.of(SmartScope.ALL_TYPES);
        }
        return Collections.unmodifiableSet(scopes.stream()
                .filter(s -> (s.permissions() & SmartScope.READ) != 0)
                .map(SmartScope::type)
                .collect(Collectors.<String, TreeSet<String>>toCollection(TreeSet::new)));
    }

    public boolean isEmpty() {
        return scopes.isEmpty();
    }

    public List<SmartScope> scopes() {
        return scopes;
    }

    /** Space-separated scope string, without duplicates. */
    @Override
    public String toString() {
        Set<String> s = new LinkedHashSet<>();
        scopes.forEach(x -> s.add(x.toString()));
        return String.join(" ", s);
    }
}
