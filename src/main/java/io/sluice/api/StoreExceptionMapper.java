package io.sluice.api;

import io.sluice.store.StoreException;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Translates store refusals into HTTP statuses (the one place that does). */
public class StoreExceptionMapper {

    /** The ApiException equivalent of a store refusal. */
    public static ApiException toApi(StoreException e) {
        if (e instanceof StoreException.NotFound) {
            return new ApiException(404, "not-found", e.getMessage());
        }
        if (e instanceof StoreException.Gone) {
            return new ApiException(410, "deleted", e.getMessage());
        }
        if (e instanceof StoreException.Conflict) {
            return new ApiException(409, "conflict", e.getMessage());
        }
        return new ApiException(400, "invalid", e.getMessage());
    }

    @ServerExceptionMapper
    public Response map(StoreException e) {
        ApiException ae = toApi(e);
        Response.ResponseBuilder b = Response.status(ae.status()).type(FhirMedia.FHIR_JSON)
                .entity(io.sluice.fhir.OperationOutcomes.error(ae.issueCode(), ae.getMessage()));
        if (e instanceof StoreException.Gone g && g.tombstone() != null) {
            b.header("ETag", "W/\"" + g.tombstone().versionId() + "\"");
        }
        return b.build();
    }
}
