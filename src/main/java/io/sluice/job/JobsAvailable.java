package io.sluice.job;

/** CDI event fired after a job was created in this instance: the local worker claims at once. */
public record JobsAvailable(java.util.UUID jobId) {
}
