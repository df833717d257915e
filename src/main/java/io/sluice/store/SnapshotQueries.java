package io.sluice.store;

import io.sluice.job.Sql;
import io.sluice.job.StoreErrors;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.buffer.Buffer;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Export reads of the resource store as of a snapshot instant T (docs/architecture.md): a version is
 * visible when {@code valid_from <= T AND (valid_to IS NULL OR valid_to > T) AND NOT deleted}.
 * Pages are keyset-ordered by id within a type, so a committed cursor resumes exactly.
 * Read-only over schema V1; every failure is translated by {@link StoreErrors}.
 */
@ApplicationScoped
public class SnapshotQueries {

    /**
     * One visible resource version: its id, version, stored size in bytes and raw JSON as stored, as
     * UTF-8 bytes (read as {@code bytea}, so the text is never decoded to a String and encoded back on
     * its way to a file); {@code content} is null when the row is over the size the page was read with.
     */
    public record SnapshotRow(String id, long versionId, Buffer content, long storedBytes) {
        /** Columns by position (id, version_id, content, raw_size): the page query's select list. */
        static SnapshotRow from(Row r) {
            return new SnapshotRow(r.getString(0), r.getLong(1), r.getBuffer(2), r.getLong(3));
        }
    }

    /**
     * A page: the rows' ids in id order, each row's stored size in bytes, and their contents as UTF-8,
     * each followed by '\n' (NDJSON, ready for a file), in the chunks PostgreSQL joined them into (see
     * {@link #blobOf}), so the client decodes one value per chunk instead of three per row and no buffer
     * is larger than a chunk. {@code scanned}: rows the page query found; the joined ones are its first
     * rows up to the byte budget (at least one). {@code huge}: the page is one row too large to travel
     * in a page, by reference (id and size, no lines); its content is read with
     * {@link SnapshotQueries#streamContent}.
     */
    public record PageBlob(String[] ids, int[] sizes, List<Buffer> chunks, int scanned, boolean huge) {

        static final PageBlob EMPTY = new PageBlob(new String[0], new int[0], List.of(), 0, false);

        public PageBlob {
            if (ids.length > scanned) {
                throw new IllegalStateException("page blob of " + ids.length + " rows out of " + scanned + " scanned");
            }
            long length = 0;
            for (Buffer chunk : chunks) {
                length += chunk.length();
            }
            if (huge && (ids.length != 1 || length != 0)) {
                throw new IllegalStateException("a huge row comes alone and by reference, not in a page of " + ids.length);
            }
            // the fields are not assigned yet in a compact constructor: the parameter, not storedBytes()
            long total = huge ? 0 : ids.length + Arrays.stream(sizes).asLongStream().sum();
            if (sizes.length != ids.length || total != length) {
                throw new IllegalStateException("page blob of " + ids.length + " ids, " + sizes.length + " sizes and "
                        + length + " bytes does not add up");
            }
            for (int i = 1; i < ids.length; i++) {
                if (ids[i - 1].compareTo(ids[i]) >= 0) {
                    throw new IllegalStateException("page blob rows are not in id order at " + ids[i]);
                }
            }
        }

        /** The rows' stored sizes added up (a huge row's included, newlines not). */
        public long storedBytes() {
            return Arrays.stream(sizes).asLongStream().sum();
        }

        /** Bytes {@code [from, to)} of the page's lines, as slices of its chunks (no copy). */
        public List<Buffer> slice(long from, long to) {
            List<Buffer> out = new ArrayList<>();
            long at = 0;
            for (Buffer chunk : chunks) {
                long end = at + chunk.length();
                if (end > from && at < to) {
                    out.add(chunk.slice((int) (Math.max(from, at) - at), (int) (Math.min(to, end) - at)));
                }
                at = end;
            }
            return out;
        }

        /** The page's lines as one buffer (a copy). */
        public Buffer lines() {
            Buffer all = Buffer.buffer();
            chunks.forEach(all::appendBuffer);
            return all;
        }

        /**
         * Most bytes of the buffers small chunks are copied together into: a few hundred file writes per
         * 100 MB instead of thousands, each buffer under the size G1 allocates as humongous at a small heap.
         */
        static final int MAX_JOINED_BYTES = 256 * 1024;

        /**
         * The page from its chunk rows ({@link #blobOf}), which come in chunk order: ids, sizes and
         * lines joined in that order (the lines copied together into buffers of up to
         * {@code joinedBytes}; a chunk at least that large stays as read), {@code scanned} the most of
         * any chunk (every scanned row is in one), and a chunk of rows only past the byte budget adds
         * nothing.
         */
        static PageBlob from(RowSet<Row> rows, int joinedBytes) {
            List<String> ids = new ArrayList<>();
            List<Integer[]> sizeRuns = new ArrayList<>();
            List<Buffer> chunks = new ArrayList<>(rows.size());
            Buffer joined = null;
            int scanned = 0;
            boolean huge = false;
            for (Row r : rows) {
                scanned = Math.max(scanned, r.getInteger(3));
                String joinedIds = r.getString(1);
                if (joinedIds == null) {
                    continue;
                }
                // ids never contain a space ([A-Za-z0-9\-.]{1,64})
                ids.addAll(Arrays.asList(joinedIds.split(" ", -1)));
                sizeRuns.add(r.getArrayOfIntegers(2));
                huge |= r.getBoolean(4);
                Buffer lines = r.getBuffer(0);
                if (lines == null) {
                    continue;
                }
                if (lines.length() >= joinedBytes) {
                    chunks.add(lines);
                    joined = null;
                    continue;
                }
                if (joined == null || joined.length() + lines.length() > joinedBytes) {
                    joined = Buffer.buffer(joinedBytes);
                    chunks.add(joined);
                }
                joined.appendBuffer(lines);
            }
            int[] sizes = sizeRuns.stream().flatMap(Arrays::stream).mapToInt(Integer::intValue).toArray();
            return new PageBlob(ids.toArray(String[]::new), sizes, chunks, scanned, huge);
        }
    }

    /**
     * What a job reads.
     *
     * @param at                 the snapshot instant (transactionTime)
     * @param since              inclusive lower bound on the version's lastUpdated, or null
     * @param until              inclusive upper bound on the version's lastUpdated, or null
     * @param compartment        false: every resource of the type (system level); true: only
     *                           resources in a live patient's compartment
     * @param patients           with compartment: patients whose compartments count, subject to
     *                           {@code since}; null = every patient
     * @param fullHistoryPatients with compartment: patients whose compartments count regardless of
     *                           {@code since} (Group members added after {@code since}); never null
     * @param smallCohort        with a patient list that is a small part of the tenant's patients:
     *                           counts and (see {@link #page}) pages go through the members'
     *                           compartment rows instead of passing over the type
     */
    public record Selection(String tenant, Instant at, Instant since, Instant until, boolean compartment,
                            String[] patients, String[] fullHistoryPatients, boolean smallCohort) {

        public Selection {
            if (smallCohort && !(compartment && patients != null)) {
                throw new IllegalArgumentException("a small cohort needs a patient list");
            }
        }

        /** Every resource of the tenant. */
        public static Selection system(String tenant, Instant at, Instant since, Instant until) {
            return new Selection(tenant, at, since, until, false, null, new String[0], false);
        }
    }

    private static final String VISIBLE = """
            v.tenant = $1 AND v.resource_type = $2 AND v.id > $3
              AND v.valid_from <= $4 AND (v.valid_to IS NULL OR v.valid_to > $4) AND NOT v.deleted
              AND ($5::timestamptz IS NULL OR v.valid_from >= $5 OR $9::boolean)
              AND ($6::timestamptz IS NULL OR v.valid_from <= $6)
            """;

    /**
     * Compartment membership of {@code v}. {@code %s} ends the EXISTS subquery: {@code OFFSET 0} for
     * pages, which keeps it a per-row probe of two indexes (without it PostgreSQL hashes the whole
     * compartment table joined to the live patients, once per page: 10x slower per page); nothing for
     * counts, where that one hash pass is the fast way.
     */
    private static final String IN_COMPARTMENT = """
              AND (NOT $9::boolean OR EXISTS (
                  SELECT 1 FROM resource_compartment c
                  WHERE c.tenant = v.tenant AND c.resource_type = v.resource_type AND c.id = v.id
                    AND c.version_id = v.version_id
                    AND ((($7::text[] IS NULL OR c.patient_id = ANY($7::text[]))
                          AND ($5::timestamptz IS NULL OR v.valid_from >= $5))
                         OR c.patient_id = ANY($8::text[]))
                    AND EXISTS (
                        SELECT 1 FROM resource_version p
                        WHERE p.tenant = c.tenant AND p.resource_type = 'Patient' AND p.id = c.patient_id
                          AND p.valid_from <= $4 AND (p.valid_to IS NULL OR p.valid_to > $4) AND NOT p.deleted)
                  %s))
            """;

    /**
     * The stored JSON text {@code text} as UTF-8 bytes: {@code textsend} converts it to the client's
     * encoding, which the client sets to UTF8, without validating the whole string again as
     * {@code convert_to} does. Every export read of contents goes through it.
     */
    private static String utf8(String text) {
        return "textsend(" + text + ")";
    }

    /** The content column of the page queries: the stored JSON as UTF-8 bytes. */
    private static final String CONTENT = utf8("v.content") + " AS content";

    /**
     * {@link #CONTENT} in a joined page: the stored text as it is, which is a TOAST pointer for a large
     * row, so the window and the sort of {@link #blobOf} carry pointers, not contents, and a row over
     * {@code $12} bytes is never read (its size comes from the TOAST header). {@link #utf8} turns the
     * kept rows into bytes in the aggregate.
     */
    private static final String STORED_CONTENT = "v.content AS content, octet_length(v.content) AS raw_size";

    /**
     * Most content bytes per chunk of a joined page (see {@link #blobOf}): a 32nd of the page, at most
     * this, so the values PostgreSQL builds for a chunk stay under the size its C library hands out
     * from fresh memory (128 KiB) and the backend reuses its memory from one chunk to the next.
     */
    static final long MAX_CHUNK_BYTES = 32 * 1024;

    private static final String PAGE = "SELECT v.id, v.version_id, " + CONTENT + " FROM resource_version v\nWHERE\n"
            + VISIBLE + IN_COMPARTMENT.formatted("OFFSET 0") + """
            ORDER BY v.id
            LIMIT $10
            """;

    /**
     * The live members' compartment index entries of type {@code $2} after the cursor, one per
     * resource version, with whether one of them is in the full-history list: index-only reads.
     */
    private static final String MEMBER_HITS = """
            WITH alive AS (
                SELECT m.pid, bool_or(m.full_history) AS full_history
                FROM (SELECT unnest($7::text[]) AS pid, false AS full_history
                      UNION ALL SELECT unnest($8::text[]), true) m
                WHERE $9::boolean AND EXISTS (
                    SELECT 1 FROM resource_version p
                    WHERE p.tenant = $1 AND p.resource_type = 'Patient' AND p.id = m.pid
                      AND p.valid_from <= $4 AND (p.valid_to IS NULL OR p.valid_to > $4) AND NOT p.deleted)
                GROUP BY m.pid
            ), hits AS (
                SELECT c.id, c.version_id, bool_or(a.full_history) AS full_history
                FROM alive a
                JOIN resource_compartment c ON c.tenant = $1 AND c.patient_id = a.pid COLLATE "C"
                     AND c.resource_type = $2 AND c.id > $3
                GROUP BY c.id, c.version_id
                %s
            )
            """;

    /** The visible version a hit {@code h} names, if any: one primary-key probe. */
    private static final String HIT_VISIBLE = """
            CROSS JOIN LATERAL (
                SELECT v.version_id, v.content FROM resource_version v
                WHERE v.tenant = $1 AND v.resource_type = $2 AND v.id = h.id AND v.version_id = h.version_id
                  AND v.valid_from <= $4 AND (v.valid_to IS NULL OR v.valid_to > $4) AND NOT v.deleted
                  AND ($5::timestamptz IS NULL OR v.valid_from >= $5 OR h.full_history)
                  AND ($6::timestamptz IS NULL OR v.valid_from <= $6)
            ) v
            """;

    /**
     * The page of a small cohort ({@link Selection#smallCohort}), driven from the members' compartment
     * rows instead of the type's rows: the hits after the cursor are sorted by id (index-only, no
     * resource read), then each is joined to its version in that order until the page is full, so only
     * exported rows are read. Same result as {@link #PAGE}; its cost per page grows with the type's
     * remaining hits, so callers use it for types with a bounded count (see {@link #page}).
     */
    private static final String MEMBER_PAGE = MEMBER_HITS.formatted("ORDER BY c.id, c.version_id")
            + "SELECT h.id, v.version_id, " + CONTENT + "\nFROM hits h\n" + HIT_VISIBLE + """
            ORDER BY h.id
            LIMIT $10
            """;

    /** {@link #COUNT} of a small cohort: one probe per member hit instead of a pass over the type. */
    private static final String MEMBER_COUNT = MEMBER_HITS.formatted("") + """
            SELECT count(*) AS n FROM hits h
            """ + HIT_VISIBLE + """
            WHERE $10::int >= 0
            """;

    /**
     * A page query as a few rows ({@link PageBlob#from}): its rows are numbered into chunks of about
     * {@link #MAX_CHUNK_BYTES} of content ({@code $13}), and each chunk is one row of joined contents, ids (one
     * space-separated text: {@code array_agg} of the ids beside the contents made the query three to four
     * times as expensive), sizes, the most rows scanned and whether it holds the huge row. A page stops
     * before the first row over {@code $12} bytes; when that row is the page's first, the page is that
     * row alone, by reference ({@code huge}): its content is read in slices ({@link #streamContent}).
     *
     * <p>Why chunks, not one value per page (docs/benchmarks.md): a page as one value made PostgreSQL
     * allocate, fill and copy values of megabytes four times over (aggregate, result, send, output
     * buffer), fresh memory from the kernel each time (80K page faults, a second of system time, per
     * 200K-resource export); chunks stay in its reused memory. The rows are sorted by (chunk, id), so the
     * aggregates take each chunk's rows in id order and the chunks come in order, which {@link PageBlob}
     * checks rather than trusts.
     */
    private static String blobOf(String page) {
        if (page.indexOf(CONTENT) < 0 || page.indexOf(CONTENT) != page.lastIndexOf(CONTENT)) {
            throw new IllegalStateException("a page query selects its content column once");
        }
        return """
                SELECT string_agg(%s || '\\x0a'::bytea, ''::bytea) FILTER (WHERE q.keep AND NOT q.big) AS lines,
                       string_agg(q.id, ' ') FILTER (WHERE q.keep) AS ids,
                       array_agg(q.raw_size) FILTER (WHERE q.keep) AS sizes,
                       max(q.rn)::int AS scanned,
                       coalesce(bool_or(q.big) FILTER (WHERE q.keep), false) AS huge,
                       q.chunk
                FROM (
                    SELECT w.id, w.content, w.raw_size, w.big, w.rn, w.before / $13::int8 AS chunk,
                           w.before < $11::int8 AND (w.rn = 1 OR w.none_huge) AS keep
                    FROM (
                        SELECT p.id, p.content, p.raw_size, p.raw_size > $12::int8 AS big,
                               row_number() OVER upto AS rn,
                               coalesce(sum(p.raw_size) OVER (ORDER BY p.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
                               NOT bool_or(p.raw_size > $12::int8) OVER upto AS none_huge
                        FROM (
                """.formatted(utf8("q.content")) + page.replace(CONTENT, STORED_CONTENT) + """
                        ) p
                        WINDOW upto AS (ORDER BY p.id ROWS UNBOUNDED PRECEDING)
                    ) w
                    ORDER BY chunk, w.id
                ) q
                GROUP BY q.chunk
                ORDER BY q.chunk""";
    }

    private static final String PAGE_BLOB = blobOf(PAGE);
    private static final String MEMBER_PAGE_BLOB = blobOf(MEMBER_PAGE);

    /**
     * A page query as rows, each with its stored size ({@code octet_length}, from the TOAST header) and
     * its content only when that is at most {@code $11} bytes, so a row too large for the reader is
     * never read.
     */
    private static String rowsOf(String page) {
        return page.replace(CONTENT, "CASE WHEN octet_length(v.content) <= $11::int8 THEN " + utf8("v.content")
                + " END AS content, octet_length(v.content) AS raw_size");
    }

    private static final String PAGE_ROWS = rowsOf(PAGE);
    private static final String MEMBER_PAGE_ROWS = rowsOf(MEMBER_PAGE);

    private static final String COUNT = """
            SELECT count(*) AS n FROM resource_version v
            WHERE
            """ + VISIBLE + IN_COMPARTMENT.formatted("") + """
              AND $10::int >= 0
            """;

    /**
     * {@link #COUNT} of several types ({@code $2} a {@code text[]}) in one statement, grouped by type:
     * PostgreSQL hashes the compartment rows joined to the live patients once for all types, where a
     * count per type built that hash again for every type (20 s of statement time for the 16 types of a
     * 200K Patient-level export, now one pass).
     */
    private static final String COUNT_BY_TYPE = """
            SELECT v.resource_type, count(*) AS n FROM resource_version v
            WHERE
            """ + typesAny(VISIBLE) + IN_COMPARTMENT.formatted("") + """
              AND $10::int >= 0
            GROUP BY v.resource_type
            """;

    private static String typesAny(String visible) {
        String one = "v.resource_type = $2 ";
        if (visible.indexOf(one) < 0 || visible.indexOf(one) != visible.lastIndexOf(one)) {
            throw new IllegalStateException("the visibility condition names the type once");
        }
        return visible.replace(one, "v.resource_type = ANY($2::text[]) ");
    }

    private static final String DELETED_PAGE = """
            SELECT v.id FROM resource_version v
            WHERE v.tenant = $1 AND v.resource_type = $2 AND v.id > $3 AND v.deleted
              AND v.valid_from > $5 AND v.valid_from <= $4 AND (v.valid_to IS NULL OR v.valid_to > $4)
              AND ($6::timestamptz IS NULL OR v.valid_from <= $6)
              AND (NOT $9::boolean OR EXISTS (
                  SELECT 1 FROM resource_compartment c
                  WHERE c.tenant = v.tenant AND c.resource_type = v.resource_type AND c.id = v.id
                    AND c.version_id = (SELECT max(b.version_id) FROM resource_version b
                                        WHERE b.tenant = v.tenant AND b.resource_type = v.resource_type
                                          AND b.id = v.id AND b.version_id < v.version_id)
                    AND ($7::text[] IS NULL OR c.patient_id = ANY($7::text[]) OR c.patient_id = ANY($8::text[]))
                  OFFSET 0))
            ORDER BY v.id
            LIMIT $10
            """;

    private final Pool pool;

    public SnapshotQueries(Pool pool) {
        this.pool = pool;
    }

    private static Tuple args(Selection s, String type, String afterId, int limit) {
        return Tuple.from(Arrays.asList(s.tenant(), type, afterId == null ? "" : afterId, Sql.ts(s.at()),
                Sql.ts(s.since()), Sql.ts(s.until()), s.patients(), s.fullHistoryPatients(), s.compartment(), limit));
    }

    private static <T> Uni<T> translated(Uni<T> uni) {
        return uni.onFailure().transform(StoreErrors::translate);
    }

    /**
     * Up to {@code limit} visible resources of a type with id after {@code afterId} (null = from the
     * start), by id; the content of a row over {@code maxRowBytes} is left out (null), its size kept.
     * {@code byMembers} (only for a small cohort) reads through the members' compartment
     * rows, which reads only exported rows but sorts the type's remaining hits on every page: right for
     * a cohort that is a small part of the tenant, wrong for a type with millions of hits.
     */
    public Uni<List<SnapshotRow>> page(Selection s, String type, String afterId, int limit, boolean byMembers,
                                       long maxRowBytes) {
        return translated(pool.preparedQuery(pageQuery(s, byMembers, MEMBER_PAGE_ROWS, PAGE_ROWS))
                .execute(args(s, type, afterId, limit).addLong(maxRowBytes)).map(rows -> {
            List<SnapshotRow> out = new ArrayList<>(rows.size());
            for (Row r : rows) {
                out.add(SnapshotRow.from(r));
            }
            return out;
        }));
    }

    private static String pageQuery(Selection s, boolean byMembers, String memberQuery, String scanQuery) {
        if (byMembers && !s.smallCohort()) {
            throw new IllegalArgumentException("a member-driven page needs a small cohort");
        }
        return byMembers ? memberQuery : scanQuery;
    }

    /**
     * {@link #page} as one {@link PageBlob}: the same rows, joined by PostgreSQL in chunks of a 32nd of
     * {@code maxBytes} (at most {@link #MAX_CHUNK_BYTES}), but only as many as fit in {@code maxBytes}
     * (at least one), so even the first page of a type of large resources stays bounded, whatever the
     * row limit. A row over {@code hugeRowBytes} ends the page before it, or is the page alone, by
     * reference ({@link PageBlob#huge}), when it comes first. The chunks are copied together into
     * buffers of half of {@code maxBytes} (at most {@link PageBlob#MAX_JOINED_BYTES}).
     */
    public Uni<PageBlob> pageBlob(Selection s, String type, String afterId, int limit, long maxBytes, long hugeRowBytes,
                                  boolean byMembers) {
        int joinedBytes = (int) Math.max(1, Math.min(PageBlob.MAX_JOINED_BYTES, maxBytes / 2));
        return translated(pool.preparedQuery(pageQuery(s, byMembers, MEMBER_PAGE_BLOB, PAGE_BLOB))
                .execute(args(s, type, afterId, limit).addLong(maxBytes).addLong(hugeRowBytes)
                        .addLong(Math.max(1, Math.min(MAX_CHUNK_BYTES, maxBytes / 32))))
                .map(rows -> PageBlob.from(rows, joinedBytes)));
    }

    /**
     * The content of the resource visible at the snapshot, as UTF-8, in slices of {@code sliceBytes}
     * handed to {@code sink} one at a time: one statement, read through a cursor one slice per fetch, so
     * PostgreSQL converts the value once and the heap holds one slice, never the whole resource. (Slicing
     * with a statement per slice re-read the value each time: 28 s for a 50 MB resource, this 0.5 s.)
     * The slices' offsets are checked to follow each other. {@code OFFSET 0} keeps the subquery from
     * being flattened, which would convert the whole value again for every slice.
     */
    public Uni<Void> streamContent(Selection s, String type, String id, int sliceBytes, Function<Buffer, Uni<Void>> sink) {
        return translated(pool.withTransaction(c -> c.prepare("""
                SELECT o, substring(t.b FROM o FOR $5)
                FROM (SELECT %s AS b FROM resource_version v
                      WHERE v.tenant = $1 AND v.resource_type = $2 AND v.id = $3
                        AND v.valid_from <= $4 AND (v.valid_to IS NULL OR v.valid_to > $4) AND NOT v.deleted
                      OFFSET 0) t
                CROSS JOIN LATERAL generate_series(1, octet_length(t.b), $5) o
                """.formatted(utf8("v.content"))).chain(ps -> {
            var cursor = ps.cursor(Tuple.of(s.tenant(), type, id, Sql.ts(s.at()), sliceBytes));
            return readSlices(cursor, 1, type + "/" + id, sink)
                    .eventually(cursor::close)
                    .eventually(ps::close);
        })));
    }

    private static Uni<Void> readSlices(io.vertx.mutiny.sqlclient.Cursor cursor, long offset, String what,
                                        Function<Buffer, Uni<Void>> sink) {
        return cursor.read(1).chain(rows -> {
            if (rows.size() == 0) {
                if (offset == 1) {
                    throw new IllegalStateException(what + " is not visible at the snapshot any more");
                }
                return Uni.createFrom().voidItem();
            }
            Row r = rows.iterator().next();
            if (r.getLong(0) != offset) {
                throw new IllegalStateException(what + ": slice at byte " + r.getLong(0) + ", expected " + offset);
            }
            Buffer slice = r.getBuffer(1);
            return sink.apply(slice).chain(() -> cursor.hasMore()
                    ? readSlices(cursor, offset + slice.length(), what, sink) : Uni.createFrom().voidItem());
        });
    }

    /**
     * {@link #count} of each of {@code types}, in one statement for a selection that is not a small
     * cohort (a small cohort's counts go through its members, per type); a type without hits counts 0.
     */
    public Uni<Map<String, Long>> counts(Selection s, List<String> types) {
        Map<String, Long> out = new TreeMap<>();
        types.forEach(t -> out.put(t, 0L));
        if (types.isEmpty()) {
            return Uni.createFrom().item(out);
        }
        if (s.smallCohort()) {
            return Multi.createFrom().iterable(types)
                    .onItem().transformToUniAndConcatenate(t -> count(s, t).invoke(n -> out.put(t, n)))
                    .collect().last().replaceWith(out);
        }
        String[] typeArray = types.toArray(String[]::new);
        // both statements answer (resource_type, n) for the types that have any
        var statement = s.compartment()
                ? pool.preparedQuery(COUNT_BY_TYPE).execute(Tuple.from(Arrays.asList(s.tenant(), typeArray, "",
                        Sql.ts(s.at()), Sql.ts(s.since()), Sql.ts(s.until()), s.patients(), s.fullHistoryPatients(), true, 0)))
                : pool.preparedQuery(SYSTEM_COUNTS).execute(Tuple.of(s.tenant(), Sql.ts(s.at()), Sql.ts(s.since()),
                        Sql.ts(s.until()), typeArray));
        return translated(statement.map(rows -> {
            for (Row r : rows) {
                out.put(r.getString(0), r.getLong(1));
            }
            return out;
        }));
    }

    /** How many resources of a type {@link #page} would return in all. */
    public Uni<Long> count(Selection s, String type) {
        return translated(pool.preparedQuery(s.smallCohort() ? MEMBER_COUNT : COUNT).execute(args(s, type, null, 0))
                .map(rows -> rows.iterator().next().getLong("n")));
    }

    /**
     * Per-type counts of a system-level selection, in one pass over the resource heads instead of one
     * pass over every version per type: a head last written at or before {@code $2} (the snapshot) is the
     * version visible then, so it counts unless it is a tombstone or outside {@code [since, until]}; only
     * heads written after the snapshot need a probe for the version they had then. Exact, because the
     * snapshot lock (see {@link VersionWriter}) makes every write either committed before the snapshot
     * instant or stamped after it.
     */
    private static final String SYSTEM_COUNTS = """
            SELECT h.resource_type, count(*) AS n FROM resource h
            WHERE h.tenant = $1 AND h.resource_type = ANY($5::text[])
              AND CASE WHEN h.last_updated <= $2
                       THEN NOT h.deleted AND ($3::timestamptz IS NULL OR h.last_updated >= $3)
                            AND ($4::timestamptz IS NULL OR h.last_updated <= $4)
                       ELSE EXISTS (
                            SELECT 1 FROM resource_version v
                            WHERE v.tenant = h.tenant AND v.resource_type = h.resource_type AND v.id = h.id
                              AND v.valid_from <= $2 AND (v.valid_to IS NULL OR v.valid_to > $2) AND NOT v.deleted
                              AND ($3::timestamptz IS NULL OR v.valid_from >= $3)
                              AND ($4::timestamptz IS NULL OR v.valid_from <= $4))
                  END
            GROUP BY h.resource_type
            """;

    /**
     * Ids of resources of a type deleted in {@code (since, at]} (and at or before {@code until}) and
     * still deleted at {@code at}, by id. With a compartment selection, a deleted resource counts
     * when the version before its tombstone was in a selected patient's compartment (the patient
     * need not be alive any more); {@code since} is the caller's and must be non-null.
     */
    public Uni<List<String>> deletedPage(Selection s, String type, String afterId, int limit) {
        return translated(pool.preparedQuery(DELETED_PAGE).execute(args(s, type, afterId, limit)).map(rows -> {
            List<String> out = new ArrayList<>(rows.size());
            for (Row r : rows) {
                out.add(r.getString("id"));
            }
            return out;
        }));
    }

    /** Every resource type with at least one version in the tenant, sorted. */
    public Uni<List<String>> typesPresent(String tenant) {
        return distinctTypes(TYPES_OF_VERSIONS, tenant);
    }

    /** Every resource type with at least one patient compartment membership in the tenant, sorted. */
    public Uni<List<String>> compartmentTypes(String tenant) {
        return distinctTypes(TYPES_OF_COMPARTMENTS, tenant);
    }

    /**
     * The distinct resource types of a tenant in a table whose index starts (tenant, resource_type, ...):
     * a loose index scan, one index probe per type instead of a pass over the rows.
     */
    private static String distinctTypesOf(String table) {
        return """
                WITH RECURSIVE t(rt) AS (
                    SELECT min(resource_type) FROM %1$s WHERE tenant = $1
                  UNION ALL
                    SELECT (SELECT min(resource_type) FROM %1$s WHERE tenant = $1 AND resource_type > t.rt)
                    FROM t WHERE t.rt IS NOT NULL
                )
                SELECT rt FROM t WHERE rt IS NOT NULL ORDER BY rt
                """.formatted(table);
    }

    private static final String TYPES_OF_VERSIONS = distinctTypesOf("resource_version");
    private static final String TYPES_OF_COMPARTMENTS = distinctTypesOf("resource_compartment");

    private Uni<List<String>> distinctTypes(String sql, String tenant) {
        return translated(pool.preparedQuery(sql).execute(Tuple.of(tenant)).map(SnapshotQueries::strings));
    }

    /** Whether a resource exists (is visible) at {@code at}. */
    public Uni<Boolean> exists(String tenant, String type, String id, Instant at) {
        return translated(pool.preparedQuery("""
                SELECT 1 FROM resource_version v
                WHERE v.tenant = $1 AND v.resource_type = $2 AND v.id = $3
                  AND v.valid_from <= $4 AND (v.valid_to IS NULL OR v.valid_to > $4) AND NOT v.deleted
                """).execute(Tuple.of(tenant, type, id, Sql.ts(at))).map(rows -> rows.size() > 0));
    }

    /**
     * Patient ids that are members of a Group at {@code at}: members of the Group version visible at
     * {@code at} that are not inactive and whose period (when given) covers {@code at}; nested
     * Groups are followed the same way, each at most once per path (cycles end).
     */
    public Uni<Set<String>> groupPatients(String tenant, String groupId, Instant at) {
        return translated(pool.preparedQuery("""
                WITH RECURSIVE groups(group_id, path) AS (
                    SELECT $2::text COLLATE "C", ARRAY[$2::text COLLATE "C"]
                  UNION ALL
                    SELECT m.member_id, g.path || m.member_id
                    FROM groups g
                    JOIN resource_version v ON v.tenant = $1 AND v.resource_type = 'Group' AND v.id = g.group_id
                         AND v.valid_from <= $3 AND (v.valid_to IS NULL OR v.valid_to > $3) AND NOT v.deleted
                    JOIN group_member m ON m.tenant = $1 AND m.group_id = v.id AND m.version_id = v.version_id
                    WHERE m.member_type = 'Group' AND NOT m.inactive
                      AND (m.period_start IS NULL OR m.period_start <= $3)
                      AND (m.period_end IS NULL OR m.period_end >= $3)
                      AND NOT m.member_id = ANY(g.path)
                )
                SELECT DISTINCT m.member_id
                FROM groups g
                JOIN resource_version v ON v.tenant = $1 AND v.resource_type = 'Group' AND v.id = g.group_id
                     AND v.valid_from <= $3 AND (v.valid_to IS NULL OR v.valid_to > $3) AND NOT v.deleted
                JOIN group_member m ON m.tenant = $1 AND m.group_id = v.id AND m.version_id = v.version_id
                WHERE m.member_type = 'Patient' AND NOT m.inactive
                  AND (m.period_start IS NULL OR m.period_start <= $3)
                  AND (m.period_end IS NULL OR m.period_end >= $3)
                ORDER BY m.member_id
                """).execute(Tuple.of(tenant, groupId, Sql.ts(at)))
                .map(rows -> new LinkedHashSet<>(strings(rows))));
    }

    private static List<String> strings(io.vertx.mutiny.sqlclient.RowSet<Row> rows) {
        List<String> out = new ArrayList<>();
        for (Row r : rows) {
            out.add(r.getString(0));
        }
        return out;
    }
}
