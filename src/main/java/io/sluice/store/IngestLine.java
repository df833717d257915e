package io.sluice.store;

import java.nio.charset.StandardCharsets;

/**
 * One line of a bulk ingest: its bytes as received (no line terminator), or, for a line that could not
 * be read at all (longer than the limit, too large for the heap), the reason it is rejected.
 *
 * @param bytes     the line as received, expected to be UTF-8 JSON; null for a rejected line
 * @param rejection why the line was not read; null when {@code bytes} holds it
 */
public record IngestLine(byte[] bytes, String rejection) {

    /** A line as received. */
    public static IngestLine of(byte[] bytes) {
        return new IngestLine(bytes, null);
    }

    /** A line given as text (e.g. from the sample generator). */
    public static IngestLine of(String text) {
        return of(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A line that could not be read, reported as rejected with {@code reason}. */
    public static IngestLine rejected(String reason) {
        return new IngestLine(null, reason);
    }
}
