package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.sluice.fhir.ResourceTypes;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Processes FHIR transaction and batch Bundles.
 * <ul>
 *   <li>transaction: all entries are validated, {@code urn:uuid:}/{@code urn:oid:} fullUrls of POST and
 *       PUT entries are mapped to {@code Type/id} and every {@code reference} element equal to such a
 *       fullUrl, at any depth of any resource, is rewritten; then all writes happen in one database
 *       transaction. Any bad entry fails the whole Bundle and nothing is stored.</li>
 *   <li>batch: each entry is processed on its own, in its own transaction; failures are reported per
 *       entry.</li>
 * </ul>
 * POST entries get a server-assigned id, PUT entries keep theirs (create or update), DELETE entries
 * write a tombstone. Conditional interactions and GET entries are not supported.
 */
@ApplicationScoped
public class BundleProcessor {

    /** What the Bundle asked for. */
    public enum Kind { TRANSACTION, BATCH }

    /**
     * Outcome of one entry.
     *
     * @param method  POST, PUT or DELETE (as requested; null when the request was unreadable)
     * @param stored  the written version; null for a failed entry or a delete of nothing
     * @param created true when the entry created the resource (version 1)
     * @param error   why the entry failed (batch only), else null
     */
    public record EntryResult(String method, StoredResource stored, boolean created, StoreException error) {
    }

    /** Outcome of a Bundle, entries in request order. */
    public record BundleResult(Kind kind, List<EntryResult> entries) {
    }

    private record Planned(String method, PreparedWrite write) {
    }

    private final ResourceStore store;

    public BundleProcessor(ResourceStore store) {
        this.store = store;
    }

    /**
     * Processes a transaction or batch Bundle.
     *
     * @throws StoreException.Invalid (as failure) for a Bundle that is not a transaction/batch, or for a
     *                                transaction with any invalid entry
     */
    public Uni<BundleResult> process(String tenant, ObjectNode bundle) {
        return Uni.createFrom().item(() -> kindOf(bundle)).chain(kind -> kind == Kind.TRANSACTION
                ? transaction(tenant, bundle)
                : batch(tenant, bundle));
    }

    private static Kind kindOf(ObjectNode bundle) {
        String rt = bundle.path("resourceType").asText("");
        if (!"Bundle".equals(rt)) {
            throw new StoreException.Invalid("expected a Bundle, got resourceType '" + rt + "'");
        }
        String type = bundle.path("type").asText("");
        return switch (type) {
            case "transaction" -> Kind.TRANSACTION;
            case "batch" -> Kind.BATCH;
            default -> throw new StoreException.Invalid(
                    "Bundle.type must be 'transaction' or 'batch' to be processed, got '" + type + "'");
        };
    }

    private static List<JsonNode> entries(ObjectNode bundle) {
        JsonNode e = bundle.get("entry");
        if (e == null || e.isNull()) {
            return List.of();
        }
        if (!e.isArray()) {
            throw new StoreException.Invalid("Bundle.entry must be an array");
        }
        List<JsonNode> out = new ArrayList<>();
        e.forEach(out::add);
        return out;
    }

    private Uni<BundleResult> transaction(String tenant, ObjectNode bundle) {
        List<JsonNode> entries = entries(bundle);
        Map<String, String> urnToRef = new HashMap<>();
        List<String[]> targets = new ArrayList<>(); // method, type, id
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < entries.size(); i++) {
            String[] t = target(entries.get(i), i);
            if (!seen.add(t[1] + "/" + t[2])) {
                throw new StoreException.Invalid("entry[" + i + "]: " + t[1] + "/" + t[2]
                        + " occurs more than once in the transaction");
            }
            String fullUrl = entries.get(i).path("fullUrl").asText("");
            if (!t[0].equals("DELETE") && (fullUrl.startsWith("urn:uuid:") || fullUrl.startsWith("urn:oid:"))) {
                if (urnToRef.put(fullUrl, t[1] + "/" + t[2]) != null) {
                    throw new StoreException.Invalid("entry[" + i + "]: fullUrl " + fullUrl + " occurs more than once");
                }
            }
            targets.add(t);
        }
        List<Planned> plans = new ArrayList<>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            String[] t = targets.get(i);
            if (t[0].equals("DELETE")) {
                plans.add(new Planned("DELETE", PreparedWrite.delete(t[1], t[2])));
                continue;
            }
            ObjectNode resource = resource(entries.get(i), i, t);
            rewriteReferences(resource, urnToRef, i);
            plans.add(new Planned(t[0], prepare(resource, t, i)));
        }
        List<PreparedWrite> writes = plans.stream().map(Planned::write).toList();
        return store.writeAll(tenant, writes).map(stored -> {
            List<EntryResult> results = new ArrayList<>(stored.size());
            for (int i = 0; i < stored.size(); i++) {
                StoredResource s = stored.get(i);
                results.add(new EntryResult(plans.get(i).method(), s, s != null && !s.deleted() && s.versionId() == 1, null));
            }
            return new BundleResult(Kind.TRANSACTION, results);
        });
    }

    private Uni<BundleResult> batch(String tenant, ObjectNode bundle) {
        List<JsonNode> entries = entries(bundle);
        List<Integer> indexes = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            indexes.add(i);
        }
        return Multi.createFrom().iterable(indexes)
                .onItem().transformToUniAndConcatenate(i -> batchEntry(tenant, entries.get(i), i))
                .collect().asList()
                .map(list -> new BundleResult(Kind.BATCH, list));
    }

    private Uni<EntryResult> batchEntry(String tenant, JsonNode entry, int i) {
        String method = entry.path("request").path("method").asText(null);
        return Uni.createFrom().item(() -> {
                    String[] t = target(entry, i);
                    if (t[0].equals("DELETE")) {
                        return new Planned("DELETE", PreparedWrite.delete(t[1], t[2]));
                    }
                    return new Planned(t[0], prepare(resource(entry, i, t), t, i));
                })
                .chain(p -> store.writeAll(tenant, List.of(p.write())).map(list -> {
                    StoredResource s = list.get(0);
                    return new EntryResult(p.method(), s, s != null && !s.deleted() && s.versionId() == 1, null);
                }))
                .onFailure(StoreException.class)
                .recoverWithItem(e -> new EntryResult(method, null, false, (StoreException) e));
    }

    /** method, type, id of an entry (a new UUID for POST). */
    private static String[] target(JsonNode entry, int i) {
        if (!entry.isObject()) {
            throw new StoreException.Invalid("entry[" + i + "] is not an object");
        }
        JsonNode request = entry.get("request");
        if (request == null || !request.isObject()) {
            throw new StoreException.Invalid("entry[" + i + "] has no request");
        }
        String method = request.path("method").asText("");
        String url = request.path("url").asText("");
        if (url.isEmpty()) {
            throw new StoreException.Invalid("entry[" + i + "].request.url is missing");
        }
        if (url.contains("?")) {
            throw new StoreException.Invalid("entry[" + i + "]: conditional interactions are not supported (" + url + ")");
        }
        if (request.hasNonNull("ifNoneExist") || request.hasNonNull("ifMatch") || request.hasNonNull("ifNoneMatch")
                || request.hasNonNull("ifModifiedSince")) {
            throw new StoreException.Invalid("entry[" + i + "]: conditional interactions are not supported");
        }
        String[] parts = url.startsWith("/") ? url.substring(1).split("/") : url.split("/");
        switch (method) {
            case "POST" -> {
                if (parts.length != 1) {
                    throw new StoreException.Invalid("entry[" + i + "]: POST url must be a resource type, got '" + url + "'");
                }
                checkType(parts[0], i);
                return new String[]{"POST", parts[0], UUID.randomUUID().toString()};
            }
            case "PUT", "DELETE" -> {
                if (parts.length != 2) {
                    throw new StoreException.Invalid("entry[" + i + "]: " + method + " url must be Type/id, got '" + url + "'");
                }
                checkType(parts[0], i);
                if (!ResourceTypes.isValidId(parts[1])) {
                    throw new StoreException.Invalid("entry[" + i + "]: invalid id '" + parts[1] + "'");
                }
                return new String[]{method, parts[0], parts[1]};
            }
            default -> throw new StoreException.Invalid("entry[" + i + "]: request.method '" + method
                    + "' is not supported (POST, PUT, DELETE)");
        }
    }

    private static void checkType(String type, int i) {
        if (!ResourceTypes.isKnown(type)) {
            throw new StoreException.Invalid("entry[" + i + "]: unknown resource type '" + type + "'");
        }
    }

    private static ObjectNode resource(JsonNode entry, int i, String[] t) {
        JsonNode r = entry.get("resource");
        if (r == null || !r.isObject()) {
            throw new StoreException.Invalid("entry[" + i + "]: " + t[0] + " needs a resource");
        }
        return ((ObjectNode) r).deepCopy();
    }

    private static PreparedWrite prepare(ObjectNode resource, String[] t, int i) {
        try {
            String bodyType = ResourcePreparer.resourceType(resource);
            if (!bodyType.equals(t[1])) {
                throw new StoreException.Invalid("resourceType '" + bodyType + "' does not match request.url type '" + t[1] + "'");
            }
            if (t[0].equals("PUT")) {
                String bodyId = ResourcePreparer.idOf(resource);
                if (bodyId != null && !bodyId.equals(t[2])) {
                    throw new StoreException.Invalid("resource id '" + bodyId + "' does not match request.url id '" + t[2] + "'");
                }
            }
            return ResourcePreparer.prepare(t[1], t[2], resource);
        } catch (StoreException.Invalid e) {
            throw new StoreException.Invalid("entry[" + i + "]: " + e.getMessage());
        }
    }

    /** Rewrites every {@code reference} element that names a Bundle-local urn; an unknown urn is an error. */
    private static void rewriteReferences(JsonNode node, Map<String, String> urnToRef, int i) {
        if (node.isObject()) {
            ObjectNode o = (ObjectNode) node;
            Iterator<Map.Entry<String, JsonNode>> it = o.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                if (e.getKey().equals("reference") && v.isTextual()) {
                    String ref = v.textValue();
                    if (ref.startsWith("urn:uuid:") || ref.startsWith("urn:oid:")) {
                        String to = urnToRef.get(ref);
                        if (to == null) {
                            throw new StoreException.Invalid("entry[" + i + "]: reference " + ref
                                    + " does not match the fullUrl of any POST or PUT entry of the transaction");
                        }
                        e.setValue(TextNode.valueOf(to));
                    }
                } else if (v.isContainerNode()) {
                    rewriteReferences(v, urnToRef, i);
                }
            }
        } else if (node.isArray()) {
            for (JsonNode n : node) {
                rewriteReferences(n, urnToRef, i);
            }
        }
    }
}
