package io.sluice.fhir;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Utf8Test {

    private static final byte[][] BAD = {
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80},             // a UTF-16 surrogate
            {(byte) 0xC0, (byte) 0xAF},                           // an overlong '/'
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // past U+10FFFF
            {(byte) 0xFF},                                        // never in UTF-8
            {(byte) 0xC3},                                        // a character cut short
            {(byte) 0x80}};                                       // a continuation byte alone

    /** Every position relative to the 16-byte blocks read at once, text before and after. */
    @Test
    void findsWhatIsNotUtf8AtAnyPosition() {
        byte[] good = "é€😀".getBytes(StandardCharsets.UTF_8);
        for (int at = 0; at < 40; at++) {
            byte[] ascii = "a".repeat(at).getBytes(StandardCharsets.US_ASCII);
            assertTrue(Utf8.isValid(ascii));
            assertTrue(Utf8.isValid(concat(ascii, good, ascii)), "at " + at);
            for (byte[] bad : BAD) {
                assertFalse(Utf8.isValid(concat(ascii, bad, "xyz".getBytes(StandardCharsets.US_ASCII))),
                        Arrays.toString(bad) + " at " + at);
                assertFalse(Utf8.isValid(concat(ascii, good, bad)), Arrays.toString(bad) + " after text at " + at);
            }
        }
        assertTrue(Utf8.isValid(new byte[0]));
    }

    @Test
    void agreesWithTheJdkOnAllTwoByteSequences() {
        for (int a = 0; a < 256; a++) {
            for (int b = 0; b < 256; b++) {
                byte[] in = {'x', (byte) a, (byte) b};
                boolean jdk = Arrays.equals(in, new String(in, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8));
                assertEquals(jdk, Utf8.isValid(in), a + " " + b);
            }
        }
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int k = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, k, p.length);
            k += p.length;
        }
        return out;
    }
}
