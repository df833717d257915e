package io.sluice.output;

import io.sluice.config.ExportConfig;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.core.file.CopyOptions;
import io.vertx.core.file.OpenOptions;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.core.buffer.Buffer;
import io.vertx.mutiny.core.file.AsyncFile;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * Output store on the local file system under {@code sluice.export.output-dir}.
 *
 * <p>Layout: {@code <tenant>/<jobId>/<kind>-<ResourceType>-<partIndex, 5 digits>-t<fencingToken>.ndjson};
 * the location handed out is that relative path. A part is written to a hidden temporary file in the
 * job directory, fsynced, then atomically renamed (and the directory fsynced) on finalize. All I/O
 * goes through the Vert.x asynchronous file system, so no event loop blocks.
 */
@ApplicationScoped
public class LocalOutputStore implements OutputStore {

    /** Largest single file write (see {@code LocalPartWriter.writeSlices}). */
    static final int WRITE_SLICE_BYTES = 1 << 20;

    /**
     * Bytes written to a part after which its writer starts flushing them to disk in the background
     * (see {@code LocalPartWriter.writeBack}), so finalizing a 90 MB part waits for its last few
     * megabytes instead of all of them.
     */
    static final long WRITE_BACK_BYTES = 8L << 20;

    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern TYPE = Pattern.compile("[A-Za-z][A-Za-z0-9]{0,63}");
    private static final Pattern LOCATION = Pattern.compile(
            "[A-Za-z0-9][A-Za-z0-9._-]{0,63}/[0-9a-f-]{36}/(output|error|deleted)-[A-Za-z][A-Za-z0-9]{0,63}-[0-9]{5,10}-t[0-9]{1,19}\\.ndjson");
    private static final Set<String> KINDS = Set.of("output", "error", "deleted");

    private final Vertx vertx;
    private final Path root;

    @jakarta.inject.Inject
    public LocalOutputStore(Vertx vertx, ExportConfig config) {
        this(vertx, Path.of(config.outputDir()));
    }

    /** For tests and tools: a store rooted at {@code root}. */
    public LocalOutputStore(Vertx vertx, Path root) {
        this.vertx = vertx;
        this.root = root.toAbsolutePath().normalize();
    }

    /** The directory all parts live under. */
    public Path root() {
        return root;
    }

    /** The relative location of a part (what the manifest and {@link #read} use). */
    public static String locationOf(PartKey key) {
        if (!TENANT.matcher(key.tenant()).matches()) {
            throw new IllegalArgumentException("tenant not usable in a file name: " + key.tenant());
        }
        if (!TYPE.matcher(key.resourceType()).matches()) {
            throw new IllegalArgumentException("resource type not usable in a file name: " + key.resourceType());
        }
        if (!KINDS.contains(key.kind())) {
            throw new IllegalArgumentException("unknown part kind " + key.kind());
        }
        if (key.partIndex() < 0 || key.fencingToken() < 0) {
            throw new IllegalArgumentException("negative part index or token");
        }
        return key.tenant() + "/" + key.jobId() + "/" + key.kind() + "-" + key.resourceType() + "-"
                + String.format("%05d", key.partIndex()) + "-t" + key.fencingToken() + ".ndjson";
    }

    /** Resolves a location under the root; rejects anything that is not a part name (no traversal). */
    Path resolve(String location) {
        if (location == null || !LOCATION.matcher(location).matches()) {
            throw new IllegalArgumentException("not a part location: " + location);
        }
        Path p = root.resolve(location).normalize();
        if (!p.startsWith(root)) {
            throw new IllegalArgumentException("location escapes the output directory: " + location);
        }
        return p;
    }

    private Path jobDir(String tenant, UUID jobId) {
        if (!TENANT.matcher(tenant).matches()) {
            throw new IllegalArgumentException("tenant not usable in a file name: " + tenant);
        }
        return root.resolve(tenant).resolve(jobId.toString());
    }

    @Override
    public Uni<PartWriter> open(PartKey key) {
        return Uni.createFrom().deferred(() -> {
            String location = locationOf(key);
            Path target = resolve(location);
            Path temp = target.resolveSibling("." + target.getFileName() + ".tmp");
            return vertx.fileSystem().mkdirs(target.getParent().toString())
                    .chain(() -> vertx.fileSystem().open(temp.toString(),
                            new OpenOptions().setWrite(true).setCreate(true).setTruncateExisting(true).setRead(false)))
                    .map(file -> (PartWriter) new LocalPartWriter(key, location, target, temp, file));
        });
    }

    @Override
    public Multi<Buffer> read(String location, long offset, long length) {
        return Multi.createFrom().deferred(() -> {
            Path p = resolve(location);
            return vertx.fileSystem().open(p.toString(), new OpenOptions().setRead(true).setWrite(false).setCreate(false))
                    .onItem().transformToMulti(file -> {
                        file.setReadPos(Math.max(0, offset));
                        if (length >= 0) {
                            file.setReadLength(length);
                        }
                        file.setReadBufferSize(64 * 1024);
                        return file.toMulti().onTermination().invoke(() -> file.closeAndForget());
                    });
        });
    }

    @Override
    public Uni<Optional<Long>> size(String location) {
        return Uni.createFrom().deferred(() -> {
            Path p = resolve(location);
            return vertx.fileSystem().exists(p.toString()).chain(exists -> exists
                    ? vertx.fileSystem().props(p.toString()).map(props -> Optional.of(props.size()))
                    : Uni.createFrom().item(Optional.<Long>empty()));
        });
    }

    @Override
    public Uni<Void> deleteJob(String tenant, UUID jobId) {
        return Uni.createFrom().deferred(() -> {
            Path dir = jobDir(tenant, jobId);
            return vertx.fileSystem().exists(dir.toString()).chain(exists -> exists
                    ? vertx.fileSystem().deleteRecursive(dir.toString(), true)
                    : Uni.createFrom().voidItem());
        });
    }

    @Override
    public Uni<Void> deleteUnrecorded(String tenant, UUID jobId, Set<String> recordedLocations) {
        return Uni.createFrom().deferred(() -> {
            Path dir = jobDir(tenant, jobId);
            Set<String> keep = new java.util.HashSet<>();
            for (String l : recordedLocations) {
                keep.add(resolve(l).toString());
            }
            return vertx.fileSystem().exists(dir.toString()).chain(exists -> {
                if (!exists) {
                    return Uni.createFrom().voidItem();
                }
                return vertx.fileSystem().readDir(dir.toString())
                        .onItem().transformToMulti(files -> Multi.createFrom().iterable(files))
                        .filter(f -> !keep.contains(Path.of(f).toAbsolutePath().normalize().toString()))
                        .onItem().transformToUniAndConcatenate(f -> vertx.fileSystem().delete(f)
                                .onFailure().recoverWithNull())
                        .collect().last().replaceWithVoid();
            });
        });
    }

    private void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (java.io.IOException e) {
            // some file systems refuse to open a directory; the rename itself is still atomic
        }
    }

    /** A part being written to its temporary file. */
    private final class LocalPartWriter implements PartWriter {
        private final PartKey key;
        private final String location;
        private final Path target;
        private final Path temp;
        private final AsyncFile file;
        private final MessageDigest sha;
        private long lines;
        private long bytes;
        private boolean closed;
        /** Bytes written since the last background flush started. */
        private long unflushed;
        /** The background flush in progress or last done; never failed (its failure is kept below). */
        private CompletableFuture<Void> writeBack = CompletableFuture.completedFuture(null);
        /** The first failure of a background flush: the part fails at finalize, whatever the last flush says. */
        private volatile Throwable writeBackFailure;

        LocalPartWriter(PartKey key, String location, Path target, Path temp, AsyncFile file) {
            this.key = key;
            this.location = location;
            this.target = target;
            this.temp = temp;
            this.file = file;
            try {
                this.sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public Uni<Void> write(Buffer chunk, long lineCount) {
            if (closed) {
                return Uni.createFrom().failure(new IllegalStateException("part already finalized or aborted"));
            }
            sha.update(chunk.getDelegate().getByteBuf().nioBuffer());
            lines += lineCount;
            bytes += chunk.length();
            return writeSlices(chunk, 0).invoke(() -> writeBack(chunk.length()));
        }

        /**
         * Starts an fsync of what was written so far once {@link #WRITE_BACK_BYTES} more were written and
         * the previous one has ended; not awaited. Its failure is kept for {@link #finalizePart}: the
         * kernel reports a failed write-back to one fsync only, so the final fsync could succeed after it.
         */
        private void writeBack(long written) {
            unflushed += written;
            if (unflushed < WRITE_BACK_BYTES || !writeBack.isDone()) {
                return;
            }
            unflushed = 0;
            writeBack = file.flush().onFailure().invoke(e -> {
                if (writeBackFailure == null) {
                    writeBackFailure = e;
                }
            }).onFailure().recoverWithNull().subscribeAsCompletionStage();
        }

        /**
         * Writes {@code chunk[from..]} at most {@link #WRITE_SLICE_BYTES} at a time: the JDK copies a heap
         * buffer into a temporary direct buffer of its size for each file write and keeps it cached on
         * the writing thread, so one write of a 50 MB line would pin 50 MB off-heap for good.
         */
        private Uni<Void> writeSlices(Buffer chunk, int from) {
            int to = (int) Math.min(chunk.length(), (long) from + WRITE_SLICE_BYTES);
            Uni<Void> written = file.write(from == 0 && to == chunk.length() ? chunk : chunk.slice(from, to));
            return to == chunk.length() ? written : written.chain(() -> writeSlices(chunk, to));
        }

        @Override
        public Uni<FinalizedPart> finalizePart() {
            if (closed) {
                return Uni.createFrom().failure(new IllegalStateException("part already finalized or aborted"));
            }
            closed = true;
            FinalizedPart part = new FinalizedPart(key, location, lines, bytes, HexFormat.of().formatHex(sha.digest()));
            return Uni.createFrom().completionStage(writeBack)
                    .chain(() -> writeBackFailure == null ? file.flush() : Uni.createFrom().failure(writeBackFailure))
                    // a part that cannot be made durable fails; its file is closed here (abort then deletes it)
                    .onFailure().call(() -> file.close().onFailure().recoverWithNull())
                    .chain(file::close)
                    .chain(() -> vertx.fileSystem().move(temp.toString(), target.toString(),
                            new CopyOptions().setAtomicMove(true).setReplaceExisting(true)))
                    .chain(() -> vertx.executeBlocking(Uni.createFrom().item(() -> {
                        fsyncDirectory(target.getParent());
                        return part;
                    }), false));
        }

        @Override
        public Uni<Void> abort() {
            boolean wasOpen = !closed;
            closed = true;
            Uni<Void> close = wasOpen ? file.close().onFailure().recoverWithNull() : Uni.createFrom().voidItem();
            return close.chain(() -> vertx.fileSystem().exists(temp.toString()))
                    .chain(exists -> exists ? vertx.fileSystem().delete(temp.toString()) : Uni.createFrom().voidItem())
                    .onFailure().recoverWithNull();
        }
    }
}
