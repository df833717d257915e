package io.sluice.auth;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * Test-only endpoints under the FHIR bases that echo the {@link Caller}, so the filter can be tested
 * before (and independently of) the real FHIR endpoints.
 */
public final class AuthProbeResource {

    private AuthProbeResource() {
    }

    static ObjectNode echo(Caller caller) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("owner", caller.owner());
        o.put("tenant", caller.tenant());
        o.put("authEnabled", caller.authEnabled());
        o.put("mayReadPatient", caller.mayRead("Patient"));
        o.put("mayWritePatient", caller.mayWrite("Patient"));
        var types = o.putArray("readable");
        caller.readableTypesOrAll().stream().sorted().forEach(types::add);
        return o;
    }

    /** {@code /fhir/Patient/_authprobe}: a typed read (GET) and write (POST, DELETE). */
    @Path("/fhir/Patient/_authprobe")
    public static class PatientProbe {
        private final Caller caller;

        public PatientProbe(Caller caller) {
            this.caller = caller;
        }

        @GET
        @Produces(MediaType.APPLICATION_JSON)
        public ObjectNode read() {
            return echo(caller);
        }

        @POST
        @Produces(MediaType.APPLICATION_JSON)
        public ObjectNode write() {
            return echo(caller);
        }

        @DELETE
        @Produces(MediaType.APPLICATION_JSON)
        public ObjectNode delete() {
            return echo(caller);
        }
    }

    /** {@code /fhir/Observation/_authprobe}. */
    @Path("/fhir/Observation/_authprobe")
    public static class ObservationProbe {
        private final Caller caller;

        public ObservationProbe(Caller caller) {
            this.caller = caller;
        }

        @GET
        @Produces(MediaType.APPLICATION_JSON)
        public ObjectNode read() {
            return echo(caller);
        }

        @POST
        @Produces(MediaType.APPLICATION_JSON)
        public ObjectNode write() {
            return echo(caller);
        }
    }

    /** {@code /tenants/{tenant}/fhir/Patient/_authprobe}. */
    @Path("/tenants/{tenant}/fhir/Patient/_authprobe")
    public static class TenantPatientProbe {
        private final Caller caller;

        public TenantPatientProbe(Caller caller) {
            this.caller = caller;
        }

        @GET
        @Produces(MediaType.APPLICATION_JSON)
        public ObjectNode read() {
            return echo(caller);
        }
    }

    /** {@code /fhir/_authprobe-status}: stands for the export API's status/file URLs (any read scope). */
    @Path("/fhir/_authprobe-status")
    public static class StatusProbe {
        private final Caller caller;

        public StatusProbe(Caller caller) {
            this.caller = caller;
        }

        @GET
        @Produces(MediaType.APPLICATION_JSON)
        public ObjectNode status() {
            return echo(caller);
        }

        @DELETE
        @Produces(MediaType.APPLICATION_JSON)
        public ObjectNode cancel() {
            return echo(caller);
        }
    }
}
