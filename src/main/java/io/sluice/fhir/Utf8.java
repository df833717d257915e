package io.sluice.fhir;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/** Checks that bytes are well-formed UTF-8, as PostgreSQL requires of text (no overlong forms, no surrogates). */
public final class Utf8 {

    /** Reads eight bytes at a time; their high bits are all clear when all eight are ASCII. */
    static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;

    private Utf8() {
    }

    /** True when {@code bytes} are well-formed UTF-8; ASCII (most FHIR JSON) is checked in blocks. */
    public static boolean isValid(byte[] bytes) {
        int n = bytes.length;
        int i = 0;
        while (i + 16 <= n && (((long) LONGS.get(bytes, i) | (long) LONGS.get(bytes, i + 8)) & HIGH_BITS) == 0) {
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
