package io.sluice.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.sluice.fhir.FhirJson;
import io.sluice.fhir.OperationOutcomes;
import io.sluice.fhir.ResourceTypes;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every error leaves the server as a FHIR OperationOutcome: unknown routes, wrong methods and
 * content types, unreadable bodies, other JAX-RS errors, and (logged, as 500) anything unexpected.
 */
public class ErrorMappers {

    private static final Logger LOG = Logger.getLogger(ErrorMappers.class);

    /** A FHIR instance path whose id segment is not a valid FHIR id. */
    private static final Pattern INSTANCE_PATH = Pattern.compile(
            "^/(?:tenants/[^/]+/)?fhir/([A-Z][A-Za-z]+)/([^/$][^/]*)(?:/_history/[^/]*)?/?$");

    static Response outcome(int status, String code, String text) {
        return Response.status(status).type(FhirMedia.FHIR_JSON).entity(OperationOutcomes.error(code, text)).build();
    }

    @ServerExceptionMapper
    public Response notFound(NotFoundException e, UriInfo uri) {
        String path = uri.getPath();
        Matcher m = INSTANCE_PATH.matcher(path);
        if (m.matches() && ResourceTypes.isKnown(m.group(1)) && !ResourceTypes.isValidId(m.group(2))) {
            return outcome(400, "invalid", "invalid resource id '" + m.group(2)
                    + "': must match [A-Za-z0-9\\-.]{1,64}");
        }
        return outcome(404, "not-found", "no such route: " + path);
    }

    @ServerExceptionMapper
    public Response notAllowed(NotAllowedException e, jakarta.ws.rs.core.Request request, UriInfo uri) {
        Response r = outcome(405, "not-supported", "method " + request.getMethod() + " is not allowed on " + uri.getPath());
        String allow = e.getResponse().getHeaderString(HttpHeaders.ALLOW);
        return allow == null ? r : Response.fromResponse(r).header(HttpHeaders.ALLOW, allow).build();
    }

    @ServerExceptionMapper
    public Response notSupported(NotSupportedException e, HttpHeaders headers) {
        return outcome(415, "not-supported", "unsupported Content-Type '" + headers.getHeaderString(HttpHeaders.CONTENT_TYPE)
                + "': use application/fhir+json (resources, Bundles) or application/fhir+ndjson ($ingest)");
    }

    @ServerExceptionMapper
    public Response badJson(JsonProcessingException e) {
        return outcome(400, "structure", "malformed JSON: " + e.getOriginalMessage());
    }

    @ServerExceptionMapper
    public Response badJsonText(FhirJson.InvalidJsonException e) {
        return outcome(400, "structure", e.getMessage());
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e) {
        int status = e.getResponse() == null ? 500 : e.getResponse().getStatus();
        if (status >= 500) {
            LOG.error("request failed", e);
        }
        String code = switch (status) {
            case 401, 403 -> "security";
            case 404 -> "not-found";
            case 405, 406, 415 -> "not-supported";
            case 413 -> "too-costly";
            default -> status >= 500 ? "exception" : "invalid";
        };
        String text = e.getMessage() == null || e.getMessage().isBlank() ? "HTTP " + status : e.getMessage();
        return outcome(status, code, text);
    }

    @ServerExceptionMapper
    public Response unexpected(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof java.io.IOException && "Request too large".equals(c.getMessage())) {
                // Quarkus's own body limit (api.BodyLimitRoutes reads unannounced bodies itself, so this is a
                // safety net): Quarkus has already answered 413 and closed the connection; this is for the record
                LOG.debugf("request body over the limit: %s", c);
                return outcome(413, "too-costly", "request body exceeds the limit (sluice.store.max-body-bytes)");
            }
        }
        LOG.error("unexpected error", e);
        return outcome(500, "exception", "internal server error: " + e.getClass().getSimpleName());
    }
}
