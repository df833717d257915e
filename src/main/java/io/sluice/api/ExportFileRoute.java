package io.sluice.api;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.mutiny.core.http.HttpServerResponse;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * Streams export files: {@code GET [base]/$export-file/{jobId}/{fileName}} for {@code /fhir} and
 * {@code /tenants/{tenant}/fhir}. A plain Vert.x route (not JAX-RS) so the bytes go to the socket
 * exactly as stored (or gzip-compressed on the fly) with back-pressure, never buffered whole.
 * The raw path is matched, so encoded slashes never form a path.
 */
@ApplicationScoped
public class ExportFileRoute {

    private static final Logger LOG = Logger.getLogger(ExportFileRoute.class);
    private static final String PATH =
            "^/(?:fhir|tenants/([a-z0-9-]{1,64})/fhir)/\\$export-file/([^/]+)/([^/]+)$";

    private final ExportApi api;
    private final AccessPolicy access;

    public ExportFileRoute(ExportApi api, AccessPolicy access) {
        this.api = api;
        this.access = access;
    }

    void install(@Observes Router router) {
        router.getWithRegex(PATH).order(-9_000).handler(this::handle);
    }

    private void handle(RoutingContext rc) {
        String tenant = rc.pathParam("param0");
        String jobId = rc.pathParam("param1");
        String fileName = rc.pathParam("param2");
        String t = tenant == null ? "default" : tenant;
        io.smallrye.mutiny.Uni<ExportApi.Download> download;
        try {
            String owner = access.downloadOwner(rc.request(), t);
            download = api.download(t, owner, jobId, fileName, name -> rc.request().headers().getAll(name));
        } catch (AccessPolicy.Denied e) {
            ExportApi.Download d = ExportApi.errorDownload(new ApiException(e.status(), e.status() == 401 ? "login" : "forbidden",
                    e.getMessage(), java.util.Map.of("WWW-Authenticate", "Bearer realm=\"sluice\", error=\""
                            + (e.status() == 401 ? "invalid_token" : "insufficient_scope") + "\"")));
            download = io.smallrye.mutiny.Uni.createFrom().item(d);
        }
        download
                .subscribe().with(d -> {
                    HttpServerResponse response = HttpServerResponse.newInstance(rc.response());
                    response.setStatusCode(d.status());
                    d.headers().forEach((name, values) -> values.forEach(v -> response.putHeader(name, v)));
                    if (d.status() == 304) {
                        response.send().subscribe().with(ok -> { }, err -> rc.response().reset());
                        return;
                    }
                    if (!d.headers().containsKey("Content-Length")) {
                        response.setChunked(true);
                    }
                    response.send(d.body()).subscribe().with(ok -> { }, err -> {
                        LOG.warnf("download of %s/%s aborted: %s", jobId, fileName, err.toString());
                        rc.response().reset();
                    });
                }, err -> {
                    LOG.errorf(err, "download of %s/%s failed", jobId, fileName);
                    rc.fail(err);
                });
    }
}
