package io.sluice.api;

import io.quarkus.vertx.http.runtime.RouteConstants;
import io.sluice.auth.AuthBodyLimitFilter;
import io.sluice.config.StoreConfig;
import io.sluice.fhir.FhirJson;
import io.sluice.fhir.OperationOutcomes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.impl.RoutingContextInternal;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Request body limits, each refusal a 413 with an OperationOutcome. {@code $ingest} streams, so its
 * limit is the server-wide one ({@code quarkus.http.limits.max-body-size}, 1 TiB); every other route
 * reads its body whole and parses it, so its limit is {@code sluice.store.max-body-bytes}, at most
 * {@link FhirJson#maxParseBytes} (a 16th of the JVM heap): parsing a body needs several times its
 * size, and a body the heap cannot hold must be refused, not fail the server. An announced
 * body over its limit is refused before it is read; a body without Content-Length (chunked) on a
 * resource route is read here up to the limit, then refused, so it never fills the heap.
 */
@ApplicationScoped
public class BodyLimitRoutes {

    private final StoreConfig config;
    private final long serverLimit;

    public BodyLimitRoutes(StoreConfig config,
                           @ConfigProperty(name = "quarkus.http.limits.max-body-size") io.quarkus.runtime.configuration.MemorySize serverLimit) {
        this.config = config;
        this.serverLimit = serverLimit.asLongValue();
    }

    /** Most bytes of a create, update or Bundle body: the configured limit, at most what this process parses whole. */
    static long resourceBodyLimit(StoreConfig config) {
        return FhirJson.maxParseBytes(config.maxBodyBytes());
    }

    void install(@Observes Router router) {
        // before Quarkus's own check, which answers an announced oversize body with a bare 413
        router.route().order(RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT - 1).handler(this::checkAnnounced);
        // a resource body of unannounced length is read here (Quarkus's own limit would answer a bare 413)
        router.route().order(RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT + 1).handler(this::readUnannounced);
    }

    private static boolean ingest(RoutingContext rc) {
        String path = rc.request().path();
        return path != null && path.endsWith("/$ingest");
    }

    private long limit(RoutingContext rc) {
        return ingest(rc) ? serverLimit : resourceBodyLimit(config);
    }

    private String limitText(RoutingContext rc) {
        long limit = limit(rc);
        return ingest(rc) ? "the limit of " + limit + " bytes"
                : "the limit of " + limit + " bytes (sluice.store.max-body-bytes, at most " + FhirJson.MAX_PARSE_RULE
                + "; bulk data goes to $ingest, which streams)";
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
        if (n > limit(rc)) {
            refuse(rc, "request body of " + n + " bytes exceeds " + limitText(rc));
            return;
        }
        rc.next();
    }

    /**
     * Reads a body of unannounced length (other than {@code $ingest}'s) whole, up to the limit, past
     * which it answers 413 and reads no more; the REST layer then takes the body read here, as after
     * Vert.x's body handler. Form and multipart bodies too (Quarkus's own reading of them answered an
     * oversize one with a bare 413); the auth endpoints, which take forms, require a Content-Length.
     */
    private void readUnannounced(RoutingContext rc) {
        // the auth endpoints answer a body of unannounced length with 411 before reading it (AuthBodyLimitFilter)
        boolean unannounced = rc.request().getHeader("Content-Length") == null && !ingest(rc)
                && !AuthBodyLimitFilter.limits(rc.request().method().name(), rc.request().path())
                && (rc.request().headers().contains("Transfer-Encoding") || hasBodyMethod(rc));
        if (!unannounced) {
            rc.next();
            return;
        }
        long limit = limit(rc);
        HttpServerRequest request = rc.request();
        if ("100-continue".equalsIgnoreCase(request.getHeader("Expect"))) {
            rc.response().writeContinue();
        }
        Buffer body = Buffer.buffer();
        boolean[] ended = {false};
        request.handler(data -> {
            if (ended[0]) {
                return;
            }
            if (body.length() + (long) data.length() > limit) {
                ended[0] = true;
                refuse(rc, "request body exceeds " + limitText(rc));
                return;
            }
            body.appendBuffer(data);
        });
        request.exceptionHandler(e -> {
            if (!ended[0]) {
                ended[0] = true;
                rc.fail(e);
            }
        });
        request.endHandler(v -> {
            if (!ended[0]) {
                ended[0] = true;
                ((RoutingContextInternal) rc).setBody(body);
                rc.next();
            }
        });
        request.resume();
    }

    private static boolean hasBodyMethod(RoutingContext rc) {
        HttpMethod m = rc.request().method();
        return HttpMethod.POST.equals(m) || HttpMethod.PUT.equals(m) || HttpMethod.PATCH.equals(m);
    }

    /** Answers with an OperationOutcome and closes the connection (the rest of the body is never read). */
    private static void refuse(RoutingContext rc, String text) {
        rc.response().setStatusCode(413)
                .putHeader("Content-Type", FhirMedia.FHIR_JSON)
                .putHeader("Connection", "close")
                .end(FhirJson.write(OperationOutcomes.error("too-costly", text)));
    }
}
