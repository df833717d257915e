package io.sluice.api;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.fhirpath.IFhirPath;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.sluice.support.PostgresTestResource;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Loads the Synthea R4 sample (100 patients) through the REST API, once as transaction Bundles and
 * once as NDJSON via $ingest, and checks the Patient compartment index against an independent
 * computation: HAPI FHIR's own R4 search parameter metadata (those providing membership in the
 * Patient compartment), evaluated with HAPI's FHIRPath engine on the raw Synthea JSON.
 * Skipped when the data directory is missing.
 */
@QuarkusTest
@QuarkusTestResource(PostgresTestResource.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SyntheaLoadTest {

    static final Map<String, Integer> EXPECTED = Map.ofEntries(
            Map.entry("Observation", 16315), Map.entry("Claim", 6083), Map.entry("Encounter", 3697),
            Map.entry("ExplanationOfBenefit", 3697), Map.entry("MedicationRequest", 2386), Map.entry("Procedure", 2351),
            Map.entry("Immunization", 1287), Map.entry("DiagnosticReport", 897), Map.entry("Condition", 639),
            Map.entry("CarePlan", 278), Map.entry("CareTeam", 278), Map.entry("Organization", 203),
            Map.entry("Practitioner", 203), Map.entry("Patient", 100), Map.entry("AllergyIntolerance", 38),
            Map.entry("ImagingStudy", 16), Map.entry("Device", 4), Map.entry("Group", 1));

    static Path dir;
    static FhirContext hapi;
    static IFhirPath fhirPath;

    @BeforeAll
    static void locate() {
        dir = Path.of(System.getProperty("sluice.synthea.dir", "../shared/data/synthea-r4-100")).toAbsolutePath().normalize();
        assumeTrue(Files.isDirectory(dir.resolve("bundles")) && Files.isDirectory(dir.resolve("ndjson")),
                "Synthea sample not found at " + dir + " (set -Dsluice.synthea.dir); skipping Synthea load tests");
        hapi = FhirContext.forR4();
        fhirPath = hapi.newFhirPath();
    }

    /** Patient ids whose compartment {@code r} is in, per HAPI's R4 metadata; refs resolved by {@code resolve}. */
    static Set<String> expectedPatients(IBaseResource r, String ownId, java.util.function.Function<String, String> patientOf) {
        Set<String> out = new TreeSet<>();
        RuntimeResourceDefinition def = hapi.getResourceDefinition(r);
        if (def.getName().equals("Patient")) {
            out.add(ownId);
        }
        for (RuntimeSearchParam sp : def.getSearchParams()) {
            if (sp.getProvidesMembershipInCompartments() == null || !sp.getProvidesMembershipInCompartments().contains("Patient")) {
                continue;
            }
            for (String path : sp.getPath().split("\\|")) {
                String p = path.trim().replace(".where(resolve() is Patient)", "");
                for (IBase v : fhirPath.evaluate(r, p, IBase.class)) {
                    if (v instanceof Reference ref && ref.getReference() != null) {
                        String pid = patientOf.apply(ref.getReference());
                        if (pid != null) {
                            out.add(pid);
                        }
                    }
                }
            }
        }
        return out;
    }

    static Map<String, Set<String>> actualCompartments(String tenant) throws Exception {
        Map<String, Set<String>> m = new TreeMap<>();
        try (Connection c = PostgresTestResource.jdbc(); var s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT resource_type, id, patient_id FROM resource_compartment WHERE tenant = '"
                    + tenant + "'");
            while (rs.next()) {
                m.computeIfAbsent(rs.getString(1) + "/" + rs.getString(2), k -> new TreeSet<>()).add(rs.getString(3));
            }
        }
        return m;
    }

    static String gunzip(Path p) throws Exception {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static List<Path> files(String sub) throws Exception {
        try (Stream<Path> s = Files.list(dir.resolve(sub))) {
            return s.filter(p -> p.toString().endsWith(".gz")).sorted().toList();
        }
    }

    @Test
    @Order(1)
    void everyBundleLoadsAsATransactionAndCompartmentsMatchHapi() throws Exception {
        Map<String, Set<String>> expected = new TreeMap<>();
        int entries = 0;
        long t0 = System.nanoTime();
        for (Path file : files("bundles")) {
            String json = gunzip(file);
            Response r = given().contentType("application/fhir+json").body(json).post("/tenants/synthea-tx/fhir");
            assertEquals(200, r.statusCode(), file + ": " + r.asString());
            List<String> locations = r.jsonPath().getList("entry.response.location");
            Bundle b = hapi.newJsonParser().parseResource(Bundle.class, json);
            assertEquals(b.getEntry().size(), locations.size(), file.toString());
            Map<String, String> urnToAssigned = new HashMap<>();
            for (int i = 0; i < locations.size(); i++) {
                String[] loc = locations.get(i).split("/");
                urnToAssigned.put(b.getEntry().get(i).getFullUrl(), loc[0] + "/" + loc[1]);
            }
            for (int i = 0; i < locations.size(); i++) {
                String assigned = urnToAssigned.get(b.getEntry().get(i).getFullUrl());
                Set<String> pats = expectedPatients(b.getEntry().get(i).getResource(), assigned.split("/")[1], ref -> {
                    String target = urnToAssigned.get(ref);
                    return target != null && target.startsWith("Patient/") ? target.substring(8) : null;
                });
                if (!pats.isEmpty()) {
                    expected.put(assigned, pats);
                }
            }
            entries += locations.size();
        }
        System.out.printf("loaded %d bundle entries in %.1f s%n", entries, (System.nanoTime() - t0) / 1e9);
        assertEquals(38_473 - 1 + 498, entries, "all unique resources but the Group, plus the repeated ones");
        Map<String, Set<String>> actual = actualCompartments("synthea-tx");
        assertEquals(expected.size(), actual.size());
        assertEquals(expected, actual);
        assertEquals(100, actual.values().stream().flatMap(Set::stream).distinct().count());
    }

    @Test
    @Order(2)
    void everyNdjsonFileLoadsViaIngestAndCompartmentsMatchHapi() throws Exception {
        Map<String, Set<String>> expected = new TreeMap<>();
        long total = 0;
        long t0 = System.nanoTime();
        long ingestNanos = 0;
        for (Path file : files("ndjson")) {
            String type = file.getFileName().toString().replace(".ndjson.gz", "");
            long s = System.nanoTime();
            Response r = given().contentType("application/fhir+ndjson").header("Content-Encoding", "gzip")
                    .body(Files.readAllBytes(file)).post("/tenants/synthea-nd/fhir/$ingest");
            ingestNanos += System.nanoTime() - s;
            assertEquals(200, r.statusCode(), r.asString());
            assertEquals(0, r.jsonPath().getInt("parameter.find { it.name == 'rejected' }.valueInteger"), file + ": " + r.asString());
            int stored = r.jsonPath().getInt("parameter.find { it.name == 'stored' }.valueInteger");
            assertEquals(EXPECTED.get(type), stored, type);
            total += stored;
            try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(file)),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    IBaseResource res = hapi.newJsonParser().parseResource(line);
                    String id = res.getIdElement().getIdPart();
                    Set<String> pats = expectedPatients(res, id, ref -> {
                        IdType rid = new IdType(ref);
                        return "Patient".equals(rid.getResourceType()) ? rid.getIdPart() : null;
                    });
                    if (!pats.isEmpty()) {
                        expected.put(type + "/" + id, pats);
                    }
                }
            }
        }
        System.out.printf("ingested %d resources in %.1f s (HTTP time %.1f s)%n", total, (System.nanoTime() - t0) / 1e9,
                ingestNanos / 1e9);
        assertEquals(38_473, total);
        assertEquals(expected, actualCompartments("synthea-nd"));
        try (Connection c = PostgresTestResource.jdbc(); var s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT member_id) FROM group_member WHERE tenant = 'synthea-nd' "
                    + "AND group_id = 'd9f31445-f448-48c0-af57-295c005e07df' AND member_type = 'Patient'");
            rs.next();
            assertEquals(100, rs.getLong(1));
            assertEquals(100, rs.getLong(2));
        }
        // a second ingest of a file makes version 2 of each resource
        Response again = given().contentType("application/fhir+ndjson").header("Content-Encoding", "gzip")
                .body(Files.readAllBytes(dir.resolve("ndjson/Patient.ndjson.gz"))).post("/tenants/synthea-nd/fhir/$ingest");
        assertEquals(100, again.jsonPath().getInt("parameter.find { it.name == 'stored' }.valueInteger"));
        List<String> ids = new ArrayList<>(expected.keySet().stream().filter(k -> k.startsWith("Patient/")).toList());
        given().get("/tenants/synthea-nd/fhir/" + ids.get(0)).then().statusCode(200).header("ETag", "W/\"2\"");
    }
}
