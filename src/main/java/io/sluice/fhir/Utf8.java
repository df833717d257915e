package io.sluice.fhir;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/** Checks that bytes are well-formed UTF-8, as PostgreSQL requires of text (no overlong forms, no surrogates). */
public final class Utf8 {

    private Utf8() {
    }

    /** True when {@code bytes} are well-formed UTF-8; ASCII (most FHIR JSON) is checked in blocks. */
    public static boolean isValid(byte[] bytes) {
        int n = bytes.length;
        int i = 0;
        while (i + 16 <= n) {
            int any = 0;
            for (int k = i; k < i + 16; k++) {
                any |= bytes[k];
            }
            if (any < 0) {
                break;
            }
            i += 16;
        }
        while (i < n && bytes[i] >= 0) {
            i++;
        }
        if (i == n) {
            return true;
        }
        // everything before i is ASCII, so i starts a character; the JDK decoder refuses what PostgreSQL refuses
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes, i, n - i));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
