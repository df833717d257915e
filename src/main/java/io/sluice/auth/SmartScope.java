package io.sluice.auth;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One SMART resource scope such as {@code system/Patient.read} (v1) or {@code system/*.rs} (v2).
 *
 * <p>Permissions are a bit set of the v2 letters c, r, u, d, s; v1 {@code read} is {@code rs},
 * {@code write} is {@code cud} and {@code *} is {@code cruds}. Scopes with a query restriction
 * ({@code system/Observation.rs?category=...}) are not supported: {@link #parse} returns empty for them.
 *
 * @param context     {@code system}, {@code user} or {@code patient}
 * @param type        a resource type or {@code *}
 * @param permissions bit set of {@link #CREATE}, {@link #READ}, {@link #UPDATE}, {@link #DELETE}, {@link #SEARCH}
 * @param v1          written in SMART v1 syntax (read/write/*)
 */
public record SmartScope(String context, String type, int permissions, boolean v1) {

    public static final int CREATE = 1;
    public static final int READ = 2;
    public static final int UPDATE = 4;
    public static final int DELETE = 8;
    public static final int SEARCH = 16;
    /** Any of create, update, delete. */
    public static final int WRITE_ANY = CREATE | UPDATE | DELETE;
    static final int ALL = CREATE | READ | UPDATE | DELETE | SEARCH;
    private static final String LETTERS = "cruds";

    /** Wildcard resource type. */
    public static final String ALL_TYPES = "*";

    private static final Pattern SYNTAX = Pattern.compile("(system|user|patient)/(\\*|[A-Z][A-Za-z]{0,63})\\.([a-z*]+)");

    /** Parses one scope token; empty when it is not a (supported) SMART resource scope. */
    public static Optional<SmartScope> parse(String token) {
        if (token == null) {
            return Optional.empty();
        }
        Matcher m = SYNTAX.matcher(token);
        if (!m.matches()) {
            return Optional.empty();
        }
        String p = m.group(3);
        int bits;
        boolean v1;
        switch (p) {
            case "read" -> { bits = READ | SEARCH; v1 = true; }
            case "write" -> { bits = WRITE_ANY; v1 = true; }
            case "*" -> { bits = ALL; v1 = true; }
            default -> {
                bits = 0;
                int last = -1;
                for (char ch : p.toCharArray()) {
                    int i = LETTERS.indexOf(ch);
                    if (i <= last) {   // unknown letter, repeated or out of the c-r-u-d-s order
                        return Optional.empty();
                    }
                    last = i;
                    bits |= 1 << i;
                }
                v1 = false;
            }
        }
        return Optional.of(new SmartScope(m.group(1), m.group(2), bits, v1));
    }

    /** True for {@code system/} scopes, the only ones backend services use. */
    public boolean isSystem() {
        return "system".equals(context);
    }

    /** Whether this scope gives any of {@code wanted} permissions on {@code resourceType} ({@code *} = every type). */
    public boolean grants(String resourceType, int wanted) {
        boolean typeOk = ALL_TYPES.equals(type) || type.equals(resourceType);
        return typeOk && (permissions & wanted) != 0;
    }

    /** Whether everything this scope allows is also allowed by {@code other}. */
    public boolean coveredBy(SmartScope other) {
        return context.equals(other.context)
                && (ALL_TYPES.equals(other.type) || other.type.equals(type))
                && (permissions & ~other.permissions) == 0;
    }

    /** The part of this scope that {@code allowed} also allows, written in this scope's syntax; empty when none. */
    public Optional<SmartScope> intersect(SmartScope allowed) {
        if (!context.equals(allowed.context)) {
            return Optional.empty();
        }
        String t;
        if (ALL_TYPES.equals(type)) {
            t = allowed.type;
        } else if (ALL_TYPES.equals(allowed.type) || allowed.type.equals(type)) {
            t = type;
        } else {
            return Optional.empty();
        }
        int bits = permissions & allowed.permissions;
        return bits == 0 ? Optional.empty() : Optional.of(new SmartScope(context, t, bits, v1));
    }

    /** The scope as a token, in v1 syntax when it was requested so and expressible, else v2. */
    @Override
    public String toString() {
        String p = null;
        if (v1) {
            p = switch (permissions) {
                case READ | SEARCH -> "read";
                case WRITE_ANY -> "write";
                case ALL -> "*";
                default -> null;
            };
        }
        if (p == null) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < LETTERS.length(); i++) {
                if ((permissions & (1 << i)) != 0) {
                    b.append(LETTERS.charAt(i));
                }
            }
            p = b.toString();
        }
        return context + "/" + type + "." + p;
    }
}
