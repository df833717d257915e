package io.sluice.store;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.StoreConfig;
import io.sluice.fhir.FhirJson;
import io.sluice.fhir.Utf8;
import io.sluice.job.StoreErrors;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * The versioned FHIR resource store of all tenants: single-resource create, update, read, vread and
 * delete, multi-resource writes in one transaction, and the streaming bulk ingest. Every write
 * follows the snapshot contract of docs/architecture.md (see {@link VersionWriter}).
 */
@ApplicationScoped
public class ResourceStore {

    private static final String READ_CURRENT = """
            SELECT v.resource_type, v.id, v.version_id, v.valid_from, v.deleted, v.content
              FROM resource r
              JOIN resource_version v ON v.tenant = r.tenant AND v.resource_type = r.resource_type
                                     AND v.id = r.id AND v.version_id = r.version_id
             WHERE r.tenant = $1 AND r.resource_type = $2 AND r.id = $3
            """;

    private static final String READ_VERSION = """
            SELECT resource_type, id, version_id, valid_from, deleted, content
              FROM resource_version
             WHERE tenant = $1 AND resource_type = $2 AND id = $3 AND version_id = $4
            """;

    private static final Logger LOG = Logger.getLogger(ResourceStore.class);

    private final Pool pool;
    private final VersionWriter writer;
    private final StoreConfig config;

    private final io.sluice.ops.SluiceMetrics metrics;
    private final AtomicBoolean analyzing = new AtomicBoolean();

    public ResourceStore(Pool pool, VersionWriter writer, StoreConfig config, io.sluice.ops.SluiceMetrics metrics) {
        this.metrics = metrics;
        this.pool = pool;
        this.writer = writer;
        this.config = config;
    }

    /**
     * Creates a resource with a new server-assigned id (a UUID); the body's own id is ignored.
     *
     * @throws StoreException.Invalid (as failure) when the body's resourceType is not {@code type}
     */
    public Uni<StoredResource> create(String tenant, String type, ObjectNode resource) {
        return Uni.createFrom().item(() -> prepareCreate(type, resource))
                .chain(w -> writeAll(tenant, List.of(w)))
                .map(list -> list.get(0));
    }

    /**
     * Creates or updates {@code type/id}; the body must carry the same id.
     *
     * @return the new version (versionId 1 when the resource did not exist before)
     */
    public Uni<StoredResource> update(String tenant, String type, String id, ObjectNode resource) {
        return Uni.createFrom().item(() -> prepareUpdate(type, id, resource))
                .chain(w -> writeAll(tenant, List.of(w)))
                .map(list -> list.get(0));
    }

    /**
     * Deletes {@code type/id} by writing a tombstone version.
     *
     * @return the tombstone, or empty when the resource does not exist or is already deleted
     */
    public Uni<Optional<StoredResource>> delete(String tenant, String type, String id) {
        return writeAll(tenant, List.of(PreparedWrite.delete(type, id)))
                .map(list -> Optional.ofNullable(list.get(0)));
    }

    /**
     * The current version.
     *
     * @throws StoreException.NotFound (as failure) when it never existed
     * @throws StoreException.Gone     (as failure) when its current version is a tombstone
     */
    public Uni<StoredResource> read(String tenant, String type, String id) {
        return pool.preparedQuery(READ_CURRENT).execute(Tuple.of(tenant, type, id))
                .map(rows -> present(rows, type + "/" + id));
    }

    /** One version of a resource; failures as {@link #read}, Gone for a tombstone version. */
    public Uni<StoredResource> vread(String tenant, String type, String id, long versionId) {
        return pool.preparedQuery(READ_VERSION).execute(Tuple.of(tenant, type, id, versionId))
                .map(rows -> present(rows, type + "/" + id + "/_history/" + versionId));
    }

    private static StoredResource present(RowSet<Row> rows, String what) {
        Iterator<Row> it = rows.iterator();
        if (!it.hasNext()) {
            throw new StoreException.NotFound(what + " not found");
        }
        StoredResource r = StoredResource.from(it.next());
        if (r.deleted()) {
            throw new StoreException.Gone(what + " is deleted (version " + r.versionId() + ")", r);
        }
        return r;
    }

    /**
     * Writes all prepared writes in ONE database transaction (all or nothing), after the tenant's
     * shared snapshot lock. Each resource may occur once.
     */
    Uni<List<StoredResource>> writeAll(String tenant, List<PreparedWrite> writes) {
        return inWriteTransaction(tenant, c -> writer.write(c, tenant, writes, true, false));
    }

    /** Runs {@code work} in a transaction that starts with the shared snapshot lock of the tenant. */
    <T> Uni<T> inWriteTransaction(String tenant, Function<SqlConnection, Uni<T>> work) {
        // a deadlock or serialization failure rolled the whole transaction back: running it again is safe
        return Uni.createFrom().deferred(() -> pool.withTransaction(c -> writer.lockSnapshot(c, tenant).chain(() -> work.apply(c))))
                .onFailure(StoreErrors::isConflictRollback).retry()
                .withBackOff(Duration.ofMillis(5), Duration.ofMillis(200)).withJitter(0.5).atMost(WRITE_CONFLICT_RETRIES);
    }

    /** Retries of a write transaction that PostgreSQL aborted as a deadlock victim or serialization failure. */
    static final int WRITE_CONFLICT_RETRIES = 5;


    static PreparedWrite prepareCreate(String type, ObjectNode resource) {
        checkType(type, resource);
        return ResourcePreparer.prepare(type, UUID.randomUUID().toString(), resource);
    }

    static PreparedWrite prepareUpdate(String type, String id, ObjectNode resource) {
        checkType(type, resource);
        String bodyId = ResourcePreparer.idOf(resource);
        if (bodyId == null) {
            throw new StoreException.Invalid("resource body has no id; an update must carry id '" + id + "'");
        }
        if (!bodyId.equals(id)) {
            throw new StoreException.Invalid("id in body ('" + bodyId + "') does not match id in URL ('" + id + "')");
        }
        return ResourcePreparer.prepare(type, id, resource);
    }

    private static void checkType(String type, ObjectNode resource) {
        String bodyType = ResourcePreparer.resourceType(resource);
        if (!bodyType.equals(type)) {
            throw new StoreException.Invalid("resourceType in body ('" + bodyType + "') does not match the URL type ('"
                    + type + "')");
        }
    }

    /**
     * Bulk NDJSON ingest with upsert semantics: each line is one resource keeping its own id (a new
     * version when it already exists). Lines are parsed as they arrive and written in batches of
     * {@code sluice.store.ingest-batch-rows} rows / {@code ingest-batch-bytes} bytes, each batch
     * in its own transaction with a few multi-row statements, so memory stays bounded whatever the
     * input size. Bad lines (not UTF-8, malformed JSON, unknown resourceType, missing or bad id, ...)
     * are reported with their 1-based line number and do not stop the others; blank lines are skipped.
     * A resource repeated within one batch starts a new batch, so every occurrence becomes a version.
     *
     * @param tenant       tenant to write into
     * @param ndjsonLines  the lines, without line terminators
     */
    public Uni<IngestReport> ingest(String tenant, Multi<IngestLine> ndjsonLines) {
        IngestRun run = new IngestRun(tenant);
        // lines travel in groups: one request (and, under runSubscriptionOn, one thread hop) per group, not per line
        return ndjsonLines.group().intoLists().of(LINES_PER_REQUEST).onItem().transformToUniAndConcatenate(run::acceptAll)
                .onItem().ignoreAsUni()
                .chain(run::flush)
                .map(v -> run.report())
                .invoke(report -> {
                    metrics.ingested(tenant, report.stored());
                    if (report.stored() >= config.analyzeAfterIngestRows()) {
                        refreshStatisticsInBackground(report.stored());
                    }
                });
    }

    /**
     * After a large ingest, refreshes the statistics without delaying the ingest's answer, when the
     * ingest at least doubled the rows the planner knows of (or the tables were never analyzed); one
     * refresh at a time. Smaller growth is autovacuum's (it analyzes after a tenth of a table changed):
     * estimates within a factor of two do not change these plans, and an ANALYZE of a million-row store
     * costs about 0.7 s of PostgreSQL CPU, which the old one-tenth rule spent after every large ingest of
     * a bulk load (docs/benchmarks.md). The export queries are planned per execution
     * ({@code plan_cache_mode=force_custom_plan}), so they use the new statistics as soon as they exist.
     */
    private void refreshStatisticsInBackground(long stored) {
        if (!analyzing.compareAndSet(false, true)) {
            return;
        }
        pool.query("SELECT reltuples FROM pg_class WHERE oid = 'resource_version'::regclass").execute()
                .chain(rows -> {
                    double known = rows.iterator().next().getDouble(0);
                    return known <= 0 || stored >= known ? refreshStatistics() : Uni.createFrom().voidItem();
                })
                .eventually(() -> analyzing.set(false))
                .subscribe().with(v -> {
                }, e -> LOG.warnf("refreshing planner statistics after an ingest failed: %s", e.getMessage()));
    }

    /**
     * Refreshes the planner statistics of the store's tables. A bulk load into fresh tables otherwise
     * leaves the planner with empty-table estimates until autovacuum catches up, and the export
     * queries (prepared, so their plans are cached per connection) can pick plans that are slower by
     * orders of magnitude. ANALYZE samples; it takes well under a second even for large tables.
     */
    public Uni<Void> refreshStatistics() {
        // resource_version.content is left out: the planner never uses its statistics, and sampling it is the slow part
        return pool.query("ANALYZE resource, resource_version (tenant, resource_type, id, version_id, valid_from, valid_to, "
                        + "deleted), resource_compartment, group_member").execute()
                .replaceWithVoid();
    }

    /** Rows of the first batch of an ingest (see IngestRun.batchRows). */
    private static final int FIRST_BATCH_ROWS = 250;

    /** Lines handed over per request of the line stream (one thread hop per group under runSubscriptionOn). */
    private static final int LINES_PER_REQUEST = 256;

    /**
     * State of one ingest: the batch being filled, the batches being written (at most
     * {@code sluice.store.ingest-parallel-batches}, each in its own transaction on its own connection)
     * and the counts. A resource also present in a batch being written waits for that write, so
     * versions follow line order and concurrent batches never touch the same resource. Used by one
     * subscriber at a time.
     */
    private final class IngestRun {
        private final String tenant;
        private final Map<String, Long> storedByType = new TreeMap<>();
        private final List<IngestReport.RejectedLine> rejectedLines = new ArrayList<>();
        private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
        private List<PreparedWrite> batch = new ArrayList<>();
        private Set<String> batchKeys = new HashSet<>();
        private long batchWeight;
        private int batchesStarted;
        /** Whether the batches are written as creates (see {@link #writeBatch}); read and cleared on other threads. */
        private volatile boolean assumeNew = true;
        private long lines;
        private long stored;
        private long rejected;

        /** A batch being written and the keys of its resources. */
        private record InFlight(CompletableFuture<Void> done, Set<String> keys) {
        }

        IngestRun(String tenant) {
            this.tenant = tenant;
        }

        Uni<Void> acceptAll(List<IngestLine> group) {
            Uni<Void> done = Uni.createFrom().voidItem();
            for (IngestLine line : group) {
                done = done.chain(() -> accept(line));
            }
            return done;
        }

        Uni<Void> accept(IngestLine line) {
            long lineNo = ++lines;
            if (line.rejection() != null) {
                reject(lineNo, line.rejection());
                return Uni.createFrom().voidItem();
            }
            PreparedWrite w;
            try {
                w = prepareLine(line.bytes());
            } catch (StoreException | FhirJson.InvalidJsonException e) {
                reject(lineNo, e.getMessage());
                return Uni.createFrom().voidItem();
            } catch (OutOfMemoryError e) {
                // one huge line (its parse needs several times its size) must not fail the whole ingest:
                // what it allocated is garbage again, so report the line and go on with the next ones
                reject(lineNo, "resource of " + line.bytes().length + " bytes is too large for this server's memory "
                        + "(JVM heap); it was not stored");
                return Uni.createFrom().voidItem();
            }
            if (w == null) {
                return Uni.createFrom().voidItem();
            }
            String key = w.key();
            Uni<Void> before;
            if (batchKeys.contains(key)) {
                before = startBatch().chain(this::awaitAll);
            } else if (inFlightHas(key)) {
                before = awaitAll();
            } else {
                before = Uni.createFrom().voidItem();
            }
            return before.chain(() -> {
                batch.add(w);
                batchKeys.add(key);
                batchWeight += w.weight();
                if (batch.size() >= batchRows() || batchWeight >= config.ingestBatchBytes()) {
                    return startBatch();
                }
                return Uni.createFrom().voidItem();
            });
        }

        private boolean inFlightHas(String key) {
            for (InFlight f : inFlight) {
                if (f.keys().contains(key)) {
                    return true;
                }
            }
            return false;
        }

        private PreparedWrite prepareLine(byte[] line) {
            if (isBlank(line)) {
                return null;
            }
            if (!Utf8.isValid(line)) {
                throw new StoreException.Invalid("line is not valid UTF-8 (JSON text must be UTF-8)");
            }
            PreparedWrite storedForm = ResourcePreparer.prepareStoredForm(line);
            if (storedForm != null) {
                return storedForm;
            }
            ObjectNode resource = FhirJson.parseObject(line);
            String type = ResourcePreparer.resourceType(resource);
            String id = ResourcePreparer.idOf(resource);
            if (id == null) {
                throw new StoreException.Invalid(type + " has no id (bulk ingest keeps the resources' own ids)");
            }
            return ResourcePreparer.prepare(type, id, resource, line);
        }

        /** True for a line of nothing but ASCII whitespace (such lines are skipped). */
        private static boolean isBlank(byte[] line) {
            for (byte b : line) {
                if (!Character.isWhitespace(b)) {
                    return false;
                }
            }
            return true;
        }

        private void reject(long lineNo, String reason) {
            rejected++;
            if (rejectedLines.size() < config.ingestMaxReportedErrors()) {
                rejectedLines.add(new IngestReport.RejectedLine(lineNo, reason));
            }
        }

        /** Waits for the oldest batch being written; a failed write fails the ingest (after the others end). */
        private Uni<Void> awaitOldest() {
            InFlight oldest = inFlight.peekFirst();
            if (oldest == null) {
                return Uni.createFrom().voidItem();
            }
            return Uni.createFrom().completionStage(oldest.done()).invoke(() -> inFlight.remove(oldest)).replaceWithVoid()
                    // the ingest fails, but only once the other batches being written have ended too
                    .onFailure().call(() -> Uni.createFrom().completionStage(CompletableFuture.allOf(
                            inFlight.stream().map(InFlight::done).toArray(CompletableFuture[]::new)).exceptionally(e -> null)));
        }

        private Uni<Void> awaitAll() {
            return inFlight.isEmpty() ? Uni.createFrom().voidItem() : awaitOldest().chain(this::awaitAll);
        }

        /** Starts writing the current batch without waiting for it, once fewer than the allowed batches are in flight. */
        private Uni<Void> startBatch() {
            if (batch.isEmpty()) {
                return Uni.createFrom().voidItem();
            }
            List<PreparedWrite> toWrite = batch;
            Set<String> keys = batchKeys;
            batch = new ArrayList<>();
            batchKeys = new HashSet<>();
            batchWeight = 0;
            Uni<Void> room = inFlight.size() >= Math.max(1, config.ingestParallelBatches()) ? awaitOldest()
                    : Uni.createFrom().voidItem();
            batchesStarted++;
            Uni<List<StoredResource>> write = writeBatch(toWrite);
            return room.invoke(() -> inFlight.addLast(new InFlight(write.invoke(this::count)
                    .replaceWithVoid().subscribeAsCompletionStage(), keys)));
        }

        /**
         * Writes a batch in its own transaction. Until a batch meets a resource that exists, the batches are
         * written as creates (cheaper for PostgreSQL than the upsert); the batch that meets one is written
         * again as upserts, and so are all batches after it.
         */
        private Uni<List<StoredResource>> writeBatch(List<PreparedWrite> toWrite) {
            if (!assumeNew) {
                return inWriteTransaction(tenant, c -> writer.write(c, tenant, toWrite, false, false));
            }
            return inWriteTransaction(tenant, c -> writer.write(c, tenant, toWrite, false, true))
                    .onFailure(VersionWriter::isExistingResource).recoverWithUni(() -> {
                        assumeNew = false;
                        return inWriteTransaction(tenant, c -> writer.write(c, tenant, toWrite, false, false));
                    });
        }

        /**
         * Rows after which the batch being filled is written: the first batches are smaller (from
         * {@value #FIRST_BATCH_ROWS}, doubling), so PostgreSQL starts work while the lines after them are read.
         */
        private int batchRows() {
            return (int) Math.min(config.ingestBatchRows(), (long) FIRST_BATCH_ROWS << Math.min(batchesStarted, 20));
        }

        /** Counts a written batch: one count per run of a type (NDJSON files usually hold one type each). */
        private synchronized void count(List<StoredResource> written) {
            String type = null;
            long run = 0;
            for (StoredResource r : written) {
                if (!r.resourceType().equals(type)) {
                    if (type != null) {
                        storedByType.merge(type, run, Long::sum);
                    }
                    type = r.resourceType();
                    run = 0;
                }
                run++;
            }
            if (type != null) {
                storedByType.merge(type, run, Long::sum);
            }
            stored += written.size();
        }

        /** Writes what is left and waits for every write. */
        Uni<Void> flush() {
            return startBatch().chain(this::awaitAll);
        }

        synchronized IngestReport report() {
            return new IngestReport(lines, stored, new LinkedHashMap<>(storedByType), rejected, List.copyOf(rejectedLines));
        }
    }
}
