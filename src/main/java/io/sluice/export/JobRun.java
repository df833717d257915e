package io.sluice.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.fhir.FhirJson;
import io.sluice.fhir.OperationOutcomes;
import io.sluice.job.ClaimedJob;
import io.sluice.job.ExportLevel;
import io.sluice.job.ExportRequest;
import io.sluice.job.JobStoreException;
import io.sluice.job.LeaseLostException;
import io.sluice.job.StoreErrors;
import io.sluice.job.TypeProgressRow;
import io.sluice.output.FinalizedPart;
import io.sluice.output.PartKey;
import io.sluice.output.PartWriter;
import io.sluice.store.SnapshotQueries;
import io.sluice.store.SnapshotQueries.Selection;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.buffer.Buffer;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;

/**
 * One claimed job running on one worker under one lease (fencing token).
 *
 * <p>Phases, each resumable from its committed {@code export_type_progress} row: the lenient-mode
 * {@code error} part, one {@code output} phase per resource type, then (for {@code _since}) one
 * {@code deleted} phase per type. A phase reads keyset pages of the snapshot, appends NDJSON lines
 * to an open part, and when the part is full (or the phase ends) finalizes it and records it in
 * ONE fenced transaction together with the phase's cursor, count and next part index. Lines of a
 * still-open part are never covered by a committed cursor: after a crash the open part is simply
 * abandoned and rewritten from the last committed cursor under the new token (the token is in the
 * file name), and unrecorded files are deleted when the job completes.
 */
final class JobRun {

    private static final Logger LOG = Logger.getLogger(JobRun.class);
    private static final byte NEWLINE = '\n';
    /** Most pages of a type a cohort export reads through its members (see {@link #byMembers}). */
    static final int MEMBER_SCAN_MAX_PAGES = 50;
    /** A patient list of at most 1/this of the tenant's live patients is a small cohort. */
    static final int SMALL_COHORT_DIVISOR = 4;
    /** A rendered line at least this large goes to its part as it is, not copied into a segment buffer. */
    static final int OWN_PIECE_BYTES = 1 << 20;
    /** Fewest bytes read per slice of a resource too large for a page (see {@link #writeHuge}). */
    static final int MIN_SLICE_BYTES = 4096;

    final ClaimedJob job;
    private final ExportWorker worker;
    private final ExportEngine engine;
    private final EngineSettings settings;
    private volatile RuntimeException stopCause;
    private long heartbeatTimer = -1;
    /** Parts being written by the running phases (one per phase at most); aborted on failure. */
    private final Set<PartWriter> openWriters = ConcurrentHashMap.newKeySet();
    /** The first failure of one of this attempt's type lanes: the other lanes stop at their next step. */
    private volatile Throwable laneFailure;
    private io.vertx.core.Context context;
    /** The totals being counted beside the reads of this attempt (see {@link #countBesideTheReads}); never fails. */
    private volatile CompletableFuture<Void> pendingTotals;

    JobRun(ExportWorker worker, ClaimedJob job) {
        this.worker = worker;
        this.engine = worker.engine;
        this.settings = worker.settings;
        this.job = job;
    }

    /** Asks the pipeline to stop at its next step with {@code cause}. */
    void stop(RuntimeException cause) {
        if (stopCause == null) {
            stopCause = cause;
        }
        if (cause instanceof ExportWorker.Stopped) {
            cancelHeartbeat();
        }
    }

    private void checkStopped() {
        RuntimeException c = stopCause;
        if (c != null) {
            throw c;
        }
        if (laneFailure != null) {
            throw new LaneStopped();
        }
    }

    /** Ends a type lane because another lane of the same attempt failed (that failure is the job's). */
    private static final class LaneStopped extends RuntimeException {
        LaneStopped() {
            super("another resource type of the job failed", null, false, false);
        }
    }

    private <T> Uni<T> guarded(java.util.function.Supplier<Uni<T>> next) {
        return Uni.createFrom().deferred(() -> {
            checkStopped();
            return next.get();
        });
    }

    // ------------------------------------------------------------------ lifecycle

    Uni<Void> run() {
        context = io.vertx.core.Vertx.currentContext();
        log(() -> LOG.infof("export job %s (tenant %s) claimed by worker %s: attempt %d, fencing token %d",
                job.lease().jobId(), job.tenant(), worker.workerId, job.attempts(), job.lease().fencingToken()));
        startHeartbeat();
        return attempt(0).eventually(this::cancelHeartbeat);
    }

    /** Logs with the job's MDC keys (see {@link JobMdc}). */
    private void log(Runnable logging) {
        JobMdc.log(job, worker.workerId, logging);
    }

    private void startHeartbeat() {
        long every = Math.max(10, settings.heartbeat().toMillis());
        heartbeatTimer = engine.vertx.setPeriodic(every, id -> {
            if (stopCause != null) {
                return;
            }
            engine.jobs.heartbeat(job.lease(), settings.lease()).subscribe().with(t -> {
            }, e -> {
                if (e instanceof LeaseLostException lost) {
                    stop(lost);
                } else {
                    log(() -> LOG.warnf("heartbeat of job %s failed (will retry): %s", job.lease().jobId(), e.getMessage()));
                }
            });
        });
    }

    private synchronized void cancelHeartbeat() {
        if (heartbeatTimer >= 0) {
            engine.vertx.cancelTimer(heartbeatTimer);
            heartbeatTimer = -1;
        }
    }

    private Uni<Void> attempt(int retriesSoFar) {
        return execute().onFailure().recoverWithUni(e -> handleFailure(e, retriesSoFar));
    }

    private Uni<Void> handleFailure(Throwable failure, int retriesSoFar) {
        Throwable e = stopCause != null ? stopCause : failure;
        if (e instanceof ExportWorker.Stopped stopped) {
            // crash simulation leaves everything as it is; shutdown aborts the open part (lease released by the worker)
            return stopped.crash ? Uni.createFrom().voidItem() : abortOpenPart();
        }
        Uni<Void> abort = abortOpenPart();
        if (e instanceof LeaseLostException lost) {
            engine.metrics.leaseLost(lost.reason().name());
            engine.metrics.jobEnded(lost.reason() == LeaseLostException.Reason.CANCELLED ? "cancelled" : "lease-lost");
            log(() -> LOG.infof("export job %s: %s; worker %s stops", job.lease().jobId(), lost.getMessage(), worker.workerId));
            return lost.reason() == LeaseLostException.Reason.CANCELLED
                    ? abort.chain(() -> engine.output.deleteJob(job.tenant(), job.lease().jobId()).onFailure().recoverWithNull())
                    : abort.chain(this::deleteStrayFilesIfFinished);
        }
        Optional<Duration> delay = settings.retry().nextDelay(e, retriesSoFar);
        if (delay.isPresent()) {
            log(() -> LOG.warnf("export job %s: transient failure (%s), retry %d in %s", job.lease().jobId(),
                    StoreErrors.describe(e), retriesSoFar + 1, delay.get()));
            io.vertx.core.Context ctx = context;
            return abort.chain(() -> Uni.createFrom().voidItem().onItem().delayIt().by(delay.get())
                            .emitOn(ctx == null ? Runnable::run : task -> ctx.runOnContext(x -> task.run())))
                    .chain(() -> attempt(retriesSoFar + 1));
        }
        String message = failureMessage(e, retriesSoFar);
        engine.metrics.jobEnded("error");
        if (e instanceof ExportFailure) {
            log(() -> LOG.warnf("export job %s failed: %s", job.lease().jobId(), message));
        } else {
            log(() -> LOG.errorf(e, "export job %s failed: %s", job.lease().jobId(), message));
        }
        return abort.chain(() -> engine.jobs.fail(job.lease(), message))
                // a failed job has no manifest: its files are of no use to anyone
                .chain(() -> engine.output.deleteJob(job.tenant(), job.lease().jobId()).onFailure().recoverWithNull())
                .onFailure().recoverWithUni(f -> {
                    if (f instanceof LeaseLostException lost && lost.reason() == LeaseLostException.Reason.CANCELLED) {
                        return engine.output.deleteJob(job.tenant(), job.lease().jobId()).onFailure().recoverWithNull();
                    }
                    log(() -> LOG.warnf("could not mark job %s failed: %s", job.lease().jobId(), f.getMessage()));
                    return Uni.createFrom().voidItem();
                });
    }

    /**
     * A worker that lost its lease may have finalized (renamed) a part it could not record. While another
     * worker still runs the job, that worker's completion deletes the stray file (the rename happened
     * before this check); once the job is finished nobody else will, so delete unrecorded files here.
     */
    private Uni<Void> deleteStrayFilesIfFinished() {
        UUID jobId = job.lease().jobId();
        return engine.jobs.status(jobId)
                .chain(s -> s.isEmpty() || s.get().isFinal()
                        ? engine.jobs.recordedLocations(jobId).chain(keep -> engine.output.deleteUnrecorded(job.tenant(), jobId, keep))
                        : Uni.createFrom().voidItem())
                .onFailure().recoverWithNull();
    }

    static String failureMessage(Throwable e, int retries) {
        String cause = e instanceof ExportFailure ? e.getMessage() : StoreErrors.describe(e);
        return retries > 0 ? cause + " (after " + retries + " retries)" : cause;
    }

    private Uni<Void> abortOpenPart() {
        List<PartWriter> writers = List.copyOf(openWriters);
        openWriters.clear();
        if (writers.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return Uni.join().all(writers.stream().map(w -> w.abort().onFailure().recoverWithNull()).toList())
                .andCollectFailures().replaceWithVoid().onFailure().recoverWithNull();
    }

    /** A permanent, explained failure of the job (bad filter, missing Group...). */
    static final class ExportFailure extends RuntimeException {
        ExportFailure(String message) {
            super(message);
        }
    }

    // ------------------------------------------------------------------ the job

    private Uni<Void> execute() {
        laneFailure = null; // a retry starts after every lane of the failed attempt has ended
        pendingTotals = null;
        return guarded(this::selection).chain(sel -> guarded(() -> plan(sel))
                .chain(phases -> guarded(() -> renderers())
                        .chain(renderers -> runPhases(sel, phases, renderers)))
                .chain(() -> pendingTotals == null ? Uni.createFrom().voidItem()
                        : Uni.createFrom().completionStage(pendingTotals))
                .chain(() -> guarded(() -> engine.jobs.complete(job.lease())))
                .invoke(() -> {
                    engine.metrics.jobEnded("complete");
                    log(() -> LOG.infof("export job %s complete on worker %s", job.lease().jobId(), worker.workerId));
                })
                .chain(() -> engine.jobs.recordedLocations(job.lease().jobId()))
                .chain(keep -> engine.output.deleteUnrecorded(job.tenant(), job.lease().jobId(), keep)
                        .onFailure().recoverWithNull()));
    }

    /**
     * Runs the phases not yet done in up to {@code parallel-types} lanes; each lane takes the next phase
     * from a shared queue when it finishes one. Phases are independent (own cursor, parts, progress row,
     * all fenced). When a lane fails, the others stop at their next step and the attempt fails with that
     * first failure once every lane has ended, so no write of this attempt is still in flight on retry.
     */
    private Uni<Void> runPhases(Selection sel, List<TypeProgressRow> phases, Map<String, Renderer> renderers) {
        Queue<TypeProgressRow> todo = new ConcurrentLinkedQueue<>(
                phases.stream().filter(p -> !p.done()).toList());
        if (todo.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        int lanes = Math.max(1, Math.min(settings.parallelTypes(), todo.size()));
        List<Uni<Void>> all = new ArrayList<>();
        for (int i = 0; i < lanes; i++) {
            all.add(lane(sel, todo, renderers).onFailure().invoke(e -> {
                if (!(e instanceof LaneStopped) && laneFailure == null) {
                    laneFailure = e;
                }
            }));
        }
        return Uni.join().all(all).andCollectFailures().replaceWithVoid()
                .onFailure().transform(e -> laneFailure != null ? laneFailure : e);
    }

    private Uni<Void> lane(Selection sel, Queue<TypeProgressRow> todo, Map<String, Renderer> renderers) {
        return Uni.createFrom().deferred(() -> {
            TypeProgressRow next = todo.poll();
            return next == null ? Uni.createFrom().voidItem()
                    : guarded(() -> runPhase(sel, next, renderers)).chain(() -> lane(sel, todo, renderers));
        });
    }

    private Uni<Selection> selection() {
        ExportRequest r = job.request();
        var at = job.transactionTime();
        if (job.level() == ExportLevel.SYSTEM) {
            return Uni.createFrom().item(Selection.system(job.tenant(), at, r.since(), r.until()));
        }
        if (job.level() == ExportLevel.PATIENT) {
            if (r.patients().isEmpty()) {
                return Uni.createFrom().item(new Selection(job.tenant(), at, r.since(), r.until(), true, null, new String[0], false));
            }
            return cohort(r.patients().toArray(String[]::new), new String[0]);
        }
        SnapshotQueries q = engine.snapshots;
        return q.exists(job.tenant(), "Group", job.groupId(), at).chain(exists -> {
            if (!exists) {
                return Uni.createFrom().failure(new ExportFailure(
                        "Group/" + job.groupId() + " does not exist at the export's transactionTime " + at));
            }
            Uni<Set<String>> members = q.groupPatients(job.tenant(), job.groupId(), at);
            boolean split = r.since() != null && settings.groupNewMembersFullHistory();
            Uni<Set<String>> before = split ? q.groupPatients(job.tenant(), job.groupId(), r.since())
                    : Uni.createFrom().item(Set.of());
            return Uni.combine().all().unis(members, before).asTuple().map(t -> {
                Set<String> now = t.getItem1();
                List<String> old = new ArrayList<>();
                List<String> added = new ArrayList<>();
                for (String p : now) {
                    if (!r.patients().isEmpty() && !r.patients().contains(p)) {
                        continue;
                    }
                    if (split && !t.getItem2().contains(p)) {
                        added.add(p);
                    } else {
                        old.add(p);
                    }
                }
                return new String[][]{old.toArray(String[]::new), added.toArray(String[]::new)};
            }).chain(lists -> cohort(lists[0], lists[1]));
        });
    }

    /**
     * The selection of a patient list; a small cohort (at most 1/{@value #SMALL_COHORT_DIVISOR} of the
     * tenant's live patients) is read through its members' compartment rows.
     */
    private Uni<Selection> cohort(String[] patients, String[] fullHistory) {
        ExportRequest r = job.request();
        return engine.snapshots.counts(Selection.system(job.tenant(), job.transactionTime(), null, null), List.of("Patient"))
                .map(counts -> counts.get("Patient"))
                .map(live -> new Selection(job.tenant(), job.transactionTime(), r.since(), r.until(), true, patients, fullHistory,
                        (long) (patients.length + fullHistory.length) * SMALL_COHORT_DIVISOR <= live));
    }

    /** The job's phases: committed rows, or a fresh plan recorded (fenced) on first run. */
    private Uni<List<TypeProgressRow>> plan(Selection sel) {
        return engine.jobs.progress(job.lease().jobId())
                .chain(rows -> rows.isEmpty() ? newPlan(sel) : Uni.createFrom().item(ordered(rows)))
                .invoke(phases -> {
                    // a new plan's totals, or those a previous attempt did not record
                    List<String> uncounted = phases.stream().filter(p -> p.kind().equals("output") && p.total() == null)
                            .map(TypeProgressRow::resourceType).toList();
                    if (countsBesideTheReads(sel) && !uncounted.isEmpty()) {
                        countBesideTheReads(sel, uncounted);
                    }
                });
    }

    /** The phases of a job's first attempt, recorded (fenced); totals only when counted before the reads. */
    private Uni<List<TypeProgressRow>> newPlan(Selection sel) {
        ExportRequest r = job.request();
        Uni<List<String>> types;
        if (!r.types().isEmpty()) {
            types = Uni.createFrom().item(r.types().stream().distinct().sorted().toList());
        } else if (job.level() == ExportLevel.SYSTEM) {
            types = engine.snapshots.typesPresent(job.tenant());
        } else {
            types = engine.snapshots.compartmentTypes(job.tenant());
        }
        boolean beside = countsBesideTheReads(sel);
        return types.chain(ts -> beside ? Uni.createFrom().item(uncounted(ts)) : totals(sel, ts)).chain(totals -> {
            List<TypeProgressRow> plan = new ArrayList<>();
            if (!r.lenientIssues().isEmpty()) {
                plan.add(TypeProgressRow.start("error", "OperationOutcome", (long) r.lenientIssues().size()));
            }
            totals.forEach((type, total) -> plan.add(TypeProgressRow.start("output", type, total.orElse(null))));
            if (r.since() != null) {
                totals.keySet().forEach(type -> plan.add(TypeProgressRow.start("deleted", type, null)));
            }
            return engine.jobs.initProgress(job.lease(), plan)
                    .chain(() -> engine.jobs.progress(job.lease().jobId()))
                    .map(JobRun::ordered);
        });
    }

    /**
     * Whether the totals are counted while the phases already read: they only feed {@code X-Progress},
     * except for a small cohort, whose phases choose how to read by them ({@link #byMembers}). The
     * count (a pass over the type heads, 150 ms for 200K resources) then no longer delays the first page.
     */
    private boolean countsBesideTheReads(Selection sel) {
        return settings.countTotals() && !sel.smallCohort();
    }

    private static Map<String, Optional<Long>> uncounted(List<String> types) {
        Map<String, Optional<Long>> none = new java.util.TreeMap<>();
        types.forEach(t -> none.put(t, Optional.empty()));
        return none;
    }

    /**
     * Counts the totals of {@code types} and records them (fenced) while the phases run; the job
     * completes only after (see {@link #execute}). A failure leaves the totals unknown, as with counting
     * off, and never fails the job.
     */
    private void countBesideTheReads(Selection sel, List<String> types) {
        pendingTotals = totals(sel, types)
                .chain(totals -> {
                    Map<String, Long> known = new java.util.TreeMap<>();
                    totals.forEach((type, total) -> total.ifPresent(n -> known.put(type, n)));
                    return known.isEmpty() ? Uni.createFrom().voidItem() : engine.jobs.recordTotals(job.lease(), known);
                })
                .onFailure().invoke(e -> log(() -> LOG.debugf("export job %s: totals not recorded: %s",
                        job.lease().jobId(), e.getMessage())))
                .onFailure().recoverWithNull()
                .subscribeAsCompletionStage();
    }

    private static List<TypeProgressRow> ordered(List<TypeProgressRow> rows) {
        Map<String, Integer> rank = Map.of("error", 0, "output", 1, "deleted", 2);
        return rows.stream().sorted(Comparator.<TypeProgressRow>comparingInt(p -> rank.get(p.kind()))
                .thenComparing(TypeProgressRow::resourceType)).toList();
    }

    /**
     * The phases' totals (for {@code X-Progress}) in one statement for all types (see
     * {@link SnapshotQueries#counts}); none for types with a {@code _typeFilter} (the filter runs in
     * Java, so only the export knows) or when counting is off.
     */
    private Uni<Map<String, Optional<Long>>> totals(Selection sel, List<String> types) {
        List<String> counted = settings.countTotals()
                ? types.stream().filter(t -> !job.request().typeFilters().containsKey(t)).toList() : List.of();
        return engine.snapshots.counts(sel, counted).map(counts -> {
            Map<String, Optional<Long>> totals = new java.util.TreeMap<>();
            types.forEach(t -> totals.put(t, Optional.ofNullable(counts.get(t))));
            return totals;
        });
    }

    // ------------------------------------------------------------------ rendering

    /** Turns one stored resource into its output line, or null when a type filter drops it. */
    interface Renderer {
        /** The stored bytes as they are (no _elements, no _typeFilter): pages can come joined by the database. */
        Renderer STORED = content -> content;

        Buffer render(Buffer content);
    }

    private Uni<Map<String, Renderer>> renderers() {
        return Uni.createFrom().item(() -> {
            ExportRequest r = job.request();
            Optional<TypeFilterFactory> factory = r.typeFilters().isEmpty() ? Optional.empty() : engine.typeFilterFactory();
            if (!r.typeFilters().isEmpty() && factory.isEmpty()) {
                throw new ExportFailure("the job has _typeFilter values but this server has no _typeFilter "
                        + "implementation (no TypeFilterFactory bean)");
            }
            Map<String, Renderer> out = new HashMap<>();
            Set<String> types = new LinkedHashSet<>(r.typeFilters().keySet());
            for (String e : r.elements()) {
                int dot = e.indexOf('.');
                if (dot > 0) {
                    types.add(e.substring(0, dot));
                }
            }
            for (String type : types) {
                out.put(type, renderer(type, factory));
            }
            out.put("*", renderer("*", factory));
            return out;
        });
    }

    private Renderer renderer(String type, Optional<TypeFilterFactory> factory) {
        ExportRequest r = job.request();
        Set<String> keep = ElementsProjection.elementsFor(type, r.elements());
        Predicate<JsonNode> filter = null;
        List<String> queries = r.typeFilters().get(type);
        if (queries != null && !queries.isEmpty()) {
            try {
                filter = factory.orElseThrow().compile(type, queries);
            } catch (RuntimeException e) {
                throw new ExportFailure("_typeFilter for " + type + " cannot be applied: " + e.getMessage());
            }
        }
        if (keep.isEmpty() && filter == null) {
            return Renderer.STORED;
        }
        Predicate<JsonNode> f = filter;
        return content -> {
            try {
                JsonNode node = engine.json.readTree(content.getBytes());
                if (f != null && !f.test(node)) {
                    return null;
                }
                if (keep.isEmpty() || !(node instanceof ObjectNode obj)) {
                    return content;
                }
                return Buffer.buffer(engine.json.writeValueAsBytes(ElementsProjection.project(obj, keep)));
            } catch (java.io.IOException e) {
                throw new ExportFailure("stored resource is not valid JSON: " + e.getMessage());
            }
        };
    }

    // ------------------------------------------------------------------ phases

    /** In-memory state of the running phase; only {@code committed*} values are in the database. */
    private static final class Phase {
        final TypeProgressRow row;
        String readCursor;
        long exportedCommitted;
        int nextPart;
        long partLines;
        long partBytes;
        boolean finished;
        /** The part this phase is writing, if one is open. */
        PartWriter writer;
        /** The next page, already being read (null when none is). */
        CompletableFuture<Page> readAhead;
        /** Average stored size of the rows of the last full page (1 until one was read). */
        long storedBytesPerRow = 1;

        /** Pages read through the members' compartment rows (see {@link SnapshotQueries#page}). */
        final boolean byMembers;

        Phase(TypeProgressRow row, boolean byMembers) {
            this.row = row;
            this.byMembers = byMembers;
            this.readCursor = row.cursorId();
            this.exportedCommitted = row.exported();
            this.nextPart = row.nextPart();
        }
    }

    /**
     * Lines of one page that go into the same part; {@code closesPart} when the part is full after them.
     * {@code hugeId}: instead of pieces, the one resource too large for a page, written slice by slice.
     */
    private record Segment(List<Buffer> pieces, long count, String lastId, boolean closesPart, String hugeId) {

        Segment(List<Buffer> pieces, long count, String lastId, boolean closesPart) {
            this(pieces, count, lastId, closesPart, null);
        }
    }

    /**
     * The bytes of a segment in few buffers: small lines are copied together into one, a line of at
     * least {@link #OWN_PIECE_BYTES} is kept as the buffer it was read into, so a 50 MB resource is
     * never copied on its way to the part.
     */
    private static final class Pieces {
        private final List<Buffer> done = new ArrayList<>();
        private Buffer current;
        private long smallBytesLeft;

        Pieces(long smallBytes) {
            this.smallBytesLeft = smallBytes;
        }

        void add(Buffer line) {
            if (line.length() >= OWN_PIECE_BYTES) {
                flush();
                done.add(line);
                done.add(Buffer.buffer(1).appendByte(NEWLINE));
                return;
            }
            if (current == null) {
                current = Buffer.buffer((int) Math.min(Integer.MAX_VALUE - 8, Math.max(64, smallBytesLeft)));
            }
            current.appendBuffer(line).appendByte(NEWLINE);
            smallBytesLeft -= line.length() + 1;
        }

        private void flush() {
            if (current != null && current.length() > 0) {
                done.add(current);
            }
            current = null;
        }

        List<Buffer> finish() {
            flush();
            return done;
        }

        /** Pieces for the rest of the page: sized for the small lines still to come, not the whole page. */
        Pieces next() {
            return new Pieces(smallBytesLeft);
        }
    }

    private Uni<Void> runPhase(Selection sel, TypeProgressRow row, Map<String, Renderer> renderers) {
        Phase phase = new Phase(row, byMembers(sel, row));
        if (row.kind().equals("error")) {
            return errorPhase(phase);
        }
        Renderer renderer = renderers.getOrDefault(row.resourceType(), renderers.get("*"));
        return Multi.createBy().repeating().uni(() -> guarded(() -> step(sel, phase, renderer)))
                .whilst(more -> more)
                .collect().last().replaceWithVoid();
    }

    /**
     * Whether a phase reads through the members' compartment rows: a small cohort and a type
     * whose counted hits fit in {@value #MEMBER_SCAN_MAX_PAGES} pages, so the per-page sort of the
     * remaining hits stays small; otherwise (and when not counted) the type's rows are scanned.
     */
    private boolean byMembers(Selection sel, TypeProgressRow row) {
        return row.kind().equals("output") && sel.smallCohort() && row.total() != null
                && row.total() <= (long) MEMBER_SCAN_MAX_PAGES * settings.batchSize();
    }

    /**
     * One page: takes the page read ahead (or reads it), starts reading the next page at once, so the
     * database works on page n+1 while page n is rendered and written, then writes page n. Pages hold
     * at most {@code batch-size} rows and, judging by the rows just read, about {@code page-max-bytes}:
     * a type of large resources is read a few rows at a time, so two pages always fit in memory.
     */
    private Uni<Boolean> step(Selection sel, Phase phase, Renderer renderer) {
        CompletableFuture<Page> ahead = phase.readAhead;
        phase.readAhead = null;
        Uni<Page> next = ahead != null ? Uni.createFrom().completionStage(ahead)
                : fetch(sel, phase, renderer, phase.readCursor, pageLimit(phase));
        return next.chain(page -> {
            checkStopped();
            boolean last = !page.more();
            if (!last) {
                if (page.blob() == null || !page.blob().huge()) {
                    phase.storedBytesPerRow = Math.max(1, page.storedBytes() / Math.max(1, page.rows()));
                }
                phase.readAhead = fetch(sel, phase, renderer, page.lastId(), pageLimit(phase))
                        .subscribeAsCompletionStage();
            }
            List<Segment> segments = page.blob() != null ? segment(phase, page.blob()) : segment(phase, page.lines());
            Uni<Void> written = Multi.createFrom().iterable(segments)
                    .onItem().transformToUniAndConcatenate(s -> guarded(() -> writeSegment(sel, phase, s)))
                    .collect().last().replaceWithVoid();
            return written.chain(() -> last ? guarded(() -> finishPhase(phase)) : Uni.createFrom().voidItem())
                    .replaceWith(!last);
        });
    }

    /** Rows to ask for: {@code batch-size}, fewer when the rows read so far are large. */
    private int pageLimit(Phase phase) {
        long byBytes = settings.pageMaxBytes() / phase.storedBytesPerRow;
        return (int) Math.max(1, Math.min(settings.batchSize(), byBytes));
    }

    /**
     * One page: its rendered lines, or (rows as stored) the database-joined {@code blob}; the rows read,
     * the row limit it was read with, the size of the rows as stored and the id of the last row.
     */
    private record Page(List<Line> lines, SnapshotQueries.PageBlob blob, int rows, boolean more, long storedBytes, String lastId) {

        static Page of(List<Line> lines, int limit, long storedBytes) {
            return new Page(lines, null, lines.size(), lines.size() >= limit, storedBytes,
                    lines.isEmpty() ? null : lines.get(lines.size() - 1).id());
        }

        /** A joined page; more follow when it was full or cut short by the byte budget. */
        static Page of(SnapshotQueries.PageBlob blob, int limit) {
            int n = blob.ids().length;
            return new Page(List.of(), blob, n, blob.scanned() >= limit || n < blob.scanned(), blob.storedBytes(),
                    n == 0 ? null : blob.ids()[n - 1]);
        }
    }

    private Uni<Page> fetch(Selection sel, Phase phase, Renderer renderer, String afterId, int limit) {
        String type = phase.row.resourceType();
        if (phase.row.kind().equals("deleted")) {
            return engine.snapshots.deletedPage(sel, type, afterId, limit)
                    .map(ids -> Page.of(ids.stream().map(id -> new Line(id, Buffer.buffer(deletedBundle(type, id)))).toList(),
                            limit, 0));
        }
        if (renderer == Renderer.STORED) {
            return engine.snapshots.pageBlob(sel, type, afterId, limit, settings.pageMaxBytes(), settings.pageMaxBytes(),
                            phase.byMembers)
                    .map(blob -> Page.of(blob, limit));
        }
        long maxParse = FhirJson.maxParseBytes();
        return engine.snapshots.page(sel, type, afterId, limit, phase.byMembers, maxParse).map(rows -> {
            List<Line> lines = new ArrayList<>(rows.size());
            long bytes = 0;
            for (SnapshotQueries.SnapshotRow r : rows) {
                if (r.content() == null) {
                    // parsing it could take the heap every job of this process needs
                    throw new ExportFailure(type + "/" + r.id() + " is " + r.storedBytes() + " bytes, more than the "
                            + maxParse + " this server parses whole (" + FhirJson.MAX_PARSE_RULE + "), so "
                            + "_elements and _typeFilter cannot be applied to it: export " + type
                            + " without them, or run the server with a larger heap");
                }
                bytes += r.content().length();
                lines.add(new Line(r.id(), renderer.render(r.content())));
            }
            return Page.of(lines, limit, bytes);
        });
    }

    private record Line(String id, Buffer bytes) {
    }

    private byte[] deletedBundle(String type, String id) {
        ObjectNode b = engine.json.createObjectNode();
        b.put("resourceType", "Bundle");
        b.put("type", "transaction");
        ObjectNode req = b.putArray("entry").addObject().putObject("request");
        req.put("method", "DELETE");
        req.put("url", type + "/" + id);
        try {
            return engine.json.writeValueAsBytes(b);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<Segment> segment(Phase phase, List<Line> lines) {
        List<Segment> out = new ArrayList<>();
        long small = 0;
        for (Line line : lines) {
            if (line.bytes() != null && line.bytes().length() < OWN_PIECE_BYTES) {
                small += line.bytes().length() + 1;
            }
        }
        Pieces pieces = new Pieces(small);
        long n = 0;
        String lastId = null;
        for (Line line : lines) {
            lastId = line.id();
            if (line.bytes() == null) {
                continue;
            }
            pieces.add(line.bytes());
            n++;
            if (fillsPart(phase, line.bytes().length() + 1L)) {
                out.add(new Segment(pieces.finish(), n, lastId, true));
                pieces = pieces.next();
                n = 0;
            }
        }
        if (n > 0) {
            out.add(new Segment(pieces.finish(), n, lastId, false));
        }
        if (lastId != null) {
            phase.readCursor = lastId;
        }
        return out;
    }

    /**
     * {@link #segment(Phase, List)} for a database-joined page: the segments are slices of the page's
     * chunks (no copy), cut at the row where the part is full.
     */
    private List<Segment> segment(Phase phase, SnapshotQueries.PageBlob blob) {
        List<Segment> out = new ArrayList<>();
        String[] ids = blob.ids();
        if (blob.huge()) {
            boolean full = fillsPart(phase, blob.sizes()[0] + 1L);
            phase.readCursor = ids[0];
            return List.of(new Segment(List.of(), 1, ids[0], full, ids[0]));
        }
        int from = 0;
        int fromByte = 0;
        int atByte = 0;
        for (int i = 0; i < ids.length; i++) {
            int lineBytes = blob.sizes()[i] + 1;
            atByte += lineBytes;
            if (fillsPart(phase, lineBytes)) {
                out.add(new Segment(blob.slice(fromByte, atByte), i + 1 - from, ids[i], true));
                from = i + 1;
                fromByte = atByte;
            }
        }
        if (from < ids.length) {
            out.add(new Segment(blob.slice(fromByte, atByte), ids.length - from, ids[ids.length - 1], false));
        }
        if (ids.length > 0) {
            phase.readCursor = ids[ids.length - 1];
        }
        return out;
    }

    /**
     * Counts one line of {@code lineBytes} (newline included) into the phase's open part; true when the
     * part is full after it, and then the count starts again for the next part.
     */
    private boolean fillsPart(Phase phase, long lineBytes) {
        phase.partLines++;
        phase.partBytes += lineBytes;
        if (phase.partLines < settings.partMaxResources() && phase.partBytes < settings.partMaxBytes()) {
            return false;
        }
        phase.partLines = 0;
        phase.partBytes = 0;
        return true;
    }

    private PartKey key(Phase phase) {
        return new PartKey(job.tenant(), job.lease().jobId(), phase.row.kind(), phase.row.resourceType(), phase.nextPart,
                job.lease().fencingToken());
    }

    private Uni<Void> writeSegment(Selection sel, Phase phase, Segment s) {
        Uni<PartWriter> writer = phase.writer != null ? Uni.createFrom().item(phase.writer) : openPart(phase);
        return writer.chain(w -> s.hugeId() != null ? writeHuge(sel, phase, w, s.hugeId())
                        : writePieces(w, s.pieces(), 0, s.count()))
                .chain(() -> s.closesPart() ? closePart(phase, s.lastId(), false) : Uni.createFrom().voidItem());
    }

    /**
     * Writes one resource too large for a page as its line, in slices of {@code page-max-bytes} / 4 bytes
     * (at least {@value #MIN_SLICE_BYTES}) read through a cursor: memory stays bounded by the slice,
     * whatever the resource's size.
     */
    private Uni<Void> writeHuge(Selection sel, Phase phase, PartWriter w, String id) {
        int bytes = (int) Math.max(MIN_SLICE_BYTES, Math.min(Integer.MAX_VALUE, settings.pageMaxBytes() / 4));
        return engine.snapshots.streamContent(sel, phase.row.resourceType(), id, bytes, slice -> {
            checkStopped();
            return w.write(slice, 0);
        }).chain(() -> w.write(Buffer.buffer(1).appendByte(NEWLINE), 1));
    }

    /** Writes the pieces in order; the segment's line count goes with the last one. */
    private static Uni<Void> writePieces(PartWriter w, List<Buffer> pieces, int from, long count) {
        boolean last = from == pieces.size() - 1;
        return w.write(pieces.get(from), last ? count : 0)
                .chain(() -> last ? Uni.createFrom().voidItem() : writePieces(w, pieces, from + 1, count));
    }

    private Uni<PartWriter> openPart(Phase phase) {
        return engine.output.open(key(phase)).invoke(w -> {
            phase.writer = w;
            openWriters.add(w);
        });
    }

    private Uni<Void> finishPhase(Phase phase) {
        if (phase.writer != null) {
            return closePart(phase, phase.readCursor, true);
        }
        return engine.jobs.markDone(job.lease(), phase.row.kind(), phase.row.resourceType(), phase.readCursor);
    }

    /** Finalizes the open part, then records it and advances the phase in one fenced transaction. */
    private Uni<Void> closePart(Phase phase, String cursor, boolean done) {
        PartWriter w = phase.writer;
        long started = System.nanoTime();
        return w.finalizePart()
                .invoke(() -> {
                    phase.writer = null;
                    openWriters.remove(w);
                })
                .chain(part -> worker.hooks.afterFinalize(job, part).replaceWith(part))
                .chain(part -> guarded(() -> engine.jobs.recordPart(job.lease(), part, cursor,
                        phase.exportedCommitted + part.resourceCount(), done))
                        .invoke(() -> {
                            phase.exportedCommitted += part.resourceCount();
                            phase.nextPart++;
                            engine.metrics.partRecorded(part.key().kind(), part.key().resourceType(), part.resourceCount(),
                                    part.byteCount(), Duration.ofNanos(System.nanoTime() - started));
                        }));
    }

    private Uni<Void> errorPhase(Phase phase) {
        Buffer buf = Buffer.buffer();
        long n = 0;
        for (String issue : job.request().lenientIssues()) {
            try {
                buf.appendBytes(engine.json.writeValueAsBytes(OperationOutcomes.of("warning", "processing", issue)))
                        .appendByte(NEWLINE);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new JobStoreException("cannot render OperationOutcome", e);
            }
            n++;
        }
        long count = n;
        return openPart(phase)
                .chain(w -> w.write(buf, count))
                .chain(() -> closePart(phase, null, true));
    }
}
