package io.sluice.api;

import jakarta.ws.rs.container.ContainerRequestContext;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.net.URI;

/**
 * Lets clients percent-encode the {@code $} of FHIR operation names: a path segment starting with
 * {@code %24} (e.g. {@code /fhir/%24export}, as many HTTP clients send it) is routed like the literal
 * {@code $export}. Applies before route matching, to every route.
 */
public class OperationPathFilter {

    @ServerRequestFilter(preMatching = true)
    public void decodeDollar(ContainerRequestContext ctx) {
        URI uri = ctx.getUriInfo().getRequestUri();
        String raw = uri.getRawPath();
        if (raw == null || !raw.contains("/%24")) {
            return;
        }
        String path = raw.replace("/%24", "/$");
        String rest = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
        ctx.setRequestUri(URI.create(uri.getScheme() + "://" + uri.getRawAuthority() + path + rest));
    }
}
