package io.sluice.auth;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Refuses oversized bodies on {@code /auth/token} and {@code /admin/clients} before they are read
 * (the server-wide body limit is sized for bulk uploads): 413 above 64 KiB, 411 without a Content-Length.
 */
public class AuthBodyLimitFilter {

    /** True for the requests whose body this filter limits: POSTs to {@code /auth/...} and {@code /admin/...}. */
    public static boolean limits(String method, String path) {
        return "POST".equals(method) && path != null && (path.startsWith("/auth/") || path.startsWith("/admin/"));
    }

    @ServerRequestFilter(preMatching = true)
    public Response limit(ContainerRequestContext ctx) {
        if (!limits(ctx.getMethod(), ctx.getUriInfo().getPath())) {
            return null;
        }
        String length = ctx.getHeaderString("Content-Length");
        long n;
        try {
            n = length == null ? -1 : Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 0) {
            return error(411, "a Content-Length header is required");
        }
        if (n > TokenResource.MAX_FORM_BYTES) {
            return error(413, "the request body is larger than " + TokenResource.MAX_FORM_BYTES + " bytes");
        }
        return null;
    }

    private static Response error(int status, String description) {
        var o = JsonNodeFactory.instance.objectNode();
        o.put("error", "invalid_request");
        o.put("error_description", description);
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(o).build();
    }
}
