package io.sluice.fhir;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Reads a resource that is one minified JSON object (no whitespace outside strings) in well-formed UTF-8,
 * in one pass over its bytes and without building tokens: it checks that the text is JSON as the full
 * parse ({@link FhirJson#parseObject}) would accept it, that no object repeats a field name, and collects
 * the ids of the Patients whose compartment the resource belongs to, by the rule of
 * {@link PatientCompartment#scan} (the paths of {@link PatientCompartment#PARAMS}). The bulk ingest reads
 * most lines this way. Whatever it does not take on (whitespace, an escaped field name, a number with an
 * exponent, nesting deeper than {@value #MAX_DEPTH}, an object of more than {@value #MAX_FIELDS} fields,
 * and every error) makes it answer null: the full parse then decides and names the problem.
 */
public final class MinifiedJsonScanner {

    /** Deepest nesting read here (FHIR resources are far shallower; the full parse allows more). */
    static final int MAX_DEPTH = 100;
    /** Most fields of one object read here (names are compared one by one). */
    static final int MAX_FIELDS = 64;
    /** Longest number read here, in characters (the full parse allows 1000). */
    private static final int MAX_NUMBER = 100;
    /** Longest field name read here, in bytes (the full parse allows 50,000 characters). */
    private static final int MAX_NAME = 1000;

    private static final byte[] REFERENCE = "reference".getBytes(StandardCharsets.US_ASCII);

    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    /**
     * Whether one of eight bytes is a quote, a backslash or below 0x20 (bytes of multi-byte characters,
     * 0x80 and up, are none of these): the "has zero byte" and "has byte less than" word tricks.
     */
    private static boolean special(long v) {
        long quote = v ^ (ONES * '"');
        long backslash = v ^ (ONES * '\\');
        return ((((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash) | ((v - ONES * 0x20) & ~v)) & HIGHS) != 0;
    }

    /** Unwinds the scan when the text is left to the full parse; no stack trace, one instance. */
    private static final class Declined extends RuntimeException {
        static final Declined INSTANCE = new Declined();

        private Declined() {
            super(null, null, false, false);
        }
    }

    private final byte[] b;
    private int pos;
    private final Set<String> patients = new LinkedHashSet<>(4);
    /** Start and length of the field names of the objects being read, outermost first. */
    private int[] names = new int[64];
    private int nameCount;

    private MinifiedJsonScanner(byte[] utf8) {
        this.b = utf8;
    }

    /**
     * The Patient compartments of a resource given as minified UTF-8 JSON text, in first-seen order; null
     * when the text is left to the full parse, or when the object has a top-level field named {@code stopAt}
     * (null: none).
     *
     * @param resourceType the type the text was found to have
     * @param id           its id (a Patient is in its own compartment)
     * @param utf8         the text, well-formed UTF-8 (checked beforehand)
     */
    public static Set<String> patientIds(String resourceType, String id, byte[] utf8, String stopAt) {
        MinifiedJsonScanner s = new MinifiedJsonScanner(utf8);
        if ("Patient".equals(resourceType) && id != null) {
            s.patients.add(id);
        }
        byte[] stop = stopAt == null ? null : stopAt.getBytes(StandardCharsets.UTF_8);
        try {
            if (s.peek() != '{' || !s.object(PatientCompartment.tree(resourceType), 0, stop) || s.pos != utf8.length) {
                return null;
            }
        } catch (Declined e) {
            return null;
        }
        return s.patients;
    }

    private int peek() {
        return pos < b.length ? b[pos] : -1;
    }

    private void expect(char c) {
        if (peek() != c) {
            throw Declined.INSTANCE;
        }
        pos++;
    }

    /** Reads an object at {@code pos}; false when a top-level field is named {@code stop}. */
    private boolean object(PatientCompartment.PathTree node, int depth, byte[] stop) {
        if (depth > MAX_DEPTH) {
            throw Declined.INSTANCE;
        }
        pos++; // '{'
        if (peek() == '}') {
            pos++;
            return true;
        }
        int first = nameCount;
        while (true) {
            expect('"');
            int start = pos;
            int end = plainStringEnd();
            if (end - start > MAX_NAME) {
                throw Declined.INSTANCE;
            }
            pos = end + 1;
            addName(first, start, end - start);
            expect(':');
            if (stop != null && Arrays.equals(b, start, end, stop, 0, stop.length)) {
                return false;
            }
            if (node != null && node.reference && peek() == '"' && Arrays.equals(b, start, end, REFERENCE, 0, REFERENCE.length)) {
                String pid = PatientCompartment.patientId(string());
                if (pid != null) {
                    patients.add(pid);
                }
            } else {
                value(node == null ? null : node.child(b, start, end), depth + 1);
            }
            if (closes('}')) {
                break;
            }
        }
        nameCount = first;
        return true;
    }

    /** Records a field name of the object whose names start at {@code first}, declining a repeat. */
    private void addName(int first, int start, int length) {
        for (int i = first; i < nameCount; i++) {
            int s = names[2 * i];
            if (names[2 * i + 1] == length && Arrays.equals(b, s, s + length, b, start, start + length)) {
                throw Declined.INSTANCE; // a duplicate: the full parse reports it
            }
        }
        if (nameCount - first >= MAX_FIELDS) {
            throw Declined.INSTANCE;
        }
        if (2 * nameCount + 2 > names.length) {
            names = Arrays.copyOf(names, names.length * 2);
        }
        names[2 * nameCount] = start;
        names[2 * nameCount + 1] = length;
        nameCount++;
    }

    /** Reads the value at {@code pos}; {@code node} is null off the compartment paths. */
    private void value(PatientCompartment.PathTree node, int depth) {
        switch (peek()) {
            case '{' -> object(node, depth, null);
            case '[' -> array(node, depth);
            case '"' -> skipString();
            case 't' -> literal("true");
            case 'f' -> literal("false");
            case 'n' -> literal("null");
            default -> number();
        }
    }

    /** Array elements are read at the array's node (any depth of a path may be an array, nested too). */
    private void array(PatientCompartment.PathTree node, int depth) {
        if (depth > MAX_DEPTH) {
            throw Declined.INSTANCE;
        }
        pos++; // '['
        if (peek() == ']') {
            pos++;
            return;
        }
        while (true) {
            value(node, depth + 1);
            if (closes(']')) {
                return;
            }
        }
    }

    /** Reads the byte after a member or element: true when it is {@code close}, false for a comma. */
    private boolean closes(char close) {
        int c = peek();
        pos++;
        if (c == close) {
            return true;
        }
        if (c != ',') {
            throw Declined.INSTANCE;
        }
        return false;
    }

    private void literal(String word) {
        for (int i = 0; i < word.length(); i++) {
            expect(word.charAt(i));
        }
    }

    /** A number as JSON writes it, without an exponent (those are the full parse's: their range is checked there). */
    private void number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        int c = peek();
        if (c == '0') {
            pos++;
        } else if (c >= '1' && c <= '9') {
            digits();
        } else {
            throw Declined.INSTANCE;
        }
        if (peek() == '.') {
            pos++;
            if (!isDigit(peek())) {
                throw Declined.INSTANCE;
            }
            digits();
        }
        if (peek() == 'e' || peek() == 'E' || pos - start > MAX_NUMBER) {
            throw Declined.INSTANCE;
        }
    }

    private void digits() {
        while (isDigit(peek())) {
            pos++;
        }
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    /** The end (closing quote) of a string starting at {@code pos} that has no escapes (field names). */
    private int plainStringEnd() {
        for (int i = pos; i < b.length; i++) {
            int c = b[i];
            if (c == '"') {
                return i;
            }
            if (c == '\\' || (c >= 0 && c < 0x20)) {
                throw Declined.INSTANCE;
            }
        }
        throw Declined.INSTANCE;
    }

    /** Reads past a string value at {@code pos} (its opening quote), checking its escapes. */
    private void skipString() {
        pos++;
        // eight bytes at a time while none of them is a quote, a backslash or a control character
        while (pos + 8 <= b.length && !special((long) Utf8.LONGS.get(b, pos))) {
            pos += 8;
        }
        while (pos < b.length) {
            int c = b[pos];
            if (c == '"') {
                pos++;
                return;
            }
            if (c == '\\') {
                pos += escapeLength();
            } else if (c >= 0 && c < 0x20) {
                throw Declined.INSTANCE; // a control character must be escaped
            } else {
                pos++;
            }
        }
        throw Declined.INSTANCE;
    }

    /** Length of the escape at {@code pos} (its backslash): 2, or 6 for {@code \\uXXXX}. */
    private int escapeLength() {
        int c = pos + 1 < b.length ? b[pos + 1] : -1;
        switch (c) {
            case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> {
                return 2;
            }
            case 'u' -> {
                if (pos + 6 > b.length) {
                    throw Declined.INSTANCE;
                }
                for (int i = pos + 2; i < pos + 6; i++) {
                    if (Character.digit(b[i], 16) < 0) {
                        throw Declined.INSTANCE;
                    }
                }
                return 6;
            }
            default -> throw Declined.INSTANCE;
        }
    }

    /** Reads a string value at {@code pos} (its opening quote) and returns it, escapes decoded. */
    private String string() {
        int start = pos + 1;
        skipString();
        int end = pos - 1;
        boolean escaped = false;
        for (int i = start; i < end && !escaped; i++) {
            escaped = b[i] == '\\';
        }
        if (!escaped) {
            return new String(b, start, end - start, StandardCharsets.UTF_8);
        }
        StringBuilder sb = new StringBuilder(end - start);
        int i = start;
        while (i < end) {
            int j = i;
            while (j < end && b[j] != '\\') {
                j++;
            }
            sb.append(new String(b, i, j - i, StandardCharsets.UTF_8));
            if (j == end) {
                break;
            }
            char e = (char) b[j + 1];
            switch (e) {
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> sb.append((char) Integer.parseInt(new String(b, j + 2, 4, StandardCharsets.US_ASCII), 16));
                default -> sb.append(e); // '"', '\\', '/'
            }
            i = j + (e == 'u' ? 6 : 2);
        }
        return sb.toString();
    }
}
