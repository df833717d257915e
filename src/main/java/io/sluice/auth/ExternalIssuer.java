package io.sluice.auth;

import com.nimbusds.jose.jwk.JWKSet;
import io.sluice.config.AuthConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Keys of an external OAuth/OIDC issuer whose tokens are accepted ({@code sluice.auth.external.*}).
 * A jwks-file is read at startup; a jwks-url is fetched at startup and then refreshed in the background
 * (never on a request thread: a token with an unknown kid is refused and triggers an early refresh).
 */
@ApplicationScoped
public class ExternalIssuer {

    private static final Logger LOG = Logger.getLogger(ExternalIssuer.class);
    private static final int JWKS_SIZE_LIMIT = 512 * 1024;
    private static final long MIN_REFRESH_GAP_NANOS = 30_000_000_000L;

    private final AuthConfig.External config;
    private final AtomicReference<JWKSet> keys = new AtomicReference<>(new JWKSet());
    private volatile long lastFetchNanos = Long.MIN_VALUE / 2;
    private volatile boolean fetching;

    public ExternalIssuer(AuthConfig config) {
        this.config = config.external();
        if (enabled()) {
            if (this.config.jwksFile().filter(s -> !s.isBlank()).isPresent()) {
                keys.set(loadFile(this.config.jwksFile().get()));
            } else if (this.config.jwksUrl().filter(s -> !s.isBlank()).isEmpty()) {
                throw new IllegalStateException("sluice.auth.external.issuer needs sluice.auth.external.jwks-file or jwks-url");
            } else {
                refreshNow();
            }
        }
    }

    /** Whether an external issuer is configured. */
    public boolean enabled() {
        return config.issuer().filter(s -> !s.isBlank()).isPresent();
    }

    /** The configured issuer, if any. */
    public Optional<String> issuer() {
        return config.issuer().filter(s -> !s.isBlank());
    }

    public AuthConfig.External config() {
        return config;
    }

    /** Current keys of the issuer. */
    public JWKSet keys() {
        return keys.get();
    }

    /** Asks for a background refresh (jwks-url only, at most every 30 s), e.g. after an unknown kid. */
    public void requestRefresh() {
        if (config.jwksUrl().filter(s -> !s.isBlank()).isEmpty() || fetching
                || System.nanoTime() - lastFetchNanos < MIN_REFRESH_GAP_NANOS) {
            return;
        }
        fetching = true;
        CompletableFuture.runAsync(this::refreshNow);
    }

    /** Periodic refresh of a jwks-url, on a worker thread. */
    @io.quarkus.scheduler.Scheduled(every = "${sluice.auth.external.jwks-refresh:PT15M}", delayed = "PT1M",
            concurrentExecution = io.quarkus.scheduler.Scheduled.ConcurrentExecution.SKIP)
    void scheduledRefresh() {
        if (enabled() && config.jwksUrl().filter(s -> !s.isBlank()).isPresent()) {
            refreshNow();
        }
    }

    private void refreshNow() {
        fetching = true;
        try {
            String url = config.jwksUrl().get();
            JWKSet loaded = JWKSet.load(new URL(url), 5_000, 5_000, JWKS_SIZE_LIMIT);
            keys.set(loaded);
            LOG.debugf("Fetched %d key(s) of external issuer from %s", loaded.getKeys().size(), url);
        } catch (IOException | ParseException e) {
            LOG.warnf("Could not fetch the external issuer's JWKS from %s: %s", config.jwksUrl().orElse(""), e.getMessage());
        } finally {
            lastFetchNanos = System.nanoTime();
            fetching = false;
        }
    }

    private static JWKSet loadFile(String file) {
        try {
            return JWKSet.parse(Files.readString(Path.of(file))).toPublicJWKSet();
        } catch (IOException | ParseException e) {
            throw new IllegalStateException("sluice.auth.external.jwks-file " + file + " is not a readable JWK Set: " + e.getMessage(), e);
        }
    }

    /** Creates the bean at startup, so a bad configuration fails the start. */
    void onStart(@jakarta.enterprise.event.Observes io.quarkus.runtime.StartupEvent ev) {
        if (enabled()) {
            LOG.infof("Accepting access tokens of external issuer %s", config.issuer().get());
        }
    }
}
