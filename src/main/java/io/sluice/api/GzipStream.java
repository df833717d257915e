package io.sluice.api;

import io.smallrye.mutiny.Multi;
import io.vertx.mutiny.core.buffer.Buffer;

import java.util.zip.CRC32;
import java.util.zip.Deflater;

/** Gzip-compresses a stream of buffers as it flows (RFC 1952), never holding more than one chunk. */
final class GzipStream {

    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

    private GzipStream() {
    }

    static Multi<Buffer> compress(Multi<Buffer> source) {
        return Multi.createFrom().deferred(() -> {
            Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
            CRC32 crc = new CRC32();
            long[] size = {0};
            byte[] scratch = new byte[64 * 1024];
            Multi<Buffer> body = source.onItem().transform(b -> {
                byte[] in = b.getBytes();
                crc.update(in);
                size[0] += in.length;
                deflater.setInput(in);
                Buffer out = Buffer.buffer();
                while (!deflater.needsInput()) {
                    int n = deflater.deflate(scratch, 0, scratch.length, Deflater.NO_FLUSH);
                    if (n > 0) {
                        out.appendBytes(scratch, 0, n);
                    }
                }
                return out;
            }).select().where(b -> b.length() > 0);
            Multi<Buffer> trailer = Multi.createFrom().deferred(() -> {
                deflater.finish();
                Buffer out = Buffer.buffer();
                while (!deflater.finished()) {
                    int n = deflater.deflate(scratch);
                    out.appendBytes(scratch, 0, n);
                }
                long c = crc.getValue();
                long s = size[0];
                for (int i = 0; i < 4; i++) {
                    out.appendByte((byte) (c >>> (8 * i)));
                }
                for (int i = 0; i < 4; i++) {
                    out.appendByte((byte) (s >>> (8 * i)));
                }
                return Multi.createFrom().item(out);
            });
            return Multi.createBy().concatenating()
                    .streams(Multi.createFrom().item(Buffer.buffer(HEADER)), body, trailer)
                    .onTermination().invoke(deflater::end);
        });
    }
}
