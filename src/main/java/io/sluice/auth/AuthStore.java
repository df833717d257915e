package io.sluice.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** All authorization SQL: the assertion replay table and admin-registered clients (V40__auth.sql). */
@ApplicationScoped
public class AuthStore {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Pool pool;

    public AuthStore(Pool pool) {
        this.pool = pool;
    }

    /**
     * Records that a client assertion id was used. True when it was fresh; false when the same
     * (client, jti) was already used by an assertion that has not expired yet. Atomic across replicas.
     */
    public Uni<Boolean> recordAssertion(String clientId, String jti, Instant expiresAt) {
        return pool.preparedQuery("""
                        INSERT INTO auth_assertion_jti (client_id, jti, expires_at) VALUES ($1, $2, $3)
                        ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at
                            WHERE auth_assertion_jti.expires_at < now()
                        RETURNING 1
                        """)
                .execute(Tuple.of(clientId, jti, utc(expiresAt)))
                .map(rows -> rows.rowCount() == 1);
    }

    /** Deletes replay rows whose assertions have expired; returns how many. */
    public Uni<Integer> purgeExpiredAssertions() {
        return pool.query("DELETE FROM auth_assertion_jti WHERE expires_at < now()")
                .execute()
                .map(RowSet::rowCount);
    }

    /** Inserts an admin-registered client; false when the id is taken. */
    public Uni<Boolean> insertClient(RegisteredClient c) {
        return pool.preparedQuery("""
                        INSERT INTO auth_client (client_id, tenant, scopes, jwks, created_at)
                        VALUES ($1, $2, $3, $4, $5)
                        ON CONFLICT (client_id) DO NOTHING
                        """)
                .execute(Tuple.from(List.of(c.clientId(), c.tenant(), c.scopes().toString(),
                        c.jwks().toString(true), utc(c.createdAt()))))
                .map(rows -> rows.rowCount() == 1);
    }

    /** An admin-registered client by id. */
    public Uni<Optional<RegisteredClient>> findClient(String clientId) {
        return pool.preparedQuery("""
                        SELECT client_id, tenant, scopes, jwks, created_at FROM auth_client WHERE client_id = $1
                        """)
                .execute(Tuple.of(clientId))
                .map(rows -> {
                    var it = rows.iterator();
                    return it.hasNext() ? Optional.of(from(it.next())) : Optional.empty();
                });
    }

    /** Every admin-registered client, by id. */
    public Uni<List<RegisteredClient>> listClients() {
        return pool.query("""
                        SELECT client_id, tenant, scopes, jwks, created_at FROM auth_client ORDER BY client_id
                        """)
                .execute()
                .map(rows -> {
                    List<RegisteredClient> out = new ArrayList<>();
                    rows.forEach(r -> out.add(from(r)));
                    return out;
                });
    }

    /** Deletes an admin-registered client; false when there was none. */
    public Uni<Boolean> deleteClient(String clientId) {
        return pool.preparedQuery("DELETE FROM auth_client WHERE client_id = $1")
                .execute(Tuple.of(clientId))
                .map(rows -> rows.rowCount() == 1);
    }

    static RegisteredClient from(Row row) {
        try {
            var node = MAPPER.createObjectNode();
            node.put("client_id", row.getString("client_id"));
            node.put("tenant", row.getString("tenant"));
            node.put("scopes", row.getString("scopes"));
            node.set("jwks", MAPPER.readTree(row.getString("jwks")));
            return RegisteredClient.fromJson(node, "admin", row.getOffsetDateTime("created_at").toInstant());
        } catch (Exception e) {
            throw new IllegalStateException("stored client " + row.getString("client_id") + " is unreadable: " + e.getMessage(), e);
        }
    }

    private static OffsetDateTime utc(Instant i) {
        return i.atOffset(ZoneOffset.UTC);
    }
}
