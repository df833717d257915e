package io.sluice.api;

import io.sluice.store.IngestLine;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NdjsonLineReaderTest {

    private static List<String> lines(String text, int max) {
        // a stream that returns at most 3 bytes per read, so lines span many reads
        InputStream in = new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 3));
            }
        };
        List<String> out = new ArrayList<>();
        // a rejected line shows as "!" and its reason
        new NdjsonLineReader(in, max).forEachRemaining(l -> out.add(l.rejection() != null ? "!" + l.rejection() : new String(l.bytes(), StandardCharsets.UTF_8)));
        return out;
    }

    @Test
    void splitsLfAndCrlfAndKeepsBlankLinesAndUtf8() {
        assertEquals(List.of("a", "", "bé€", "c"), lines("a\n\r\nbé€\r\nc", 100));
        assertEquals(List.of("a"), lines("a\n", 100));
        assertEquals(List.of(), lines("", 100));
    }

    @Test
    void overlongLineBecomesARejectionAndReadingGoesOn() {
        List<String> l = lines("short\n" + "x".repeat(50) + "\nnext", 20);
        assertEquals(3, l.size());
        assertEquals("short", l.get(0));
        assertTrue(l.get(1).startsWith("!") && l.get(1).contains("20 bytes"), l.get(1));
        assertEquals("next", l.get(2));
    }
}
