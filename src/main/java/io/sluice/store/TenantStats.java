package io.sluice.store;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

/** Small read-only questions about a tenant's data. */
@ApplicationScoped
public class TenantStats {

    private static final String HAS_ANY = "SELECT EXISTS (SELECT 1 FROM resource WHERE tenant = $1) AS any";

    private final Pool pool;

    public TenantStats(Pool pool) {
        this.pool = pool;
    }

    /** True when the tenant has never stored a resource. */
    public Uni<Boolean> isEmpty(String tenant) {
        return pool.preparedQuery(HAS_ANY).execute(Tuple.of(tenant))
                .map(rows -> !rows.iterator().next().getBoolean("any"));
    }
}
