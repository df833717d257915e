package io.sluice.job;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** State rules: which statuses are final, and the wire names the SQL fences on. */
class JobStatusRulesTest {

    @Test
    void finalStatesNeverMoveAgain() {
        assertFalse(JobStatus.ACCEPTED.isFinal());
        assertFalse(JobStatus.IN_PROGRESS.isFinal());
        assertTrue(JobStatus.COMPLETE.isFinal());
        assertTrue(JobStatus.ERROR.isFinal());
        assertTrue(JobStatus.CANCELLED.isFinal());
    }

    @Test
    void wireNamesRoundTrip() {
        for (JobStatus s : JobStatus.values()) {
            assertEquals(s, JobStatus.fromWire(s.wire()));
        }
        assertEquals("in-progress", JobStatus.IN_PROGRESS.wire());
        assertThrows(IllegalArgumentException.class, () -> JobStatus.fromWire("running"));
    }
}
