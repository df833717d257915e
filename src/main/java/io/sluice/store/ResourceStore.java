package io.sluice.store;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.StoreConfig;
import io.sluice.fhir.FhirJson;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

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
import java.util.function.Function;

/**
 * The versioned FHIR resource store of all tenants: single-resource create, update, read, vread and
 * delete, multi-resource writes in one transaction, and the streaming bulk ingest. Every write
 * follows the snapshot contract of docs/architecture.md (see {@link VersionWriter}).
 */
@ApplicationScoped
public class ResourceStore {

    /**
     * A line given to {@link #ingest} that starts with this character is not JSON but a reason why
     * the reader already refused the line (e.g. it was longer than the line limit); it is reported
     * as rejected with the text after the marker.
     */
    public static final char REJECTED_LINE_MARKER = '\u0000';

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

    private final Pool pool;
    private final VersionWriter writer;
    private final StoreConfig config;

    private final io.sluice.ops.SluiceMetrics metrics;

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
        return inWriteTransaction(tenant, c -> writer.write(c, tenant, writes));
    }

    /** Runs {@code work} in a transaction that starts with the shared snapshot lock of the tenant. */
    <T> Uni<T> inWriteTransaction(String tenant, Function<SqlConnection, Uni<T>> work) {
        return pool.withTransaction(c -> writer.lockSnapshot(c, tenant).chain(() -> work.apply(c)));
    }

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
     * {@code sluice.store.ingest-batch-rows} rows / {@code ingest-batch-bytes} characters, each batch
     * in its own transaction with a few multi-row statements, so memory stays bounded whatever the
     * input size. Bad lines (malformed JSON, unknown resourceType, missing or bad id, ...) are
     * reported with their 1-based line number and do not stop the others; blank lines are skipped.
     * A resource repeated within one batch starts a new batch, so every occurrence becomes a version.
     *
     * @param tenant       tenant to write into
     * @param ndjsonLines  the lines, without line terminators (see {@link #REJECTED_LINE_MARKER})
     */
    public Uni<IngestReport> ingest(String tenant, Multi<String> ndjsonLines) {
        IngestRun run = new IngestRun(tenant);
        return ndjsonLines.onItem().transformToUniAndConcatenate(run::accept)
                .onItem().ignoreAsUni()
                .chain(run::flush)
                .map(v -> run.report())
                .invoke(report -> metrics.ingested(tenant, report.stored()))
                .call(report -> report.stored() >= config.analyzeAfterIngestRows() ? refreshStatistics() : Uni.createFrom().voidItem());
    }

    /**
     * Refreshes the planner statistics of the store's tables. A bulk load into fresh tables otherwise
     * leaves the planner with empty-table estimates until autovacuum catches up, and the export
     * queries (prepared, so their plans are cached per connection) can pick plans that are slower by
     * orders of magnitude. ANALYZE samples; it takes well under a second even for large tables.
     */
    public Uni<Void> refreshStatistics() {
        return pool.query("ANALYZE resource, resource_version, resource_compartment, group_member").execute()
                .replaceWithVoid();
    }

    /**
     * State of one ingest: the batch being filled and the counts. While one batch is written, the
     * next is parsed (at most two batches in memory). A resource also present in the batch being
     * written waits for that write, so versions follow line order. Used by one subscriber at a time.
     */
    private final class IngestRun {
        private final String tenant;
        private final Map<String, Long> storedByType = new TreeMap<>();
        private final List<IngestReport.RejectedLine> rejectedLines = new ArrayList<>();
        private List<PreparedWrite> batch = new ArrayList<>();
        private Set<String> batchKeys = new HashSet<>();
        private Set<String> inFlightKeys = Set.of();
        private CompletableFuture<Void> inFlight = CompletableFuture.completedFuture(null);
        private long batchWeight;
        private long lines;
        private long stored;
        private long rejected;

        IngestRun(String tenant) {
            this.tenant = tenant;
        }

        Uni<Void> accept(String line) {
            long lineNo = ++lines;
            PreparedWrite w;
            try {
                w = prepareLine(line);
            } catch (StoreException | FhirJson.InvalidJsonException e) {
                reject(lineNo, e.getMessage());
                return Uni.createFrom().voidItem();
            }
            if (w == null) {
                return Uni.createFrom().voidItem();
            }
            Uni<Void> before;
            if (batchKeys.contains(w.key())) {
                before = startBatch().chain(this::awaitInFlight);
            } else if (inFlightKeys.contains(w.key())) {
                before = awaitInFlight();
            } else {
                before = Uni.createFrom().voidItem();
            }
            return before.chain(() -> {
                batch.add(w);
                batchKeys.add(w.key());
                batchWeight += w.weight();
                if (batch.size() >= config.ingestBatchRows() || batchWeight >= config.ingestBatchBytes()) {
                    return startBatch();
                }
                return Uni.createFrom().voidItem();
            });
        }

        private PreparedWrite prepareLine(String line) {
            if (!line.isEmpty() && line.charAt(0) == REJECTED_LINE_MARKER) {
                throw new StoreException.Invalid(line.substring(1));
            }
            if (line.isBlank()) {
                return null;
            }
            ObjectNode resource = FhirJson.parseObject(line);
            String type = ResourcePreparer.resourceType(resource);
            String id = ResourcePreparer.idOf(resource);
            if (id == null) {
                throw new StoreException.Invalid(type + " has no id (bulk ingest keeps the resources' own ids)");
            }
            return ResourcePreparer.prepare(type, id, resource);
        }

        private void reject(long lineNo, String reason) {
            rejected++;
            if (rejectedLines.size() < config.ingestMaxReportedErrors()) {
                rejectedLines.add(new IngestReport.RejectedLine(lineNo, reason));
            }
        }

        private Uni<Void> awaitInFlight() {
            return Uni.createFrom().completionStage(inFlight).invoke(() -> inFlightKeys = Set.of()).replaceWithVoid();
        }

        /** Waits for the batch in flight, then starts writing the current one without waiting for it. */
        private Uni<Void> startBatch() {
            if (batch.isEmpty()) {
                return Uni.createFrom().voidItem();
            }
            List<PreparedWrite> toWrite = batch;
            Set<String> keys = batchKeys;
            batch = new ArrayList<>();
            batchKeys = new HashSet<>();
            batchWeight = 0;
            return awaitInFlight().invoke(() -> {
                inFlightKeys = keys;
                inFlight = writeAll(tenant, toWrite).invoke(written -> {
                    for (StoredResource r : written) {
                        stored++;
                        storedByType.merge(r.resourceType(), 1L, Long::sum);
                    }
                }).replaceWithVoid().subscribeAsCompletionStage();
            });
        }

        /** Writes what is left and waits for every write. */
        Uni<Void> flush() {
            return startBatch().chain(this::awaitInFlight);
        }

        IngestReport report() {
            return new IngestReport(lines, stored, new LinkedHashMap<>(storedByType), rejected, List.copyOf(rejectedLines));
        }
    }
}
