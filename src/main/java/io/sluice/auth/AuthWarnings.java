package io.sluice.auth;

import io.quarkus.runtime.StartupEvent;
import io.sluice.config.AuthConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** Warns at startup and then every {@code sluice.auth.unauthenticated-warning-interval} while auth is off. */
@ApplicationScoped
public class AuthWarnings {

    private static final Logger LOG = Logger.getLogger(AuthWarnings.class);
    static final String MESSAGE = "Sluice runs WITHOUT authorization (sluice.auth.enabled=false): every FHIR endpoint, "
            + "including $export and its files, is open to anyone who can reach it";

    private final AuthConfig config;
    private final AtomicLong lastWarningNanos = new AtomicLong();

    public AuthWarnings(AuthConfig config) {
        this.config = config;
    }

    void onStart(@Observes StartupEvent ev) {
        if (!config.enabled()) {
            LOG.warn(MESSAGE);
            lastWarningNanos.set(System.nanoTime());
        } else if (config.clientsFile().filter(f -> !f.isBlank()).isEmpty()
                && config.adminToken().filter(t -> !t.isBlank()).isEmpty()
                && config.external().issuer().filter(i -> !i.isBlank()).isEmpty()) {
            LOG.warn("Authorization is on, but neither sluice.auth.clients-file, sluice.auth.admin-token nor "
                    + "sluice.auth.external.issuer is set: only clients already stored in the database can get tokens");
        }
    }

    /** Checked every minute; warns when the interval has passed since the last warning. */
    @io.quarkus.scheduler.Scheduled(every = "PT1M", delayed = "PT1M")
    void periodic() {
        if (config.enabled()) {
            return;
        }
        Duration interval = config.unauthenticatedWarningInterval();
        long now = System.nanoTime();
        long last = lastWarningNanos.get();
        if (now - last >= interval.toNanos() && lastWarningNanos.compareAndSet(last, now)) {
            LOG.warn(MESSAGE);
        }
    }
}
