package io.sluice.export;

import io.smallrye.common.vertx.VertxContext;
import io.sluice.job.ClaimedJob;
import io.vertx.mutiny.core.Vertx;
import org.jboss.logging.MDC;

/**
 * Puts the job id, tenant and worker id into the logging MDC (keys {@value #JOB_ID}, {@value #TENANT},
 * {@value #WORKER_ID}) of everything a job run logs, so JSON log lines can be filtered per job.
 *
 * <p>A run is reactive and hops between callbacks, so a thread-local MDC would leak between jobs. Each
 * run therefore gets its own duplicated Vert.x context ({@link #runOnJobContext}); Quarkus keeps the
 * MDC of a duplicated context in that context's local data ({@code io.quarkus.vertx.core.runtime.VertxMDC}),
 * and database, timer and file callbacks resume on the context that started them. {@link #log} also
 * sets the keys around one log call, for lines written from another thread.
 */
public final class JobMdc {

    /** MDC key of the export job id. */
    public static final String JOB_ID = "jobId";
    /** MDC key of the job's tenant. */
    public static final String TENANT = "tenant";
    /** MDC key of the worker (instance) running the job. */
    public static final String WORKER_ID = "workerId";

    private JobMdc() {
    }

    /** Runs {@code work} on a new duplicated context whose MDC names the job. */
    static void runOnJobContext(Vertx vertx, ClaimedJob job, String workerId, Runnable work) {
        io.vertx.core.Context ctx = VertxContext.createNewDuplicatedContext(vertx.getDelegate().getOrCreateContext());
        ctx.runOnContext(v -> {
            put(job, workerId);
            work.run();
        });
    }

    private static void put(ClaimedJob job, String workerId) {
        MDC.put(JOB_ID, job.lease().jobId().toString());
        MDC.put(TENANT, job.tenant());
        MDC.put(WORKER_ID, workerId);
    }

    /** Runs one logging call with the job's MDC keys set (restored afterwards when they were not). */
    static void log(ClaimedJob job, String workerId, Runnable logging) {
        String id = job.lease().jobId().toString();
        if (id.equals(MDC.get(JOB_ID))) {
            logging.run();
            return;
        }
        Object job0 = MDC.get(JOB_ID);
        Object tenant0 = MDC.get(TENANT);
        Object worker0 = MDC.get(WORKER_ID);
        put(job, workerId);
        try {
            logging.run();
        } finally {
            restore(JOB_ID, job0);
            restore(TENANT, tenant0);
            restore(WORKER_ID, worker0);
        }
    }

    private static void restore(String key, Object previous) {
        if (previous == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, previous);
        }
    }
}
