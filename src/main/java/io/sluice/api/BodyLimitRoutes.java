package io.sluice.api;

import io.quarkus.vertx.http.runtime.RouteConstants;
import io.sluice.config.StoreConfig;
import io.sluice.fhir.FhirJson;
import io.sluice.fhir.OperationOutcomes;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Request body limits, checked before any body is read, each refusal a 413 with an OperationOutcome. {@code $ingest} streams, so its limit is the server-wide
 * one ({@code quarkus.http.limits.max-body-size}, 1 TiB); every other route's is
 * {@code sluice.store.max-body-bytes}. A body without Content-Length (chunked) on another route is read
 * by Quarkus up to that smaller limit only, then refused, so it never fills the heap.
 */
@ApplicationScoped
public class BodyLimitRoutes {

    /** Where Quarkus looks for the most bytes a body of unannounced length may have (its own key). */
    static final String MAX_REQUEST_SIZE_KEY = "io.quarkus.max-request-size";

    private final StoreConfig config;
    private final long serverLimit;

    public BodyLimitRoutes(StoreConfig config,
                           @ConfigProperty(name = "quarkus.http.limits.max-body-size") io.quarkus.runtime.configuration.MemorySize serverLimit) {
        this.config = config;
        this.serverLimit = serverLimit.asLongValue();
    }

    void install(@Observes Router router) {
        // before Quarkus's own check, which answers an announced oversize body with a bare 413
        router.route().order(RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT - 1).handler(this::checkAnnounced);
        // after it, which sets the server-wide limit for bodies of unannounced length
        router.route().order(RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT + 1).handler(this::limitUnannounced);
    }

    private static boolean ingest(RoutingContext rc) {
        String path = rc.request().path();
        return path != null && path.endsWith("/$ingest");
    }

    private long limit(RoutingContext rc) {
        return ingest(rc) ? serverLimit : config.maxBodyBytes();
    }

    private void checkAnnounced(RoutingContext rc) {
        String len = rc.request().getHeader("Content-Length");
        if (len == null) {
            rc.next();
            return;
        }
        long n;
        try {
            n = Long.parseLong(len.trim());
        } catch (NumberFormatException e) {
            rc.next(); // not reached: the HTTP decoder answers a malformed Content-Length with 400 itself
            return;
        }
        long limit = limit(rc);
        if (n > limit) {
            refuse(rc, "request body of " + n + " bytes exceeds the limit of " + limit + " bytes"
                    + (ingest(rc) ? "" : " (bulk data goes to $ingest, which streams)"));
            return;
        }
        rc.next();
    }

    private void limitUnannounced(RoutingContext rc) {
        if (rc.request().getHeader("Content-Length") == null && !ingest(rc)) {
            rc.put(MAX_REQUEST_SIZE_KEY, config.maxBodyBytes());
        }
        rc.next();
    }

    /** Answers with an OperationOutcome and closes the connection (the body is never read). */
    private static void refuse(RoutingContext rc, String text) {
        rc.response().setStatusCode(413)
                .putHeader("Content-Type", FhirMedia.FHIR_JSON)
                .putHeader("Connection", "close")
                .end(FhirJson.write(OperationOutcomes.error("too-costly", text)));
    }
}
