package io.sluice.api;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.Response;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Bulk Data OperationDefinitions (export, patient-export, group-export) as Sluice supports them,
 * served at {@code [base]/OperationDefinition/{id}} from {@code src/main/resources/fhir/}.
 */
@ApplicationScoped
public class OperationDefinitions {

    /** Ids of the served definitions. */
    public static final java.util.List<String> IDS = java.util.List.of("export", "patient-export", "group-export");

    private final Map<String, String> json = new LinkedHashMap<>();

    public OperationDefinitions() {
        for (String id : IDS) {
            String path = "fhir/OperationDefinition-" + id + ".json";
            try (InputStream in = Thread.currentThread().getContextClassLoader().getResourceAsStream(path)) {
                if (in == null) {
                    throw new IllegalStateException("missing resource " + path);
                }
                json.put(id, new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + path, e);
            }
        }
    }

    /** 200 with the definition, or a 404 OperationOutcome. */
    public Response response(String id) {
        String body = json.get(id);
        if (body == null) {
            throw ApiException.notFound("OperationDefinition/" + id + " not found");
        }
        return Response.ok(body).type(ExportApi.FHIR_JSON).build();
    }
}
