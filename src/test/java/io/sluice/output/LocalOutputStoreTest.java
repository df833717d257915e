package io.sluice.output;

import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/** The local output store on a real temporary directory. */
class LocalOutputStoreTest {

    private static final Vertx VERTX = Vertx.vertx();
    private static final Duration T = Duration.ofSeconds(10);

    @AfterAll
    static void close() {
        VERTX.closeAndAwait();
    }

    private static String read(LocalOutputStore store, String location, long offset, long length) {
        return store.read(location, offset, length).collect().in(Buffer::buffer, Buffer::appendBuffer).await().atMost(T)
                .toString(StandardCharsets.UTF_8);
    }

    @Test
    void finalizeIsAtomicWithHashAndCountsAndRangeReads() throws Exception {
        Path root = Files.createTempDirectory("out");
        LocalOutputStore store = new LocalOutputStore(VERTX, root);
        UUID job = UUID.randomUUID();
        PartKey key = new PartKey("default", job, "output", "Patient", 3, 7);
        PartWriter w = store.open(key).await().atMost(T);
        String location = LocalOutputStore.locationOf(key);
        assertEquals("default/" + job + "/output-Patient-00003-t7.ndjson", location);
        w.write(Buffer.buffer("{\"a\":1}\n"), 1).await().atMost(T);
        w.write(Buffer.buffer("{\"b\":2}\n"), 1).await().atMost(T);
        assertTrue(store.size(location).await().atMost(T).isEmpty(), "not visible before finalize");
        FinalizedPart p = w.finalizePart().await().atMost(T);
        byte[] expected = "{\"a\":1}\n{\"b\":2}\n".getBytes(StandardCharsets.UTF_8);
        assertEquals(2, p.resourceCount());
        assertEquals(expected.length, p.byteCount());
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(expected)), p.sha256());
        assertEquals(expected.length, store.size(location).await().atMost(T).orElseThrow());
        assertEquals("{\"a\":1}\n{\"b\":2}\n", read(store, location, 0, -1));
        assertEquals("{\"b\":2}", read(store, location, 8, 7));
        try (var files = Files.list(root.resolve("default").resolve(job.toString()))) {
            assertEquals(1, files.count(), "no temporary file left");
        }
    }

    @Test
    void abortLeavesNothingAndDeleteUnrecordedKeepsRecorded() throws Exception {
        Path root = Files.createTempDirectory("out");
        LocalOutputStore store = new LocalOutputStore(VERTX, root);
        UUID job = UUID.randomUUID();
        PartWriter aborted = store.open(new PartKey("t1", job, "output", "Patient", 0, 1)).await().atMost(T);
        aborted.write(Buffer.buffer("x\n"), 1).await().atMost(T);
        aborted.abort().await().atMost(T);
        PartWriter kept = store.open(new PartKey("t1", job, "output", "Patient", 0, 2)).await().atMost(T);
        kept.write(Buffer.buffer("k\n"), 1).await().atMost(T);
        FinalizedPart keptPart = kept.finalizePart().await().atMost(T);
        PartWriter orphan = store.open(new PartKey("t1", job, "output", "Patient", 1, 2)).await().atMost(T);
        orphan.write(Buffer.buffer("o\n"), 1).await().atMost(T);
        FinalizedPart orphanPart = orphan.finalizePart().await().atMost(T);
        PartWriter open = store.open(new PartKey("t1", job, "output", "Patient", 2, 2)).await().atMost(T);
        open.write(Buffer.buffer("p\n"), 1).await().atMost(T);
        store.deleteUnrecorded("t1", job, Set.of(keptPart.location())).await().atMost(T);
        assertTrue(store.size(keptPart.location()).await().atMost(T).isPresent());
        assertTrue(store.size(orphanPart.location()).await().atMost(T).isEmpty());
        try (var files = Files.list(root.resolve("t1").resolve(job.toString()))) {
            assertEquals(1, files.count());
        }
        store.deleteJob("t1", job).await().atMost(T);
        assertFalse(Files.exists(root.resolve("t1").resolve(job.toString())));
        store.deleteJob("t1", job).await().atMost(T);
    }

    @Test
    void locationsCannotEscapeTheRoot() throws Exception {
        LocalOutputStore store = new LocalOutputStore(VERTX, Files.createTempDirectory("out"));
        UUID job = UUID.randomUUID();
        for (String bad : new String[] {"../etc/passwd", "default/" + job + "/../../x.ndjson", "/etc/passwd",
                "default/" + job + "/output-Patient-00001-t1.ndjson/..", ""}) {
            assertThrows(IllegalArgumentException.class, () -> store.read(bad, 0, -1).collect().asList().await().atMost(T), bad);
        }
        assertThrows(IllegalArgumentException.class,
                () -> LocalOutputStore.locationOf(new PartKey("../x", job, "output", "Patient", 0, 1)));
        assertThrows(IllegalArgumentException.class,
                () -> LocalOutputStore.locationOf(new PartKey("t", job, "output", "../Patient", 0, 1)));
        assertThrows(IllegalArgumentException.class, () -> store.deleteJob("..", job).await().atMost(T));
    }
}
