package io.sluice.api;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Routes a percent-encoded {@code $} ({@code %24}) in a request path like a literal one, so
 * {@code /fhir/%24export} reaches {@code /fhir/$export}: some HTTP clients encode every
 * sub-delimiter in path segments, and JAX-RS matches the raw path.
 */
@ApplicationScoped
public class OperationPathNormalizer {

    void install(@Observes Router router) {
        router.route().order(-10_000).handler(rc -> {
            String path = rc.request().path();
            if (path != null && (path.contains("%24") || path.contains("%24".toLowerCase()))) {
                String fixed = path.replace("%24", "$");
                String query = rc.request().query();
                rc.reroute(rc.request().method(), query == null ? fixed : fixed + "?" + query);
            } else {
                rc.next();
            }
        });
    }
}
