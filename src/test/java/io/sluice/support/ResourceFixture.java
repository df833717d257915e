package io.sluice.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes resource rows (schema V1) directly with SQL, following the snapshot contract of
 * docs/architecture.md: each write transaction takes the tenant's advisory lock shared, then uses
 * clock_timestamp() as valid_from and meta.lastUpdated. Keeps resource_version, resource,
 * resource_compartment and group_member consistent.
 */
public final class ResourceFixture implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Connection c;
    private final String tenant;

    public ResourceFixture(String tenant) throws SQLException {
        this.c = PostgresTestResource.jdbc();
        this.c.setAutoCommit(false);
        this.tenant = tenant;
    }

    /** A Group member. */
    public record Member(String type, String id, Instant periodStart, Instant periodEnd, boolean inactive) {
        public static Member patient(String id) {
            return new Member("Patient", id, null, null, false);
        }

        public static Member group(String id) {
            return new Member("Group", id, null, null, false);
        }
    }

    /** What a write produced. */
    public record Written(String type, String id, long versionId, Instant lastUpdated, String content) {
    }

    /** Creates or updates a resource in its own transaction; {@code body} holds the fields besides id/meta. */
    public Written put(String type, String id, ObjectNode body, List<String> compartmentPatients) throws SQLException {
        try {
            Written w = write(type, id, body, compartmentPatients, null);
            c.commit();
            return w;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        }
    }

    /** Writes many resources in one transaction (each its own clock_timestamp). */
    public List<Written> putAll(List<Spec> specs) throws SQLException {
        try {
            lock();
            List<Written> out = new ArrayList<>();
            for (Spec s : specs) {
                out.add(writeLocked(s.type(), s.id(), s.body(), s.patients(), null));
            }
            c.commit();
            return out;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        }
    }

    /** One resource to write. */
    public record Spec(String type, String id, ObjectNode body, List<String> patients) {
    }

    /** Writes a Group version with the given members. */
    public Written putGroup(String id, List<Member> members) throws SQLException {
        try {
            ObjectNode body = JSON.createObjectNode();
            body.put("type", "person").put("actual", true);
            var arr = body.putArray("member");
            for (Member m : members) {
                ObjectNode e = arr.addObject();
                e.putObject("entity").put("reference", m.type() + "/" + m.id());
                if (m.inactive()) {
                    e.put("inactive", true);
                }
            }
            Written w = write("Group", id, body, List.of(), members);
            c.commit();
            return w;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        }
    }

    /** Deletes a resource (tombstone version) in its own transaction. */
    public Written delete(String type, String id) throws SQLException {
        try {
            lock();
            Instant ts = now();
            long version = nextVersion(type, id);
            closePrevious(type, id, ts);
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO resource_version (tenant, resource_type, id, version_id, valid_from, deleted, content)
                    VALUES (?, ?, ?, ?, ?, true, NULL)""")) {
                ps.setString(1, tenant);
                ps.setString(2, type);
                ps.setString(3, id);
                ps.setLong(4, version);
                ps.setObject(5, OffsetDateTime.ofInstant(ts, ZoneOffset.UTC));
                ps.executeUpdate();
            }
            upsertCurrent(type, id, version, true, ts);
            c.commit();
            return new Written(type, id, version, ts, null);
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        }
    }

    private Written write(String type, String id, ObjectNode body, List<String> patients, List<Member> members)
            throws SQLException {
        lock();
        return writeLocked(type, id, body, patients, members);
    }

    private Written writeLocked(String type, String id, ObjectNode body, List<String> patients, List<Member> members)
            throws SQLException {
        Instant ts = now();
        long version = nextVersion(type, id);
        closePrevious(type, id, ts);
        ObjectNode r = JSON.createObjectNode();
        r.put("resourceType", type);
        r.put("id", id);
        r.putObject("meta").put("versionId", Long.toString(version))
                .put("lastUpdated", DateTimeFormatter.ISO_INSTANT.format(ts));
        if (body != null) {
            r.setAll(body);
        }
        String content = r.toString();
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO resource_version (tenant, resource_type, id, version_id, valid_from, deleted, content)
                VALUES (?, ?, ?, ?, ?, false, ?)""")) {
            ps.setString(1, tenant);
            ps.setString(2, type);
            ps.setString(3, id);
            ps.setLong(4, version);
            ps.setObject(5, OffsetDateTime.ofInstant(ts, ZoneOffset.UTC));
            ps.setString(6, content);
            ps.executeUpdate();
        }
        List<String> comp = new ArrayList<>(patients == null ? List.of() : patients);
        if (type.equals("Patient") && !comp.contains(id)) {
            comp.add(id);
        }
        for (String p : comp) {
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO resource_compartment (tenant, patient_id, resource_type, id, version_id)
                    VALUES (?, ?, ?, ?, ?)""")) {
                ps.setString(1, tenant);
                ps.setString(2, p);
                ps.setString(3, type);
                ps.setString(4, id);
                ps.setLong(5, version);
                ps.executeUpdate();
            }
        }
        if (members != null) {
            for (Member m : members) {
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO group_member (tenant, group_id, version_id, member_type, member_id, period_start,
                                                  period_end, inactive)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)""")) {
                    ps.setString(1, tenant);
                    ps.setString(2, id);
                    ps.setLong(3, version);
                    ps.setString(4, m.type());
                    ps.setString(5, m.id());
                    ps.setObject(6, m.periodStart() == null ? null : OffsetDateTime.ofInstant(m.periodStart(), ZoneOffset.UTC));
                    ps.setObject(7, m.periodEnd() == null ? null : OffsetDateTime.ofInstant(m.periodEnd(), ZoneOffset.UTC));
                    ps.setBoolean(8, m.inactive());
                    ps.executeUpdate();
                }
            }
        }
        upsertCurrent(type, id, version, false, ts);
        return new Written(type, id, version, ts, content);
    }

    private void lock() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock_shared(hashtext('sluice-snapshot:' || ?))")) {
            ps.setString(1, tenant);
            ps.execute();
        }
    }

    private Instant now() throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT clock_timestamp()"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getObject(1, OffsetDateTime.class).toInstant();
        }
    }

    private long nextVersion(String type, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT coalesce(max(version_id), 0) FROM resource_version WHERE tenant = ? AND resource_type = ? AND id = ?")) {
            ps.setString(1, tenant);
            ps.setString(2, type);
            ps.setString(3, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) + 1;
            }
        }
    }

    private void closePrevious(String type, String id, Instant ts) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE resource_version SET valid_to = ?
                WHERE tenant = ? AND resource_type = ? AND id = ? AND valid_to IS NULL""")) {
            ps.setObject(1, OffsetDateTime.ofInstant(ts, ZoneOffset.UTC));
            ps.setString(2, tenant);
            ps.setString(3, type);
            ps.setString(4, id);
            ps.executeUpdate();
        }
    }

    private void upsertCurrent(String type, String id, long version, boolean deleted, Instant ts) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO resource (tenant, resource_type, id, version_id, deleted, last_updated)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (tenant, resource_type, id)
                DO UPDATE SET version_id = EXCLUDED.version_id, deleted = EXCLUDED.deleted, last_updated = EXCLUDED.last_updated""")) {
            ps.setString(1, tenant);
            ps.setString(2, type);
            ps.setString(3, id);
            ps.setLong(4, version);
            ps.setBoolean(5, deleted);
            ps.setObject(6, OffsetDateTime.ofInstant(ts, ZoneOffset.UTC));
            ps.executeUpdate();
        }
    }

    /** A body with the given string fields. */
    public static ObjectNode body(String... kv) {
        ObjectNode n = JSON.createObjectNode();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            n.put(kv[i], kv[i + 1]);
        }
        return n;
    }

    /** A body with subject (or patient) reference. */
    public static ObjectNode subject(String patientId, String... kv) {
        ObjectNode n = body(kv);
        n.putObject("subject").put("reference", "Patient/" + patientId);
        return n;
    }

    @Override
    public void close() throws SQLException {
        c.close();
    }
}
