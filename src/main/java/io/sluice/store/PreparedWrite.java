package io.sluice.store;

import java.util.List;
import java.util.Set;

/**
 * A validated write waiting for its version number and timestamp.
 *
 * @param resourceType type
 * @param id           logical id
 * @param tail         the minified resource JSON after {@code "meta":{} as UTF-8 (see {@link ResourcePreparer}); null for a delete
 * @param patients     Patient compartments the new version belongs to
 * @param members      Group members (Group only)
 */
record PreparedWrite(String resourceType, String id, byte[] tail, Set<String> patients, List<GroupMember> members) {

    static PreparedWrite delete(String resourceType, String id) {
        return new PreparedWrite(resourceType, id, null, Set.of(), List.of());
    }

    boolean isDelete() {
        return tail == null;
    }

    String key() {
        return resourceType + "/" + id;
    }

    /** Rough size in bytes, for batching. */
    long weight() {
        return 64 + (tail == null ? 0 : tail.length) + 48L * (patients.size() + members.size());
    }
}
