package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.sluice.support.PostgresTestResource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static io.restassured.RestAssured.given;
import static io.sluice.api.BulkClient.complete;
import static io.sluice.api.BulkClient.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exports the shared Synthea sample (100 patients, 38,473 resources) ingested through
 * {@code $ingest}: exact counts per type, R4 validity of a sample of every file, and Patient/Group
 * output equal to the compartments computed independently from the raw references.
 * Skipped when the data directory is absent.
 */
@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
class SyntheaExportTest {

    static final String TENANT = "synthea-api";
    static final String GROUP_ID = "d9f31445-f448-48c0-af57-295c005e07df";
    static final Map<String, Long> README_COUNTS = new TreeMap<>(Map.ofEntries(
            Map.entry("Observation", 16315L), Map.entry("Claim", 6083L), Map.entry("Encounter", 3697L),
            Map.entry("ExplanationOfBenefit", 3697L), Map.entry("MedicationRequest", 2386L), Map.entry("Procedure", 2351L),
            Map.entry("Immunization", 1287L), Map.entry("DiagnosticReport", 897L), Map.entry("Condition", 639L),
            Map.entry("CarePlan", 278L), Map.entry("CareTeam", 278L), Map.entry("Organization", 203L),
            Map.entry("Practitioner", 203L), Map.entry("Patient", 100L), Map.entry("AllergyIntolerance", 38L),
            Map.entry("ImagingStudy", 16L), Map.entry("Device", 4L), Map.entry("Group", 1L)));

    static boolean loaded;
    /** Resource references (Type/id) per patient id, from the raw files. */
    static final Map<String, Set<String>> COMPARTMENT = new TreeMap<>();

    static Path dataDir() {
        return Path.of(System.getProperty("sluice.synthea.dir", "../shared/data/synthea-r4-100")).toAbsolutePath().normalize();
    }

    @BeforeEach
    void load() throws Exception {
        Path ndjson = dataDir().resolve("ndjson");
        Assumptions.assumeTrue(Files.isDirectory(ndjson), "Synthea sample not found at " + ndjson
                + " (set -Dsluice.synthea.dir); skipping the Synthea export tests");
        if (loaded) {
            return;
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(ndjson)) {
            files = s.filter(p -> p.toString().endsWith(".ndjson.gz")).sorted().toList();
        }
        for (Path f : files) {
            Response r = given().contentType("application/fhir+ndjson").header("Content-Encoding", "gzip")
                    .body(Files.readAllBytes(f)).post("/tenants/" + TENANT + "/fhir/$ingest");
            assertEquals(200, r.statusCode(), f + ": " + r.asString());
            try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(f)),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonNode r2 = json(line);
                    String ref = r2.path("resourceType").asText() + "/" + r2.path("id").asText();
                    if (r2.path("resourceType").asText().equals("Patient")) {
                        COMPARTMENT.computeIfAbsent(r2.path("id").asText(), k -> new TreeSet<>()).add(ref);
                    }
                    for (String target : r2.findValuesAsText("reference")) {
                        if (target.startsWith("Patient/")) {
                            COMPARTMENT.computeIfAbsent(target.substring(8), k -> new TreeSet<>()).add(ref);
                        }
                    }
                }
            }
        }
        loaded = true;
    }

    private static Map<String, Set<String>> refsByType(Map<String, List<JsonNode>> outputs) {
        Map<String, Set<String>> out = new TreeMap<>();
        outputs.forEach((t, rs) -> rs.forEach(r -> out.computeIfAbsent(t, k -> new TreeSet<>()).add(t + "/" + r.path("id").asText())));
        return out;
    }

    private static Map<String, Set<String>> expectedByType(Set<String> patients) {
        Map<String, Set<String>> out = new TreeMap<>();
        patients.forEach(p -> COMPARTMENT.getOrDefault(p, Set.of())
                .forEach(ref -> out.computeIfAbsent(ref.substring(0, ref.indexOf('/')), k -> new TreeSet<>()).add(ref)));
        return out;
    }

    private static void validateSample(JsonNode manifest) {
        for (JsonNode o : manifest.path("output")) {
            List<String> lines = BulkClient.lines(o.path("url").asText());
            for (int i = 0; i < lines.size(); i += Math.max(1, lines.size() / 3)) {
                List<String> errors = R4Validation.errors(lines.get(i));
                assertTrue(errors.isEmpty(), o.path("type").asText() + " line " + i + ": " + errors);
            }
        }
    }

    @Test
    void systemExportCountsAndValidity() {
        BulkClient c = BulkClient.tenant(TENANT);
        JsonNode m = complete(c.kickoff("/$export"));
        Map<String, List<JsonNode>> out = BulkClient.outputs(m);
        Map<String, Long> counts = new TreeMap<>();
        out.forEach((t, rs) -> counts.put(t, (long) rs.size()));
        assertEquals(README_COUNTS, counts);
        validateSample(m);
    }

    @Test
    void patientAndGroupLevelEqualIndependentCompartments() {
        BulkClient c = BulkClient.tenant(TENANT);
        Map<String, Set<String>> expected = expectedByType(COMPARTMENT.keySet());
        for (String path : List.of("/Patient/$export", "/Group/" + GROUP_ID + "/$export")) {
            Map<String, Set<String>> got = refsByType(BulkClient.outputs(complete(c.kickoff(path))));
            expected.forEach((type, refs) -> assertEquals(refs, got.get(type), path + " " + type));
            got.keySet().stream().filter(t -> !expected.containsKey(t)).forEach(t ->
                    assertTrue(io.sluice.fhir.PatientCompartment.params(t).isEmpty(), path + ": " + t + " is no compartment type"));
            assertEquals(100, got.get("Patient").size());
        }
        String one = COMPARTMENT.keySet().iterator().next();
        Map<String, Set<String>> single = refsByType(BulkClient.outputs(complete(c.kickoffPost("/Group/" + GROUP_ID + "/$export", """
                {"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"Patient/%s"}}]}"""
                .formatted(one)))));
        Map<String, Set<String>> expectedOne = expectedByType(Set.of(one));
        expectedOne.forEach((type, refs) -> {
            if (!type.equals("Group")) {
                assertEquals(refs, single.get(type), "patient " + one + " " + type);
            }
        });
    }
}
