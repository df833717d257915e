package io.sluice.export;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.sluice.config.WorkerConfig;
import io.sluice.job.JobStore;
import io.sluice.job.JobsAvailable;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.pgclient.pubsub.PgSubscriber;
import io.vertx.pgclient.PgConnectOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/**
 * Runs this instance's {@link ExportWorker} when {@code sluice.worker.enabled} is true: a scheduled
 * safety-net tick, immediate wake-ups on local creates and on PostgreSQL NOTIFY from other replicas
 * (channel {@value JobStore#CHANNEL}), prompt stops on cancel NOTIFYs (channel
 * {@value JobStore#CANCEL_CHANNEL}), and a graceful stop on shutdown.
 */
@ApplicationScoped
public class WorkerRuntime {

    private static final Logger LOG = Logger.getLogger(WorkerRuntime.class);

    private final ExportEngine engine;
    private final WorkerConfig config;
    private final Vertx vertx;
    private final String dbUrl;
    private final String dbUser;
    private final Optional<String> dbPassword;
    private volatile ExportWorker worker;
    private PgSubscriber subscriber;

    public WorkerRuntime(ExportEngine engine, WorkerConfig config, Vertx vertx,
                         @ConfigProperty(name = "quarkus.datasource.reactive.url") String dbUrl,
                         @ConfigProperty(name = "quarkus.datasource.username") String dbUser,
                         @ConfigProperty(name = "quarkus.datasource.password") Optional<String> dbPassword) {
        this.engine = engine;
        this.config = config;
        this.vertx = vertx;
        this.dbUrl = dbUrl;
        this.dbUser = dbUser;
        this.dbPassword = dbPassword;
    }

    void onStart(@Observes StartupEvent ev) {
        if (!config.enabled()) {
            LOG.info("export worker disabled (sluice.worker.enabled=false)");
            return;
        }
        String id = config.id().orElseGet(() -> hostName() + "-" + UUID.randomUUID());
        worker = engine.newWorker(id, engine.settings());
        LOG.infof("export worker %s started (%d slots)", id, worker.settings().slots());
        listen();
        worker.wake();
    }

    private void listen() {
        PgConnectOptions options = PgConnectOptions.fromUri(dbUrl).setUser(dbUser);
        dbPassword.filter(p -> !p.isEmpty()).ifPresent(options::setPassword);
        subscriber = PgSubscriber.subscriber(vertx, options);
        subscriber.reconnectPolicy(retries -> 500L);
        subscriber.channel(JobStore.CHANNEL).handler(payload -> wake());
        subscriber.channel(JobStore.CANCEL_CHANNEL).handler(payload -> {
            ExportWorker w = worker;
            if (w != null) {
                try {
                    w.cancelled(UUID.fromString(payload));
                } catch (IllegalArgumentException ignored) {
                    // not a job id
                }
            }
        });
        subscriber.connect().subscribe().with(v -> LOG.debug("listening for export job notifications"),
                e -> LOG.warnf("LISTEN for export jobs failed (the tick still claims): %s", e.getMessage()));
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "sluice";
        }
    }

    /** Local create: claim now. */
    void onCreated(@Observes JobsAvailable ev) {
        wake();
    }

    private void wake() {
        ExportWorker w = worker;
        if (w != null) {
            w.wake();
        }
    }

    /** The running worker, if enabled. */
    public Optional<ExportWorker> worker() {
        return Optional.ofNullable(worker);
    }

    @Scheduled(every = "${sluice.worker.tick:5s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            delayed = "1s")
    Uni<Void> tick() {
        ExportWorker w = worker;
        return w == null ? Uni.createFrom().voidItem() : w.runOnce().replaceWithVoid()
                .onFailure().invoke(e -> LOG.warnf("claim tick failed: %s", e.getMessage()))
                .onFailure().recoverWithNull();
    }

    void onStop(@Observes ShutdownEvent ev) {
        ExportWorker w = worker;
        if (w != null) {
            w.shutdown().await().atMost(Duration.ofSeconds(15));
        }
        if (subscriber != null) {
            subscriber.close().subscribe().with(v -> {
            }, e -> {
            });
        }
    }
}
