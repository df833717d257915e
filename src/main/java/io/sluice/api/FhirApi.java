package io.sluice.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.auth.PublicUrls;
import io.sluice.auth.SmartConfiguration;
import io.sluice.config.StoreConfig;
import io.sluice.fhir.Capabilities;
import io.sluice.fhir.FhirJson;
import io.sluice.fhir.ResourceTypes;
import io.sluice.store.BundleProcessor;
import io.sluice.store.IngestReport;
import io.sluice.store.ResourceStore;
import io.sluice.store.StoreException;
import io.sluice.store.StoredResource;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Date;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * The FHIR REST interactions shared by the default base ({@code /fhir}, tenant {@code default}) and
 * tenant bases ({@code /tenants/{tenant}/fhir}); see {@link DefaultFhirResource} and
 * {@link TenantFhirResource} for the routes.
 */
@ApplicationScoped
public class FhirApi {

    /** Tenant of the {@code /fhir} base. */
    public static final String DEFAULT_TENANT = "default";

    /** Tenant name syntax. */
    public static final Pattern TENANT = Pattern.compile("[a-z0-9-]{1,64}");

    private final ResourceStore store;
    private final BundleProcessor bundles;
    private final StoreConfig config;
    private final PublicUrls urls;
    private final SmartConfiguration smart;

    public FhirApi(ResourceStore store, BundleProcessor bundles, StoreConfig config, PublicUrls urls,
                   SmartConfiguration smart) {
        this.urls = urls;
        this.smart = smart;
        this.store = store;
        this.bundles = bundles;
        this.config = config;
    }

    /** Checks a tenant path segment; a bad one is a 400. */
    public static String tenant(String tenant) {
        if (tenant == null || !TENANT.matcher(tenant).matches()) {
            throw ApiException.badRequest("invalid tenant '" + tenant + "': must match [a-z0-9-]{1,64}");
        }
        return tenant;
    }

    /** Base path of a tenant, relative to the server root. */
    public static String basePath(String tenant) {
        return DEFAULT_TENANT.equals(tenant) ? "fhir" : "tenants/" + tenant + "/fhir";
    }

    private static String knownType(String type) {
        if (!ResourceTypes.isKnown(type)) {
            throw new ApiException(404, "not-supported", "unknown resource type '" + type + "' (not a FHIR R4 resource type)");
        }
        return type;
    }

    private ObjectNode body(String body) {
        if (body == null || body.isBlank()) {
            throw ApiException.badRequest("request body is empty: expected a FHIR resource in JSON");
        }
        long limit = BodyLimitRoutes.resourceBodyLimit(config);
        if (body.length() > limit) {
            throw new ApiException(413, "too-costly", "request body exceeds the limit of " + limit + " bytes");
        }
        try {
            return FhirJson.parseObject(body);
        } catch (FhirJson.InvalidJsonException e) {
            throw new ApiException(400, "structure", e.getMessage());
        } catch (OutOfMemoryError e) {
            // under the limit, but the heap is taken by other work: what the parse allocated is garbage again
            throw new ApiException(413, "too-costly", "request body of " + body.length()
                    + " characters needs more memory than this server's JVM heap has free to parse it");
        }
    }

    /**
     * The CapabilityStatement, with absolute URLs as the client sees this server (public base URL or
     * X-Forwarded-* headers) and, when auth is on, the SMART security element naming the token endpoint.
     */
    Response metadata(UriInfo uri, HttpHeaders headers, HttpServerRequest request, String tenant) {
        String base = BaseUrls.of(urls, uri, headers).fhirBase(tenant, !DEFAULT_TENANT.equals(tenant));
        ObjectNode statement = Capabilities.statement(base, "0.1.0");
        if (smart.enabled()) {
            ((ObjectNode) statement.withArray("rest").get(0)).set("security", smart.capabilitySecurity(request));
        }
        return Response.ok(FhirJson.write(statement), FhirMedia.FHIR_JSON).build();
    }

    Uni<Response> create(UriInfo uri, String tenant, String type, String body) {
        knownType(type);
        ObjectNode resource = body(body);
        return store.create(tenant, type, resource).map(r -> written(uri, tenant, r, 201));
    }

    Uni<Response> update(UriInfo uri, String tenant, String type, String id, String body) {
        knownType(type);
        ObjectNode resource = body(body);
        return store.update(tenant, type, id, resource).map(r -> written(uri, tenant, r, r.versionId() == 1 ? 201 : 200));
    }

    Uni<Response> read(String tenant, String type, String id) {
        knownType(type);
        return store.read(tenant, type, id).map(FhirApi::served);
    }

    Uni<Response> vread(String tenant, String type, String id, String vid) {
        knownType(type);
        long v;
        try {
            v = Long.parseLong(vid);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("invalid version id '" + vid + "'");
        }
        return store.vread(tenant, type, id, v).map(FhirApi::served);
    }

    Uni<Response> delete(String tenant, String type, String id) {
        knownType(type);
        return store.delete(tenant, type, id).map(t -> {
            Response.ResponseBuilder b = Response.noContent();
            t.ifPresent(s -> b.tag(etag(s)).lastModified(Date.from(s.lastUpdated())));
            return b.build();
        });
    }

    Uni<Response> bundle(UriInfo uri, String tenant, String body) {
        ObjectNode bundle = body(body);
        return bundles.process(tenant, bundle).map(result -> Response.ok(FhirJson.write(responseBundle(uri, tenant, result)),
                FhirMedia.FHIR_JSON).build());
    }

    /**
     * Streams an NDJSON body (optionally gzip-encoded) into {@link ResourceStore#ingest}. Must run on
     * a worker thread (it blocks on the body stream). The response is a FHIR {@code Parameters}
     * resource: {@code lines}, {@code stored}, {@code rejected} (integers), one {@code storedByType}
     * parameter whose parts are named by resource type with the count as valueInteger, and one
     * {@code rejectedLine} parameter per reported rejected line with parts {@code line} (1-based,
     * valueInteger) and {@code reason} (valueString).
     */
    Response ingest(String tenant, InputStream body, String contentEncoding) {
        InputStream in = body;
        if (contentEncoding != null && !contentEncoding.isBlank() && !contentEncoding.equalsIgnoreCase("identity")) {
            if (!contentEncoding.trim().equalsIgnoreCase("gzip")) {
                throw new ApiException(415, "not-supported", "Content-Encoding '" + contentEncoding
                        + "' is not supported (gzip or identity)");
            }
            try {
                in = new GZIPInputStream(body, 65536);
            } catch (IOException e) {
                throw ApiException.badRequest("request body is not valid gzip: " + e.getMessage());
            }
        }
        // a line is parsed whole: held to what this process parses whole, as a request body is
        NdjsonLineReader lines = new NdjsonLineReader(in, (int) FhirJson.maxParseBytes(config.ingestMaxLineBytes()));
        IngestReport report;
        try {
            report = store.ingest(tenant, Multi.createFrom().iterable(() -> lines)
                            .runSubscriptionOn(Infrastructure.getDefaultWorkerPool()))
                    .await().indefinitely();
        } catch (UncheckedIOException e) {
            throw ApiException.badRequest("request body could not be read (resources of earlier complete batches "
                    + "may be stored): " + e.getCause().getMessage());
        }
        return Response.ok(FhirJson.write(ingestReport(report)), FhirMedia.FHIR_JSON).build();
    }

    static ObjectNode ingestReport(IngestReport report) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode p = f.objectNode();
        p.put("resourceType", "Parameters");
        ArrayNode params = p.putArray("parameter");
        params.addObject().put("name", "lines").put("valueInteger", report.lines());
        params.addObject().put("name", "stored").put("valueInteger", report.stored());
        params.addObject().put("name", "rejected").put("valueInteger", report.rejected());
        ObjectNode byType = params.addObject().put("name", "storedByType");
        ArrayNode parts = byType.putArray("part");
        for (Map.Entry<String, Long> e : report.storedByType().entrySet()) {
            parts.addObject().put("name", e.getKey()).put("valueInteger", e.getValue());
        }
        for (IngestReport.RejectedLine r : report.rejectedLines()) {
            ArrayNode rp = params.addObject().put("name", "rejectedLine").putArray("part");
            rp.addObject().put("name", "line").put("valueInteger", r.line());
            rp.addObject().put("name", "reason").put("valueString", r.reason());
        }
        return p;
    }

    private static String etag(StoredResource r) {
        return "W/\"" + r.versionId() + "\"";
    }

    private static Response served(StoredResource r) {
        return Response.ok(r.content(), FhirMedia.FHIR_JSON)
                .header("ETag", etag(r))
                .lastModified(Date.from(r.lastUpdated()))
                .build();
    }

    private static Response written(UriInfo uri, String tenant, StoredResource r, int status) {
        URI location = uri.getBaseUri().resolve(basePath(tenant) + "/" + r.resourceType() + "/" + r.id()
                + "/_history/" + r.versionId());
        return Response.status(status).entity(r.content()).type(FhirMedia.FHIR_JSON)
                .header("ETag", etag(r))
                .lastModified(Date.from(r.lastUpdated()))
                .location(location)
                .build();
    }

    private ObjectNode responseBundle(UriInfo uri, String tenant, BundleProcessor.BundleResult result) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode b = f.objectNode();
        b.put("resourceType", "Bundle");
        b.put("type", result.kind() == BundleProcessor.Kind.TRANSACTION ? "transaction-response" : "batch-response");
        ArrayNode entries = b.putArray("entry");
        for (BundleProcessor.EntryResult e : result.entries()) {
            ObjectNode entry = entries.addObject();
            ObjectNode resp = entry.putObject("response");
            if (e.error() != null) {
                ApiException ae = StoreExceptionMapper.toApi(e.error());
                resp.put("status", ae.status() + " " + reason(ae.status()));
                resp.set("outcome", io.sluice.fhir.OperationOutcomes.error(ae.issueCode(), ae.getMessage()));
                continue;
            }
            StoredResource s = e.stored();
            if (s == null) { // delete of nothing
                resp.put("status", "204 No Content");
                continue;
            }
            if (s.deleted()) {
                resp.put("status", "204 No Content");
                resp.put("etag", etag(s));
                resp.put("lastModified", DateTimeFormatter.ISO_INSTANT.format(s.lastUpdated()));
                continue;
            }
            String rel = s.resourceType() + "/" + s.id();
            entry.put("fullUrl", uri.getBaseUri().resolve(basePath(tenant) + "/" + rel).toString());
            resp.put("status", e.created() ? "201 Created" : "200 OK");
            resp.put("location", rel + "/_history/" + s.versionId());
            resp.put("etag", etag(s));
            resp.put("lastModified", DateTimeFormatter.ISO_INSTANT.format(s.lastUpdated().atOffset(ZoneOffset.UTC)));
        }
        return b;
    }

    private static String reason(int status) {
        Response.Status s = Response.Status.fromStatusCode(status);
        return s == null ? "" : s.getReasonPhrase();
    }
}
