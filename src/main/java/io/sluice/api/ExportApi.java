package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.sluice.auth.PublicUrls;
import io.sluice.config.ApiConfig;
import io.sluice.config.ExportConfig;
import io.sluice.fhir.OperationOutcomes;
import io.sluice.job.ExportJobView;
import io.sluice.job.ExportLevel;
import io.sluice.job.ExportRequest;
import io.sluice.job.ExportService;
import io.sluice.job.JobStatus;
import io.sluice.job.KickoffGate;
import io.sluice.job.NewExportJob;
import io.sluice.job.TooManyJobsException;
import io.sluice.output.OutputStore;
import io.sluice.store.GroupLookup;
import io.vertx.mutiny.core.buffer.Buffer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Bulk Data {@code $export} protocol over the job engine: kick-off, status/manifest, cancel and
 * file download. The JAX-RS classes {@link DefaultTenantExportResource} and
 * {@link TenantExportResource} only bind paths and delegate here.
 *
 * <p>URL scheme under a FHIR base: {@code $export-status/{jobId}} (status, DELETE cancels) and
 * {@code $export-file/{jobId}/{kind}-{type}-{index}.ndjson} (kind output, error or deleted).
 */
@ApplicationScoped
public class ExportApi {

    /** One request's routing context. */
    public record Call(String tenant, boolean tenantPath, UriInfo uri, HttpHeaders headers) {
    }

    static final String FHIR_JSON = "application/fhir+json";
    static final String NDJSON = "application/fhir+ndjson";
    private static final Pattern FILE_NAME = Pattern.compile("^(output|error|deleted)-([A-Z][A-Za-z]{1,63})-(\\d{1,9})\\.ndjson$");
    private static final Pattern RANGE = Pattern.compile("^bytes=(\\d*)-(\\d*)$");

    private final ExportService service;
    private final KickoffGate gate;
    private final GroupLookup groups;
    private final OutputStore outputs;
    private final ApiConfig apiConfig;
    private final PublicUrls urls;
    private final ExportConfig exportConfig;
    private final AccessPolicy access;
    private final ObjectMapper mapper;
    private final KickoffParameters parameters = new KickoffParameters(io.sluice.fhir.ResourceTypes::isKnown);

    public ExportApi(ExportService service, KickoffGate gate, GroupLookup groups, OutputStore outputs,
                     ApiConfig apiConfig, PublicUrls urls, ExportConfig exportConfig, AccessPolicy access, ObjectMapper mapper) {
        this.service = service;
        this.gate = gate;
        this.groups = groups;
        this.outputs = outputs;
        this.apiConfig = apiConfig;
        this.urls = urls;
        this.exportConfig = exportConfig;
        this.access = access;
        this.mapper = mapper;
    }

    // ------------------------------------------------------------------ kick-off

    /** {@code GET|POST [base]/$export}, {@code [base]/Patient/$export}, {@code [base]/Group/{id}/$export}. */
    public Uni<Response> kickoff(Call call, ExportLevel level, String groupId, boolean post, String body) {
        return Uni.createFrom().item(() -> prepare(call, level, groupId, post, body))
                .chain(job -> level == ExportLevel.GROUP
                        ? groups.exists(call.tenant(), groupId).chain(found -> found
                                ? Uni.createFrom().item(job)
                                : Uni.createFrom().failure(ApiException.notFound("Group/" + groupId + " not found")))
                        : Uni.createFrom().item(job))
                .chain(gate::create)
                .onFailure(TooManyJobsException.class).transform(e -> new ApiException(429, "throttled", e.getMessage(),
                        Map.of("Retry-After", String.valueOf(Math.max(1, apiConfig.kickoffRetryAfter().toSeconds())))))
                .map(view -> {
                    String status = BaseUrls.of(urls, call.uri(), call.headers()).fhirBase(call.tenant(), call.tenantPath())
                            + "/$export-status/" + view.id();
                    ObjectNode oo = OperationOutcomes.of("information", "informational",
                            "Export accepted; poll " + status + " for its status");
                    return Response.accepted(oo).type(FHIR_JSON).header("Content-Location", status).build();
                });
    }

    private NewExportJob prepare(Call call, ExportLevel level, String groupId, boolean post, String body) {
        Prefer prefer = Prefer.parse(call.headers().getRequestHeader("Prefer"));
        if (!prefer.respondAsync()) {
            throw ApiException.badRequest("$export needs the header 'Prefer: respond-async'");
        }
        checkAccept(call.headers().getRequestHeader("Accept"));
        if (level == ExportLevel.GROUP && (groupId == null || !groupId.matches("[A-Za-z0-9\\-.]{1,64}"))) {
            throw ApiException.notFound("Group/" + groupId + " not found");
        }
        List<KickoffParameters.Raw> raw = new ArrayList<>();
        if (post) {
            if (!call.uri().getQueryParameters().isEmpty()) {
                throw ApiException.badRequest("POST $export takes its parameters in the Parameters body, not the query string");
            }
            String ct = call.headers().getHeaderString("Content-Type");
            if (ct != null && !ct.toLowerCase().contains("json")) {
                throw new ApiException(415, "not-supported", "POST $export needs a Parameters body as application/fhir+json, not " + ct);
            }
            JsonNode node;
            try {
                node = body == null || body.isBlank() ? null : mapper.readTree(body);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw ApiException.badRequest("POST $export body is not JSON: " + e.getOriginalMessage());
            }
            raw.addAll(KickoffParameters.fromParametersResource(node));
        } else {
            call.uri().getQueryParameters().forEach((name, values) -> values.forEach(v -> raw.add(KickoffParameters.Raw.of(name, v))));
        }
        ExportRequest request = access.narrow(parameters.parse(level, post, raw, prefer.lenient()), prefer.lenient());
        String requestUrl = BaseUrls.of(urls, call.uri(), call.headers()).requestUrl();
        return new NewExportJob(call.tenant(), level, level == ExportLevel.GROUP ? groupId : null, request, requestUrl,
                access.owner());
    }

    static void checkAccept(List<String> accept) {
        if (accept == null || accept.isEmpty()) {
            return;
        }
        List<String> ranges = new ArrayList<>();
        for (String header : accept) {
            for (String r : header.split(",")) {
                String type = r.split(";", 2)[0].trim().toLowerCase();
                if (!type.isEmpty()) {
                    ranges.add(type);
                }
            }
        }
        if (ranges.isEmpty()) {
            return;
        }
        for (String t : ranges) {
            if (t.equals("*/*") || t.equals("application/*") || t.equals(FHIR_JSON) || t.equals("application/json")
                    || t.equals("application/json+fhir")) {
                return;
            }
        }
        throw new ApiException(406, "not-supported", "Accept '" + String.join(", ", accept)
                + "' is not supported; $export answers application/fhir+json");
    }

    /** The Prefer header's respond-async and handling preferences. */
    record Prefer(boolean respondAsync, boolean lenient) {
        static Prefer parse(List<String> headers) {
            boolean async = false;
            boolean lenient = false;
            if (headers != null) {
                for (String h : headers) {
                    for (String token : h.split("[,;]")) {
                        String t = token.trim().toLowerCase().replace(" ", "");
                        if (t.equals("respond-async")) {
                            async = true;
                        } else if (t.equals("handling=lenient") || t.equals("handling=\"lenient\"")) {
                            lenient = true;
                        } else if (t.equals("handling=strict") || t.equals("handling=\"strict\"")) {
                            lenient = false;
                        }
                    }
                }
            }
            return new Prefer(async, lenient);
        }
    }

    // ------------------------------------------------------------------ status

    /** {@code GET [base]/$export-status/{jobId}}. */
    public Uni<Response> status(Call call, String jobId) {
        return findVisible(call.tenant(), access.owner(), jobId).chain(view -> publicUrls(view).map(urls -> switch (view.status()) {
            case ACCEPTED, IN_PROGRESS -> Response.accepted()
                    .header("X-Progress", progress(view))
                    .header("Retry-After", String.valueOf(Math.max(1, apiConfig.statusRetryAfter().toSeconds())))
                    .build();
            case ERROR -> Response.serverError().type(FHIR_JSON)
                    .entity(OperationOutcomes.error("exception", "Export " + view.id() + " failed: "
                            + (view.errorMessage() == null ? "no reason recorded" : view.errorMessage())))
                    .build();
            case COMPLETE -> Response.ok(manifest(call, view, urls)).type("application/json")
                    .header("Expires", DateTimeFormatter.RFC_1123_DATE_TIME.format(
                            expiry(view).atOffset(ZoneOffset.UTC)))
                    .build();
            case CANCELLED -> throw notFound(jobId);
        }));
    }

    /**
     * Direct download URLs of a complete job's files by location, when the output store hands them
     * out (presigned S3 URLs), valid no longer than the job's remaining retention; empty otherwise.
     */
    private Uni<Map<String, String>> publicUrls(ExportJobView view) {
        if (view.status() != JobStatus.COMPLETE || view.parts() == null || view.parts().isEmpty()) {
            return Uni.createFrom().item(Map.of());
        }
        java.time.Duration remaining = java.time.Duration.between(Instant.now(), expiry(view));
        Map<String, String> urls = new java.util.concurrent.ConcurrentHashMap<>();
        return Multi.createFrom().iterable(view.parts())
                .onItem().transformToUniAndConcatenate(p -> outputs.publicUrl(p.location(), remaining)
                        .invoke(u -> u.ifPresent(url -> urls.put(p.location(), url))))
                .collect().last()
                .map(x -> urls);
    }

    /** {@code DELETE [base]/$export-status/{jobId}}: cancels (or discards) the job and its files. */
    public Uni<Response> cancel(Call call, String jobId) {
        UUID id = parseId(jobId);
        return service.cancel(call.tenant(), id, access.owner()).map(done -> {
            if (!done) {
                throw notFound(jobId);
            }
            return Response.accepted(OperationOutcomes.of("information", "informational",
                    "Export " + id + " cancelled; its files are deleted")).type(FHIR_JSON).build();
        });
    }

    private Uni<ExportJobView> findVisible(String tenant, String owner, String jobId) {
        UUID id = parseId(jobId);
        return service.find(tenant, id, owner).map(found -> {
            ExportJobView view = found.orElseThrow(() -> notFound(jobId));
            if (view.status() == JobStatus.CANCELLED
                    || (view.status().isFinal() && view.completedAt() != null && expiry(view).isBefore(Instant.now()))) {
                throw notFound(jobId);
            }
            return view;
        });
    }

    private Instant expiry(ExportJobView view) {
        Instant done = view.completedAt() != null ? view.completedAt() : Instant.now();
        return done.plus(exportConfig.retention());
    }

    private static UUID parseId(String jobId) {
        try {
            if (jobId != null && jobId.length() == 36) {
                return UUID.fromString(jobId);
            }
        } catch (IllegalArgumentException ignored) {
            // falls through to 404
        }
        throw notFound(jobId);
    }

    private static ApiException notFound(String jobId) {
        return ApiException.notFound("No export job '" + jobId + "' here (unknown, cancelled or expired)");
    }

    /** The X-Progress text: types done of total, resources exported and a percentage when totals are known. */
    static String progress(ExportJobView view) {
        if (view.status() == JobStatus.ACCEPTED || view.progress() == null || view.progress().isEmpty()) {
            return "accepted, waiting for a worker (0 resources exported)";
        }
        long done = view.progress().stream().filter(ExportJobView.TypeProgress::done).count();
        long exported = view.progress().stream().mapToLong(ExportJobView.TypeProgress::exported).sum();
        boolean totalsKnown = view.progress().stream().allMatch(p -> p.total() != null);
        StringBuilder s = new StringBuilder("in progress: ").append(done).append(" of ").append(view.progress().size())
                .append(" types done, ").append(exported).append(" resources exported");
        if (totalsKnown) {
            long total = view.progress().stream().mapToLong(ExportJobView.TypeProgress::total).sum();
            long percent = total == 0 ? 100 : Math.min(100, exported * 100 / total);
            s.append(" of ").append(total).append(" (").append(percent).append("%)");
        }
        return s.toString();
    }

    private ObjectNode manifest(Call call, ExportJobView view, Map<String, String> publicUrls) {
        String base = BaseUrls.of(urls, call.uri(), call.headers()).fhirBase(call.tenant(), call.tenantPath());
        ObjectNode m = mapper.createObjectNode();
        m.put("transactionTime", DateTimeFormatter.ISO_INSTANT.format(view.transactionTime()));
        m.put("request", view.requestUrl());
        List<ExportJobView.Part> parts = new ArrayList<>(view.parts() == null ? List.of() : view.parts());
        // presigned URLs carry their own authorization: no bearer token needed when every file has one
        boolean allPublic = !parts.isEmpty() && parts.stream().allMatch(p -> publicUrls.containsKey(p.location()));
        m.put("requiresAccessToken", access.requiresAccessToken() && !allPublic);
        ArrayNode output = m.putArray("output");
        ArrayNode deleted = view.request() != null && view.request().since() != null ? m.putArray("deleted") : null;
        ArrayNode error = m.putArray("error");
        parts.sort(Comparator.comparing(ExportJobView.Part::kind).thenComparing(ExportJobView.Part::resourceType)
                .thenComparingInt(ExportJobView.Part::partIndex));
        for (ExportJobView.Part p : parts) {
            ArrayNode target = switch (p.kind()) {
                case "output" -> output;
                case "error" -> error;
                case "deleted" -> deleted != null ? deleted : m.withArray("deleted");
                default -> null;
            };
            if (target == null) {
                continue;
            }
            ObjectNode entry = target.addObject();
            entry.put("type", manifestType(p));
            entry.put("url", publicUrls.getOrDefault(p.location(), base + "/$export-file/" + view.id() + "/" + fileName(p)));
            entry.put("count", p.resourceCount());
        }
        // keep the documented key order: output, deleted, error
        if (m.has("deleted")) {
            JsonNode e = m.remove("error");
            m.set("error", e);
        }
        return m;
    }

    private static String manifestType(ExportJobView.Part p) {
        return switch (p.kind()) {
            case "error" -> "OperationOutcome";
            case "deleted" -> "Bundle";
            default -> p.resourceType();
        };
    }

    /** The file name of a part in its URL. */
    static String fileName(ExportJobView.Part p) {
        return p.kind() + "-" + p.resourceType() + "-" + p.partIndex() + ".ndjson";
    }

    // ------------------------------------------------------------------ files

    /** A download's status, headers and body. */
    public record Download(int status, Map<String, List<String>> headers, Multi<Buffer> body) {
    }

    /**
     * {@code GET [base]/$export-file/{jobId}/{fileName}}: what to send for a recorded part (see
     * {@link ExportFileRoute}, which streams it).
     *
     * @param header the request's values of a header name (empty list when absent)
     */
    public Uni<Download> download(String tenant, String owner, String jobId, String fileName,
                                  Function<String, List<String>> header) {
        return Uni.createFrom().deferred(() -> {
            Matcher m = fileName == null ? null : FILE_NAME.matcher(fileName);
            if (m == null || !m.matches()) {
                throw ApiException.notFound("No export file '" + fileName + "'");
            }
            return findVisible(tenant, owner, jobId).chain(view -> {
                if (view.status() != JobStatus.COMPLETE) {
                    throw ApiException.notFound("Export " + jobId + " has no files yet");
                }
                Optional<ExportJobView.Part> part = view.parts().stream()
                        .filter(p -> p.kind().equals(m.group(1)) && p.resourceType().equals(m.group(2))
                                && p.partIndex() == Integer.parseInt(m.group(3)))
                        .findFirst();
                if (part.isEmpty()) {
                    throw ApiException.notFound("No export file '" + fileName + "' in job " + jobId);
                }
                return outputs.size(part.get().location()).map(size -> serve(header, part.get(), size
                        .orElseThrow(() -> ApiException.notFound("Export file '" + fileName + "' is gone"))));
            });
        }).onFailure(ApiException.class).recoverWithItem(e -> errorDownload((ApiException) e));
    }

    private static String first(Function<String, List<String>> header, String name) {
        List<String> v = header.apply(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    private Download serve(Function<String, List<String>> header, ExportJobView.Part part, long size) {
        Map<String, List<String>> h = new LinkedHashMap<>();
        String etag = "\"" + part.sha256() + "\"";
        h.put("Content-Type", List.of(NDJSON));
        h.put("ETag", List.of(etag));
        h.put("Accept-Ranges", List.of("bytes"));
        h.put("Vary", List.of("Accept-Encoding"));
        h.put("Cache-Control", List.of("private, no-transform"));
        String inm = first(header, "If-None-Match");
        if (inm != null && (inm.trim().equals("*") || List.of(inm.split(",")).stream().map(String::trim).anyMatch(etag::equals))) {
            return new Download(304, h, Multi.createFrom().empty());
        }
        String range = first(header, "Range");
        if (range != null) {
            Matcher rm = RANGE.matcher(range.trim());
            if (rm.matches() && !(rm.group(1).isEmpty() && rm.group(2).isEmpty())) {
                long start;
                long end;
                try {
                    if (rm.group(1).isEmpty()) {
                        long suffix = Long.parseLong(rm.group(2));
                        start = Math.max(0, size - suffix);
                        end = size - 1;
                        if (suffix == 0) {
                            start = size;
                        }
                    } else {
                        start = Long.parseLong(rm.group(1));
                        end = rm.group(2).isEmpty() ? size - 1 : Math.min(size - 1, Long.parseLong(rm.group(2)));
                    }
                } catch (NumberFormatException e) {
                    start = -1;
                    end = -1;
                }
                if (start >= 0 && (start >= size || end < start)) {
                    ObjectNode oo = OperationOutcomes.error("invalid", "Range '" + range + "' is outside the file's " + size + " bytes");
                    Map<String, List<String>> eh = new LinkedHashMap<>();
                    eh.put("Content-Type", List.of(FHIR_JSON));
                    eh.put("Content-Range", List.of("bytes */" + size));
                    return new Download(416, eh, Multi.createFrom().item(Buffer.buffer(oo.toString())));
                }
                if (start >= 0) {
                    h.put("Content-Range", List.of("bytes " + start + "-" + end + "/" + size));
                    h.put("Content-Length", List.of(String.valueOf(end - start + 1)));
                    return new Download(206, h, outputs.read(part.location(), start, end - start + 1));
                }
            }
            // a Range we do not understand (several ranges, other units) is ignored: the whole file follows
        }
        if (acceptsGzip(header.apply("Accept-Encoding"))) {
            h.put("Content-Encoding", List.of("gzip"));
            return new Download(200, h, GzipStream.compress(outputs.read(part.location(), 0, -1)));
        }
        h.put("Content-Length", List.of(String.valueOf(size)));
        return new Download(200, h, outputs.read(part.location(), 0, -1));
    }

    static boolean acceptsGzip(List<String> headers) {
        if (headers == null) {
            return false;
        }
        for (String header : headers) {
            for (String coding : header.split(",")) {
                String[] parts = coding.split(";");
                String name = parts[0].trim().toLowerCase();
                if (!name.equals("gzip") && !name.equals("x-gzip")) {
                    continue;
                }
                boolean zero = false;
                for (int i = 1; i < parts.length; i++) {
                    String p = parts[i].trim().toLowerCase().replace(" ", "");
                    if (p.matches("q=0(\\.0{0,3})?")) {
                        zero = true;
                    }
                }
                if (!zero) {
                    return true;
                }
            }
        }
        return false;
    }

    static Download errorDownload(ApiException e) {
        Map<String, List<String>> h = new LinkedHashMap<>();
        h.put("Content-Type", List.of(FHIR_JSON));
        e.headers().forEach((k, v) -> h.put(k, List.of(v)));
        return new Download(e.status(), h,
                Multi.createFrom().item(Buffer.buffer(OperationOutcomes.error(e.issueCode(), e.getMessage()).toString())));
    }
}
