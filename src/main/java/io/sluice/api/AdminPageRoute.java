package io.sluice.api;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * {@code GET /admin} redirects to {@code /admin/}, where the ops dashboard's static page
 * ({@code META-INF/resources/admin/index.html}) is served. The page itself holds no data: it asks for
 * the admin token and calls the guarded JSON API under {@code /admin/api}.
 */
@ApplicationScoped
public class AdminPageRoute {

    void install(@Observes Router router) {
        router.getWithRegex("^/admin$").order(-8_000).handler(rc -> rc.response().setStatusCode(302)
                .putHeader("Location", "/admin/").putHeader("Cache-Control", "no-store").end());
    }
}
