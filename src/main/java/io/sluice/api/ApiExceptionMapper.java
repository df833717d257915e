package io.sluice.api;

import io.sluice.fhir.OperationOutcomes;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Translates {@link ApiException} into an OperationOutcome with the exception's status. */
public class ApiExceptionMapper {

    @ServerExceptionMapper
    public Response map(ApiException e) {
        Response.ResponseBuilder b = Response.status(e.status())
                .type("application/fhir+json")
                .entity(OperationOutcomes.error(e.issueCode(), e.getMessage()));
        e.headers().forEach(b::header);
        return b.build();
    }
}
