package io.sluice.store;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;

/** Answers whether a Group exists (current, not deleted) in a tenant, for Group-level kick-offs. */
@ApplicationScoped
public class GroupLookup {

    private static final String CURRENT_GROUP = """
            SELECT 1 FROM resource
            WHERE tenant = $1 AND resource_type = 'Group' AND id = $2 AND NOT deleted
            """;

    private final Pool pool;

    public GroupLookup(Pool pool) {
        this.pool = pool;
    }

    /** True when {@code Group/groupId} is current in {@code tenant}. */
    public Uni<Boolean> exists(String tenant, String groupId) {
        return pool.preparedQuery(CURRENT_GROUP).execute(Tuple.of(tenant, groupId))
                .map(rows -> rows.size() > 0);
    }
}
