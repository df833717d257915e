package io.sluice.api;

import io.sluice.fhir.FhirJson;
import io.sluice.store.IngestLine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Splits a byte stream into lines incrementally (LF or CRLF), holding at most one line plus a read
 * buffer in memory. Lines are handed on as the bytes received (the store checks their UTF-8). A line
 * longer than the limit is skipped up to its end and yields a {@linkplain IngestLine#rejected rejected}
 * line with the reason, so the store reports it. Not thread-safe; read errors surface as
 * {@link UncheckedIOException}.
 */
final class NdjsonLineReader implements Iterator<IngestLine> {

    private final InputStream in;
    private final int maxLineBytes;
    private final byte[] buf = new byte[65536];
    private int pos;
    private int limit;
    private boolean eof;
    private byte[] line = new byte[8192];
    private int lineLen;
    private IngestLine next;

    NdjsonLineReader(InputStream in, int maxLineBytes) {
        this.in = in;
        this.maxLineBytes = maxLineBytes;
    }

    @Override
    public boolean hasNext() {
        if (next == null) {
            next = readLine();
        }
        return next != null;
    }

    @Override
    public IngestLine next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        IngestLine n = next;
        next = null;
        return n;
    }

    private IngestLine readLine() {
        lineLen = 0;
        if (line.length > 1 << 20) {
            line = new byte[8192]; // do not keep a huge line's buffer
        }
        String overflow = null;
        boolean any = false;
        while (true) {
            if (pos == limit) {
                if (eof || !fill()) {
                    if (!any) {
                        return null;
                    }
                    return finish(overflow);
                }
            }
            any = true;
            int start = pos;
            while (pos < limit && buf[pos] != '\n') {
                pos++;
            }
            int len = pos - start;
            if (overflow == null) {
                if ((long) lineLen + len > maxLineBytes) {
                    overflow = "line is longer than the limit of " + maxLineBytes + " bytes (sluice.store.ingest-max-line-bytes, "
                            + "at most " + FhirJson.MAX_PARSE_RULE + ")";
                    lineLen = 0;
                } else if (!append(start, len)) {
                    overflow = "line of more than " + lineLen + " bytes is too large for this server's memory (JVM heap)";
                    lineLen = 0;
                }
            }
            if (pos < limit) { // found '\n'
                pos++;
                return finish(overflow);
            }
        }
    }

    private IngestLine finish(String overflow) {
        if (overflow != null) {
            return IngestLine.rejected(overflow);
        }
        int len = lineLen;
        if (len > 0 && line[len - 1] == '\r') {
            len--;
        }
        try {
            return IngestLine.of(Arrays.copyOf(line, len));
        } catch (OutOfMemoryError e) {
            line = new byte[8192];
            return IngestLine.rejected("line of " + len + " bytes is too large for this server's memory (JVM heap)");
        }
    }

    /** Appends to the line buffer; false (buffer dropped) when the heap cannot hold the grown line. */
    private boolean append(int start, int len) {
        if (lineLen + len > line.length) {
            try {
                line = Arrays.copyOf(line, Math.max(line.length * 2, lineLen + len));
            } catch (OutOfMemoryError e) {
                line = new byte[8192]; // the rest of this line is skipped; memory is free again
                return false;
            }
        }
        System.arraycopy(buf, start, line, lineLen, len);
        lineLen += len;
        return true;
    }

    private boolean fill() {
        try {
            int n = in.read(buf);
            if (n < 0) {
                eof = true;
                return false;
            }
            pos = 0;
            limit = n;
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
