package io.sluice.fhir;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The FHIR R4 Patient compartment (CompartmentDefinition "patient", 4.0.1): for every resource type
 * in it, the search parameters that make a resource a member, resolved to the JSON element path(s)
 * of that search parameter's R4 expression. {@code .where(resolve() is Patient)} filters are applied
 * by only counting references that point at a Patient. A Patient is a member of its own compartment.
 * Pure: no state, no I/O.
 */
public final class PatientCompartment {

    /** One compartment search parameter of a resource type and the dot-separated element path it reads. */
    public record Param(String name, String path) {
    }

    /** Compartment parameters by resource type (R4 CompartmentDefinition patient). */
    public static final Map<String, List<Param>> PARAMS = Map.ofEntries(
            Map.entry("Account", List.of(new Param("subject", "subject"))),
            Map.entry("AdverseEvent", List.of(new Param("subject", "subject"))),
            Map.entry("AllergyIntolerance", List.of(new Param("asserter", "asserter"), new Param("patient", "patient"), new Param("recorder", "recorder"))),
            Map.entry("Appointment", List.of(new Param("actor", "participant.actor"))),
            Map.entry("AppointmentResponse", List.of(new Param("actor", "actor"))),
            Map.entry("AuditEvent", List.of(new Param("patient", "agent.who"), new Param("patient", "entity.what"))),
            Map.entry("Basic", List.of(new Param("author", "author"), new Param("patient", "subject"))),
            Map.entry("BodyStructure", List.of(new Param("patient", "patient"))),
            Map.entry("CarePlan", List.of(new Param("patient", "subject"), new Param("performer", "activity.detail.performer"))),
            Map.entry("CareTeam", List.of(new Param("participant", "participant.member"), new Param("patient", "subject"))),
            Map.entry("ChargeItem", List.of(new Param("subject", "subject"))),
            Map.entry("Claim", List.of(new Param("patient", "patient"), new Param("payee", "payee.party"))),
            Map.entry("ClaimResponse", List.of(new Param("patient", "patient"))),
            Map.entry("ClinicalImpression", List.of(new Param("subject", "subject"))),
            Map.entry("Communication", List.of(new Param("recipient", "recipient"), new Param("sender", "sender"), new Param("subject", "subject"))),
            Map.entry("CommunicationRequest", List.of(new Param("recipient", "recipient"), new Param("requester", "requester"), new Param("sender", "sender"), new Param("subject", "subject"))),
            Map.entry("Composition", List.of(new Param("attester", "attester.party"), new Param("author", "author"), new Param("subject", "subject"))),
            Map.entry("Condition", List.of(new Param("asserter", "asserter"), new Param("patient", "subject"))),
            Map.entry("Consent", List.of(new Param("patient", "patient"))),
            Map.entry("Coverage", List.of(new Param("beneficiary", "beneficiary"), new Param("payor", "payor"), new Param("policy-holder", "policyHolder"), new Param("subscriber", "subscriber"))),
            Map.entry("CoverageEligibilityRequest", List.of(new Param("patient", "patient"))),
            Map.entry("CoverageEligibilityResponse", List.of(new Param("patient", "patient"))),
            Map.entry("DetectedIssue", List.of(new Param("patient", "patient"))),
            Map.entry("Device", List.of(new Param("patient", "patient"))),
            Map.entry("DeviceRequest", List.of(new Param("performer", "performer"), new Param("subject", "subject"))),
            Map.entry("DeviceUseStatement", List.of(new Param("subject", "subject"))),
            Map.entry("DiagnosticReport", List.of(new Param("subject", "subject"))),
            Map.entry("DocumentManifest", List.of(new Param("author", "author"), new Param("recipient", "recipient"), new Param("subject", "subject"))),
            Map.entry("DocumentReference", List.of(new Param("author", "author"), new Param("subject", "subject"))),
            Map.entry("Encounter", List.of(new Param("patient", "subject"))),
            Map.entry("EnrollmentRequest", List.of(new Param("subject", "candidate"))),
            Map.entry("EpisodeOfCare", List.of(new Param("patient", "patient"))),
            Map.entry("ExplanationOfBenefit", List.of(new Param("patient", "patient"), new Param("payee", "payee.party"))),
            Map.entry("FamilyMemberHistory", List.of(new Param("patient", "patient"))),
            Map.entry("Flag", List.of(new Param("patient", "subject"))),
            Map.entry("Goal", List.of(new Param("patient", "subject"))),
            Map.entry("Group", List.of(new Param("member", "member.entity"))),
            Map.entry("ImagingStudy", List.of(new Param("patient", "subject"))),
            Map.entry("Immunization", List.of(new Param("patient", "patient"))),
            Map.entry("ImmunizationEvaluation", List.of(new Param("patient", "patient"))),
            Map.entry("ImmunizationRecommendation", List.of(new Param("patient", "patient"))),
            Map.entry("Invoice", List.of(new Param("patient", "subject"), new Param("recipient", "recipient"), new Param("subject", "subject"))),
            Map.entry("List", List.of(new Param("source", "source"), new Param("subject", "subject"))),
            Map.entry("MeasureReport", List.of(new Param("patient", "subject"))),
            Map.entry("Media", List.of(new Param("subject", "subject"))),
            Map.entry("MedicationAdministration", List.of(new Param("patient", "subject"), new Param("performer", "performer.actor"), new Param("subject", "subject"))),
            Map.entry("MedicationDispense", List.of(new Param("patient", "subject"), new Param("receiver", "receiver"), new Param("subject", "subject"))),
            Map.entry("MedicationRequest", List.of(new Param("subject", "subject"))),
            Map.entry("MedicationStatement", List.of(new Param("subject", "subject"))),
            Map.entry("MolecularSequence", List.of(new Param("patient", "patient"))),
            Map.entry("NutritionOrder", List.of(new Param("patient", "patient"))),
            Map.entry("Observation", List.of(new Param("performer", "performer"), new Param("subject", "subject"))),
            Map.entry("Patient", List.of(new Param("link", "link.other"))),
            Map.entry("Person", List.of(new Param("patient", "link.target"))),
            Map.entry("Procedure", List.of(new Param("patient", "subject"), new Param("performer", "performer.actor"))),
            Map.entry("Provenance", List.of(new Param("patient", "target"))),
            Map.entry("QuestionnaireResponse", List.of(new Param("author", "author"), new Param("subject", "subject"))),
            Map.entry("RelatedPerson", List.of(new Param("patient", "patient"))),
            Map.entry("RequestGroup", List.of(new Param("participant", "action.participant"), new Param("subject", "subject"))),
            Map.entry("ResearchSubject", List.of(new Param("individual", "individual"))),
            Map.entry("RiskAssessment", List.of(new Param("subject", "subject"))),
            Map.entry("Schedule", List.of(new Param("actor", "actor"))),
            Map.entry("ServiceRequest", List.of(new Param("performer", "performer"), new Param("subject", "subject"))),
            Map.entry("Specimen", List.of(new Param("subject", "subject"))),
            Map.entry("SupplyDelivery", List.of(new Param("patient", "patient"))),
            Map.entry("SupplyRequest", List.of(new Param("subject", "deliverTo"))),
            Map.entry("VisionPrescription", List.of(new Param("patient", "patient"))));

    /** The element paths of {@link #PARAMS} per type as trees of field names, for {@link #scan}. */
    private static final Map<String, PathTree> TREES = trees();

    private PatientCompartment() {
    }

    /** True when resources of this type can be members of a Patient compartment. */
    public static boolean isCompartmentType(String resourceType) {
        return "Patient".equals(resourceType) || PARAMS.containsKey(resourceType);
    }

    /** The compartment parameters of a type; empty when the type is not in the compartment. */
    public static List<Param> params(String resourceType) {
        return PARAMS.getOrDefault(resourceType, List.of());
    }

    /**
     * Ids of the Patients whose compartment the resource belongs to, in first-seen order: the parsed tree
     * read by the same walk as {@link #scan}, so both forms follow one rule.
     *
     * @param resourceType the resource's type
     * @param id           the resource's id (a Patient is in its own compartment)
     * @param resource     the resource JSON
     */
    public static Set<String> patientIds(String resourceType, String id, JsonNode resource) {
        try (JsonParser tree = resource.traverse()) {
            Set<String> ids = scan(resourceType, id, tree, null);
            return ids == null ? Set.of() : ids;
        } catch (IOException e) {
            throw new UncheckedIOException("reading a parsed JSON tree", e); // a tree is well-formed
        }
    }

    /**
     * The Patient id a reference string points to: {@code Patient/x}, {@code Patient/x/_history/n}
     * or an absolute URL ending in one of those; null for anything else (other types, contained
     * {@code #x}, {@code urn:} references, malformed ids).
     */
    public static String patientId(String reference) {
        if (reference == null) {
            return null;
        }
        String r = reference;
        int hist = r.indexOf("/_history/");
        if (hist >= 0) {
            r = r.substring(0, hist);
        }
        int slash = r.lastIndexOf('/');
        if (slash <= 0) {
            return null;
        }
        String id = r.substring(slash + 1);
        int typeStart = r.lastIndexOf('/', slash - 1) + 1;
        String type = r.substring(typeStart, slash);
        if (!"Patient".equals(type) || !ResourceTypes.isValidId(id)) {
            return null;
        }
        return id;
    }

    /**
     * Reads one JSON object from {@code parser} (a streaming parse, no tree is built) and returns the ids of
     * the Patients whose compartment it belongs to, in first-seen order. The whole object is read, so its syntax (and duplicate keys, when the parser
     * detects them) is checked. Returns null, without reading further, when the object has a top-level field
     * named {@code stopAt} (null: none), or when the text does not start with an object.
     *
     * @throws IOException when the text is not well-formed JSON
     */
    public static Set<String> scan(String resourceType, String id, JsonParser parser, String stopAt) throws IOException {
        if (parser.nextToken() != JsonToken.START_OBJECT) {
            return null;
        }
        Set<String> ids = new LinkedHashSet<>(4);
        if ("Patient".equals(resourceType) && id != null) {
            ids.add(id);
        }
        PathTree root = tree(resourceType);
        JsonToken t;
        while ((t = parser.nextToken()) == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            if (name.equals(stopAt)) { // never for a null stopAt
                return null;
            }
            scanValue(parser, parser.nextToken(), root.children.get(name), ids);
        }
        if (t != JsonToken.END_OBJECT) {
            throw new IOException("unexpected " + t);
        }
        return ids;
    }

    /** Field names leading to compartment references, and whether a reference is read at this node. */
    static final class PathTree {
        static final PathTree EMPTY = new PathTree();
        final Map<String, PathTree> children = new HashMap<>();
        boolean reference;
        /** The children's names as UTF-8 and the children, in the same order (for byte-level readers). */
        private byte[][] names = new byte[0][];
        private PathTree[] nodes = new PathTree[0];

        /** The child named by the bytes {@code from} to {@code to} of {@code utf8}, or null. */
        PathTree child(byte[] utf8, int from, int to) {
            for (int i = 0; i < names.length; i++) {
                if (Arrays.equals(utf8, from, to, names[i], 0, names[i].length)) {
                    return nodes[i];
                }
            }
            return null;
        }

        /** Fills the byte-level view of the children, here and below. */
        void index() {
            names = new byte[children.size()][];
            nodes = new PathTree[children.size()];
            int i = 0;
            for (Map.Entry<String, PathTree> e : children.entrySet()) {
                names[i] = e.getKey().getBytes(StandardCharsets.UTF_8);
                nodes[i] = e.getValue();
                e.getValue().index();
                i++;
            }
        }
    }

    /** The compartment paths of a type as a tree of field names (empty for types outside the compartment). */
    static PathTree tree(String resourceType) {
        return TREES.getOrDefault(resourceType, PathTree.EMPTY);
    }

    private static Map<String, PathTree> trees() {
        Map<String, PathTree> trees = new HashMap<>();
        PARAMS.forEach((type, params) -> {
            PathTree root = new PathTree();
            for (Param p : params) {
                PathTree node = root;
                for (String step : p.path().split("\\.")) {
                    node = node.children.computeIfAbsent(step, k -> new PathTree());
                }
                node.reference = true;
            }
            root.index();
            trees.put(type, root);
        });
        return trees;
    }

    /**
     * Reads the value starting at {@code t}: arrays are walked element by element (at any depth of a path,
     * nested arrays too), objects on a path are descended, {@code reference} strings of the objects at a
     * path's end collected (only Patient references count); everything else is read past. {@code node} is
     * null off the paths.
     */
    private static void scanValue(JsonParser p, JsonToken t, PathTree node, Set<String> out) throws IOException {
        if (t == JsonToken.START_ARRAY) {
            JsonToken e;
            while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
                scanValue(p, e, node, out);
            }
        } else if (t == JsonToken.START_OBJECT) {
            JsonToken f;
            while ((f = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (node != null && node.reference && v == JsonToken.VALUE_STRING && name.equals("reference")) {
                    String pid = patientId(p.getText());
                    if (pid != null) {
                        out.add(pid);
                    }
                } else {
                    scanValue(p, v, node == null ? null : node.children.get(name), out);
                }
            }
            if (f != JsonToken.END_OBJECT) {
                throw new IOException("unexpected " + f);
            }
        } else if (t == JsonToken.VALUE_NUMBER_FLOAT) {
            checkExponent(p);
        } else if (t == null) {
            throw new IOException("unexpected end of input");
        }
    }

    /**
     * The tree reads decimals as BigDecimal, which refuses exponents beyond its range ({@code 1e9999999999});
     * a streaming read must refuse the same numbers, so those with an exponent are converted too.
     */
    private static void checkExponent(JsonParser p) throws IOException {
        String s = p.getText();
        if (s.indexOf('e') >= 0 || s.indexOf('E') >= 0) {
            p.getDecimalValue();
        }
    }
}
