package io.sluice.fhir;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.TreeSet;

/**
 * The server's R4 CapabilityStatement: only what really works. Operations are listed in
 * {@link #SYSTEM_OPERATIONS} and {@link #TYPE_OPERATIONS}; add an {@link Operation} there when an
 * operation is implemented.
 */
public final class Capabilities {

    /** An operation the server implements. */
    public record Operation(String name, String definition) {
    }

    /** A type-level or instance-level operation and the resource types it applies to. */
    public record TypeOperation(String resourceType, Operation operation) {
    }

    /** System-level operations ({@code [base]/$name}). */
    public static final List<Operation> SYSTEM_OPERATIONS = List.of(
            new Operation("ingest", "urn:sluice:OperationDefinition/ingest"),
            new Operation("export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"));

    /** Type- or instance-level operations. */
    public static final List<TypeOperation> TYPE_OPERATIONS = List.of(
            new TypeOperation("Patient", new Operation("export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export")),
            new TypeOperation("Group", new Operation("export", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export")));

    /** Implementation guides' CapabilityStatements this server instantiates. */
    public static final List<String> INSTANTIATES = List.of("http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data");

    /** Interactions supported on every resource type. */
    public static final List<String> TYPE_INTERACTIONS = List.of("read", "vread", "update", "delete", "create");

    private static final Instant STARTED = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    private Capabilities() {
    }

    /**
     * The CapabilityStatement for a tenant base.
     *
     * @param baseUrl absolute base URL of the tenant's FHIR endpoint, e.g. {@code http://host/fhir}
     * @param version the software version
     */
    public static ObjectNode statement(String baseUrl, String version) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode cs = f.objectNode();
        cs.put("resourceType", "CapabilityStatement");
        cs.put("status", "active");
        cs.put("date", STARTED.toString());
        cs.put("publisher", "Sluice");
        cs.put("kind", "instance");
        INSTANTIATES.forEach(cs.withArray("instantiates")::add);
        ObjectNode software = cs.putObject("software");
        software.put("name", "Sluice");
        software.put("version", version);
        ObjectNode impl = cs.putObject("implementation");
        impl.put("description", "Sluice FHIR Bulk Data server");
        impl.put("url", baseUrl);
        cs.put("fhirVersion", "4.0.1");
        ArrayNode formats = cs.putArray("format");
        formats.add("application/fhir+json");
        formats.add("json");
        ObjectNode rest = cs.putArray("rest").addObject();
        rest.put("mode", "server");
        for (String type : new TreeSet<>(ResourceTypes.ALL)) {
            ObjectNode r = rest.withArray("resource").addObject();
            r.put("type", type);
            for (String i : TYPE_INTERACTIONS) {
                r.withArray("interaction").addObject().put("code", i);
            }
            r.put("versioning", "versioned");
            r.put("readHistory", true);
            r.put("updateCreate", true);
            for (TypeOperation op : TYPE_OPERATIONS) {
                if (op.resourceType().equals(type)) {
                    ObjectNode o = r.withArray("operation").addObject();
                    o.put("name", op.operation().name());
                    o.put("definition", op.operation().definition());
                }
            }
        }
        rest.withArray("interaction").addObject().put("code", "transaction");
        rest.withArray("interaction").addObject().put("code", "batch");
        for (Operation op : SYSTEM_OPERATIONS) {
            ObjectNode o = rest.withArray("operation").addObject();
            o.put("name", op.name());
            o.put("definition", op.definition());
        }
        return cs;
    }
}
