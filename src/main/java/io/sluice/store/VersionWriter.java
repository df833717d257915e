package io.sluice.store;

import io.smallrye.mutiny.Uni;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgException;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a set of new versions inside the caller's transaction with a handful of multi-row
 * statements (unnest arrays), whatever the number of resources:
 * <ol>
 *   <li>the shared per-tenant snapshot lock (see docs/architecture.md), taken once per transaction by
 *       {@link #lockSnapshot};</li>
 *   <li>the {@code resource} head rows are upserted (creates/updates) or flagged deleted, which row-locks
 *       each resource and serializes concurrent writers of it; the version number and
 *       {@code clock_timestamp()} (taken after the lock, never earlier than the previous version's)
 *       come back from RETURNING;</li>
 *   <li>the previous versions are closed ({@code valid_to}), the new versions inserted with their
 *       content (server meta spliced in), then their compartment and group member rows.</li>
 * </ol>
 * A bulk ingest first takes the resources of a batch for new ones: one timestamp for all, then heads,
 * versions and compartment rows in one plain insert; a batch that meets a stored resource is written
 * again the way above.
 */
@ApplicationScoped
public class VersionWriter {

    private static final String LOCK = """
            SELECT pg_advisory_xact_lock_shared(hashtext('sluice-snapshot:' || $1))
            """;

    private static final String UPSERT_HEADS = """
            INSERT INTO resource AS r (tenant, resource_type, id, version_id, deleted, last_updated)
            SELECT $1, u.t, u.i, 1, false, clock_timestamp()
              FROM unnest($2::text[], $3::text[]) AS u(t, i)
             ORDER BY u.t COLLATE "C", u.i COLLATE "C"
            ON CONFLICT (tenant, resource_type, id) DO UPDATE
               SET version_id = r.version_id + 1, deleted = false,
                   last_updated = greatest(clock_timestamp(), r.last_updated)
            RETURNING r.resource_type, r.id, r.version_id, r.last_updated
            """;

    /** The version and timestamp of the resources a write creates (taken after the snapshot lock, as every timestamp). */
    private static final String CREATED = """
            SELECT 1::int8 AS version_id, clock_timestamp() AS last_updated
            """;

    /**
     * Resources taken for new ones, all at version 1 with one timestamp ($4), in one statement: their heads
     * (in key order, so concurrent creators of one resource wait for each other), versions and compartment
     * rows ($6: each version's Patient ids joined by commas, which ids never contain). A plain insert, which
     * PostgreSQL does with less work than the upsert's speculative insertion; a resource that exists fails it
     * with a unique violation ({@link #isExistingResource}).
     */
    private static final String INSERT_CREATES = """
            WITH versions AS (
                     INSERT INTO resource_version (tenant, resource_type, id, version_id, valid_from, deleted, content)
                     SELECT $1, u.t, u.i, 1, $4, false, convert_from(u.c, 'UTF8')
                       FROM unnest($2::text[], $3::text[], $5::bytea[]) AS u(t, i, c)),
                 compartments AS (
                     INSERT INTO resource_compartment (tenant, patient_id, resource_type, id, version_id)
                     SELECT $1, p, u.t, u.i, 1
                       FROM unnest($2::text[], $3::text[], $6::text[]) AS u(t, i, ps),
                            unnest(string_to_array(u.ps, ',')) AS p)
            INSERT INTO resource (tenant, resource_type, id, version_id, deleted, last_updated)
            SELECT $1, u.t, u.i, 1, false, $4
              FROM unnest($2::text[], $3::text[]) AS u(t, i)
             ORDER BY u.t COLLATE "C", u.i COLLATE "C"
            """;

    /** Locks the targets in key order first (like the upsert), so concurrent writers cannot deadlock. */
    private static final String DELETE_HEADS = """
            WITH target AS (
                SELECT r.resource_type, r.id
                  FROM resource AS r
                  JOIN unnest($2::text[], $3::text[]) AS u(t, i) ON r.resource_type = u.t AND r.id = u.i
                 WHERE r.tenant = $1 AND NOT r.deleted
                 ORDER BY r.resource_type, r.id
                   FOR UPDATE OF r)
            UPDATE resource AS r
               SET version_id = r.version_id + 1, deleted = true,
                   last_updated = greatest(clock_timestamp(), r.last_updated)
              FROM target
             WHERE r.tenant = $1 AND r.resource_type = target.resource_type AND r.id = target.id AND NOT r.deleted
            RETURNING r.resource_type, r.id, r.version_id, r.last_updated
            """;

    private static final String CLOSE_PREVIOUS = """
            UPDATE resource_version AS v
               SET valid_to = u.ts
              FROM unnest($2::text[], $3::text[], $4::int8[], $5::timestamptz[]) AS u(t, i, vid, ts)
             WHERE v.tenant = $1 AND v.resource_type = u.t AND v.id = u.i AND v.version_id = u.vid - 1
               AND u.vid > 1
            """;

    private static final String INSERT_VERSIONS = """
            INSERT INTO resource_version (tenant, resource_type, id, version_id, valid_from, deleted, content)
            SELECT $1, u.t, u.i, u.vid, u.ts, u.del, convert_from(u.c, 'UTF8')
              FROM unnest($2::text[], $3::text[], $4::int8[], $5::timestamptz[], $6::bool[], $7::bytea[])
                   AS u(t, i, vid, ts, del, c)
            """;

    private static final String INSERT_COMPARTMENTS = """
            INSERT INTO resource_compartment (tenant, patient_id, resource_type, id, version_id)
            SELECT $1, u.p, u.t, u.i, u.vid
              FROM unnest($2::text[], $3::text[], $4::text[], $5::int8[]) AS u(p, t, i, vid)
            """;

    private static final String INSERT_MEMBERS = """
            INSERT INTO group_member (tenant, group_id, version_id, member_type, member_id,
                                      period_start, period_end, inactive)
            SELECT $1, u.g, u.vid, u.mt, u.mi, u.ps, u.pe, u.ina
              FROM unnest($2::text[], $3::int8[], $4::text[], $5::text[], $6::timestamptz[],
                          $7::timestamptz[], $8::bool[]) AS u(g, vid, mt, mi, ps, pe, ina)
            """;

    /** Version number and timestamp assigned to a resource (to all of a batch's creates), with the forms they are written in. */
    private record Head(long versionId, Instant lastUpdated, OffsetDateTime validFrom, String lastUpdatedText) {
        static Head from(Row row) {
            Instant at = row.getOffsetDateTime("last_updated").toInstant();
            return new Head(row.getLong("version_id"), at, at.atOffset(ZoneOffset.UTC), DateTimeFormatter.ISO_INSTANT.format(at));
        }
    }

    /**
     * True when a write made with {@code assumeNew} failed because one of its resources exists: its head,
     * its version 1 or that version's compartment row is there already (which of them PostgreSQL meets
     * first is not fixed).
     */
    static boolean isExistingResource(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof PgException pg && "23505".equals(pg.getSqlState()) && CREATED_KEYS.contains(pg.getConstraint())) {
                return true;
            }
        }
        return false;
    }

    private static final Set<String> CREATED_KEYS = Set.of("resource_pkey", "resource_version_pkey", "resource_compartment_pkey");

    /** Takes the shared snapshot lock of a tenant; must be the first statement of every write transaction. */
    public Uni<Void> lockSnapshot(SqlConnection c, String tenant) {
        return c.preparedQuery(LOCK).execute(Tuple.of(tenant)).replaceWithVoid();
    }

    /** One Patient compartment membership of a new version. */
    private record CompartmentRow(String patientId, String resourceType, String id, long versionId) {
    }

    /**
     * Writes the versions (after {@link #lockSnapshot} in the same transaction). Each resource may
     * occur at most once. Returns the stored versions in input order; null for a delete of a
     * resource that does not exist or is already deleted (nothing is written for it). Without
     * {@code withContent} the returned versions carry no content (a bulk ingest only counts them). With
     * {@code assumeNew}, writes without deletes are taken for creates: when one of the resources exists,
     * the write fails ({@link #isExistingResource}) and must be made again without it.
     */
    Uni<List<StoredResource>> write(SqlConnection c, String tenant, List<PreparedWrite> writes, boolean withContent,
                                    boolean assumeNew) {
        List<PreparedWrite> upserts = new ArrayList<>();
        List<PreparedWrite> deletes = new ArrayList<>();
        for (PreparedWrite w : writes) {
            (w.isDelete() ? deletes : upserts).add(w);
        }
        if (assumeNew && deletes.isEmpty() && !upserts.isEmpty()) {
            return c.preparedQuery(CREATED).execute().map(rows -> Head.from(rows.iterator().next()))
                    .chain(created -> writeCreates(c, tenant, upserts, created, withContent));
        }
        Map<String, Head> heads = new HashMap<>(writes.size() * 2);
        return heads(c, UPSERT_HEADS, tenant, upserts, heads)
                .chain(() -> heads(c, DELETE_HEADS, tenant, deletes, heads))
                .chain(() -> writeVersions(c, tenant, writes, heads, withContent));
    }

    /** Writes resources taken for new ones, all with {@code head}, in one statement (INSERT_CREATES). */
    private Uni<List<StoredResource>> writeCreates(SqlConnection c, String tenant, List<PreparedWrite> creates, Head head,
                                                   boolean withContent) {
        int n = creates.size();
        String[] types = new String[n];
        String[] ids = new String[n];
        Buffer[] contents = new Buffer[n];
        String[] patients = new String[n];
        List<Object[]> members = new ArrayList<>();
        List<StoredResource> result = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            PreparedWrite w = creates.get(k);
            byte[] content = ResourcePreparer.content(w, head.versionId(), head.lastUpdatedText());
            types[k] = w.resourceType();
            ids[k] = w.id();
            contents[k] = Buffer.buffer(Unpooled.wrappedBuffer(content));
            patients[k] = switch (w.patients().size()) {
                case 0 -> null;
                case 1 -> w.patients().iterator().next();
                default -> String.join(",", w.patients());
            };
            result.add(stored(w, head, content, withContent, members));
        }
        return c.preparedQuery(INSERT_CREATES)
                .execute(Tuple.tuple().addValue(tenant).addValue(types).addValue(ids).addValue(head.validFrom())
                        .addValue(contents).addValue(patients))
                .chain(() -> insertMembers(c, tenant, members))
                .replaceWith(result);
    }

    /** The version {@code w} became with {@code head}; its Group members, if any, join {@code members}. */
    private static StoredResource stored(PreparedWrite w, Head head, byte[] content, boolean withContent,
                                         List<Object[]> members) {
        for (GroupMember m : w.members()) {
            members.add(new Object[]{w.id(), head.versionId(), m});
        }
        return new StoredResource(w.resourceType(), w.id(), head.versionId(), head.lastUpdated(), w.isDelete(),
                content == null || !withContent ? null : new String(content, StandardCharsets.UTF_8));
    }

    private Uni<Void> heads(SqlConnection c, String sql, String tenant, List<PreparedWrite> ws, Map<String, Head> into) {
        if (ws.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        String[] types = new String[ws.size()];
        String[] ids = new String[ws.size()];
        for (int i = 0; i < ws.size(); i++) {
            types[i] = ws.get(i).resourceType();
            ids[i] = ws.get(i).id();
        }
        return c.preparedQuery(sql).execute(Tuple.of(tenant, types, ids)).invoke(rows -> {
            for (Row row : rows) {
                into.put(row.getString("resource_type") + "/" + row.getString("id"), Head.from(row));
            }
        }).replaceWithVoid();
    }

    private Uni<List<StoredResource>> writeVersions(SqlConnection c, String tenant, List<PreparedWrite> writes,
                                                    Map<String, Head> heads, boolean withContent) {
        List<StoredResource> result = new ArrayList<>(writes.size());
        int n = heads.size();
        String[] types = new String[n];
        String[] ids = new String[n];
        Long[] vids = new Long[n];
        OffsetDateTime[] ts = new OffsetDateTime[n];
        Boolean[] deleted = new Boolean[n];
        Buffer[] contents = new Buffer[n];
        List<CompartmentRow> compartments = new ArrayList<>();
        List<Object[]> members = new ArrayList<>();
        int k = 0;
        for (PreparedWrite w : writes) {
            Head h = heads.get(w.key());
            if (h == null) {
                if (!w.isDelete()) {
                    throw new IllegalStateException("no head row returned for " + w.key());
                }
                result.add(null);
                continue;
            }
            // stored JSON goes as its UTF-8 bytes, read back as text by INSERT_VERSIONS: no per-character encoding here
            byte[] content = w.isDelete() ? null
                    : ResourcePreparer.content(w, h.versionId(), h.lastUpdatedText());
            types[k] = w.resourceType();
            ids[k] = w.id();
            vids[k] = h.versionId();
            ts[k] = h.validFrom();
            deleted[k] = w.isDelete();
            contents[k] = content == null ? null : Buffer.buffer(Unpooled.wrappedBuffer(content));
            k++;
            for (String p : w.patients()) {
                compartments.add(new CompartmentRow(p, w.resourceType(), w.id(), h.versionId()));
            }
            result.add(stored(w, h, content, withContent, members));
        }
        if (k == 0) {
            return Uni.createFrom().item(result);
        }
        return closePrevious(c, tenant, types, ids, vids, ts)
                .chain(() -> c.preparedQuery(INSERT_VERSIONS)
                        .execute(Tuple.tuple().addValue(tenant).addValue(types).addValue(ids).addValue(vids)
                                .addValue(ts).addValue(deleted).addValue(contents)))
                .chain(() -> insertCompartments(c, tenant, compartments))
                .chain(() -> insertMembers(c, tenant, members))
                .replaceWith(result);
    }

    /** Closes the predecessors of the versions that have one (version > 1); new resources need no statement. */
    private Uni<Void> closePrevious(SqlConnection c, String tenant, String[] types, String[] ids, Long[] vids,
                                    OffsetDateTime[] ts) {
        int m = 0;
        for (Long v : vids) {
            if (v > 1) {
                m++;
            }
        }
        if (m == 0) {
            return Uni.createFrom().voidItem();
        }
        String[] t = new String[m];
        String[] i = new String[m];
        Long[] v = new Long[m];
        OffsetDateTime[] at = new OffsetDateTime[m];
        int k = 0;
        for (int j = 0; j < vids.length; j++) {
            if (vids[j] > 1) {
                t[k] = types[j];
                i[k] = ids[j];
                v[k] = vids[j];
                at[k] = ts[j];
                k++;
            }
        }
        return c.preparedQuery(CLOSE_PREVIOUS).execute(Tuple.of(tenant, t, i, v, at)).replaceWithVoid();
    }

    private Uni<Void> insertCompartments(SqlConnection c, String tenant, List<CompartmentRow> rows) {
        if (rows.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        int n = rows.size();
        String[] p = new String[n];
        String[] t = new String[n];
        String[] i = new String[n];
        Long[] v = new Long[n];
        for (int j = 0; j < n; j++) {
            CompartmentRow r = rows.get(j);
            p[j] = r.patientId();
            t[j] = r.resourceType();
            i[j] = r.id();
            v[j] = r.versionId();
        }
        return c.preparedQuery(INSERT_COMPARTMENTS).execute(Tuple.of(tenant, p, t, i, v)).replaceWithVoid();
    }

    private Uni<Void> insertMembers(SqlConnection c, String tenant, List<Object[]> rows) {
        if (rows.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        int n = rows.size();
        String[] g = new String[n];
        Long[] v = new Long[n];
        String[] mt = new String[n];
        String[] mi = new String[n];
        OffsetDateTime[] ps = new OffsetDateTime[n];
        OffsetDateTime[] pe = new OffsetDateTime[n];
        Boolean[] ina = new Boolean[n];
        for (int j = 0; j < n; j++) {
            Object[] r = rows.get(j);
            GroupMember m = (GroupMember) r[2];
            g[j] = (String) r[0];
            v[j] = (Long) r[1];
            mt[j] = m.memberType();
            mi[j] = m.memberId();
            ps[j] = m.periodStart() == null ? null : m.periodStart().atOffset(ZoneOffset.UTC);
            pe[j] = m.periodEnd() == null ? null : m.periodEnd().atOffset(ZoneOffset.UTC);
            ina[j] = m.inactive();
        }
        return c.preparedQuery(INSERT_MEMBERS)
                .execute(Tuple.tuple().addValue(tenant).addValue(g).addValue(v).addValue(mt).addValue(mi)
                        .addValue(ps).addValue(pe).addValue(ina))
                .replaceWithVoid();
    }
}
