package io.sluice.job;

/** Export job states; the SQL CHECK on export_job.status lists the same wire names. */
public enum JobStatus {
    ACCEPTED("accepted"),
    IN_PROGRESS("in-progress"),
    COMPLETE("complete"),
    ERROR("error"),
    CANCELLED("cancelled");

    private final String wire;

    JobStatus(String wire) {
        this.wire = wire;
    }

    /** The value stored in the database. */
    public String wire() {
        return wire;
    }

    /** True for complete, error and cancelled: such a job never changes status again. */
    public boolean isFinal() {
        return this == COMPLETE || this == ERROR || this == CANCELLED;
    }

    public static JobStatus fromWire(String s) {
        for (JobStatus st : values()) {
            if (st.wire.equals(s)) {
                return st;
            }
        }
        throw new IllegalArgumentException("unknown job status " + s);
    }
}
