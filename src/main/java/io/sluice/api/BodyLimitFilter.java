package io.sluice.api;

import io.sluice.config.StoreConfig;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Refuses (413) a request body announced larger than {@code sluice.store.max-body-bytes} before it is
 * read; only {@code $ingest}, which streams, takes any size. Bodies without Content-Length are
 * checked after reading by the handlers.
 */
public class BodyLimitFilter {

    private final StoreConfig config;

    public BodyLimitFilter(StoreConfig config) {
        this.config = config;
    }

    @ServerRequestFilter(preMatching = true)
    public Response checkLength(ContainerRequestContext ctx) {
        String len = ctx.getHeaderString("Content-Length");
        if (len == null || ctx.getUriInfo().getPath().endsWith("$ingest")) {
            return null;
        }
        long n;
        try {
            n = Long.parseLong(len.trim());
        } catch (NumberFormatException e) {
            return ErrorMappers.outcome(400, "invalid", "invalid Content-Length '" + len + "'");
        }
        if (n > config.maxBodyBytes()) {
            return ErrorMappers.outcome(413, "too-costly", "request body of " + n + " bytes exceeds the limit of "
                    + config.maxBodyBytes() + " bytes");
        }
        return null;
    }
}
