package io.sluice.store;

import java.time.Instant;

/** One Group.member entry as stored in group_member. */
record GroupMember(String memberType, String memberId, Instant periodStart, Instant periodEnd, boolean inactive) {
}
