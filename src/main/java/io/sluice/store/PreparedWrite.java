package io.sluice.store;

import java.util.List;
import java.util.Set;

/**
 * A validated write waiting for its version number and timestamp.
 *
 * @param resourceType type
 * @param id           logical id
 * @param source       minified UTF-8 JSON text whose bytes from {@code tailFrom} on end the stored content
 *                     (see {@link ResourcePreparer#content}); null for a delete
 * @param tailFrom     where that tail starts in {@code source}
 * @param afterHead    true when the tail follows {@code {"resourceType":T,"id":I} in the source (the stored
 *                     content closes the server meta before it); false when it follows {@code "meta":{}
 * @param patients     Patient compartments the new version belongs to
 * @param members      Group members (Group only)
 */
record PreparedWrite(String resourceType, String id, byte[] source, int tailFrom, boolean afterHead,
                     Set<String> patients, List<GroupMember> members) {

    static PreparedWrite delete(String resourceType, String id) {
        return new PreparedWrite(resourceType, id, null, 0, false, Set.of(), List.of());
    }

    boolean isDelete() {
        return source == null;
    }

    String key() {
        return resourceType + "/" + id;
    }

    /** Rough size in bytes, for batching. */
    long weight() {
        return 64 + (source == null ? 0 : source.length - tailFrom) + 48L * (patients.size() + members.size());
    }
}
