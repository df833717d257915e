package io.sluice.export;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.sluice.job.ExportJobView;
import io.sluice.job.ExportLevel;
import io.sluice.job.ExportRequest;
import io.sluice.support.EngineProfile;
import io.sluice.support.PostgresTestResource;
import io.sluice.support.ResourceFixture;
import io.sluice.support.ResourceFixture.Member;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

import static io.sluice.export.EngineHarness.*;
import static io.sluice.support.ResourceFixture.body;
import static io.sluice.support.ResourceFixture.subject;
import static org.junit.jupiter.api.Assertions.*;

/** Export levels, filters, deleted and error files, each against a hand-built store. */
@QuarkusTest
@TestProfile(EngineProfile.class)
@QuarkusTestResource(PostgresTestResource.class)
class LevelsAndFiltersTest extends WorkerTestBase {

    private static final Duration T = Duration.ofSeconds(20);

    @jakarta.inject.Inject
    io.sluice.store.SnapshotQueries snapshots;

    private ExportJobView run(String tenant, ExportLevel level, String group, ExportRequest r, ExportWorker w) throws Exception {
        ExportJobView job = create(service, tenant, level, group, r);
        String status = awaitFinal(job.id(), T, w);
        ExportJobView v = view(service, tenant, job.id());
        assertEquals("complete", status, "job error: " + v.errorMessage());
        return v;
    }

    private static List<String> ids(List<JsonNode> lines) {
        return lines.stream().map(n -> n.path("resourceType").asText() + "/" + n.path("id").asText()).sorted().toList();
    }

    private static ExportRequest req(List<String> types, Instant since, Instant until, List<String> elements,
                                     List<String> patients, Map<String, List<String>> typeFilters, List<String> issues) {
        return new ExportRequest(types, since, until, elements, patients, typeFilters, null, issues);
    }

    /** p1..p3 with observations, an encounter of p2, a practitioner (no compartment). */
    private void clinic(ResourceFixture fx) throws Exception {
        for (String p : List.of("p1", "p2", "p3", "p4")) {
            fx.put("Patient", p, body("gender", "female"), List.of());
            fx.put("Observation", "o-" + p, subject(p, "status", "final"), List.of(p));
            fx.put("Observation", "o2-" + p, subject(p, "status", "preliminary"), List.of(p));
        }
        fx.put("Encounter", "e-p2", subject("p2", "status", "finished"), List.of("p2"));
        fx.put("Practitioner", "dr", body("active", "true"), List.of());
    }

    @Test
    void systemLevelAllTypesAndTypeRestriction() throws Exception {
        String tenant = tenant();
        try (var fx = new ResourceFixture(tenant)) {
            clinic(fx);
        }
        ExportWorker w = worker("sys", small());
        ExportJobView all = run(tenant, ExportLevel.SYSTEM, null, ExportRequest.all(), w);
        assertEquals(snapshot(tenant, all.transactionTime()), keys(lines(output, all, "output")));
        assertEquals(14, lines(output, all, "output").size());
        // parts per type: Observation has 8 -> 2 parts of 4, contiguous indexes
        assertEquals(List.of(0, 1), all.parts().stream().filter(p -> p.resourceType().equals("Observation"))
                .map(ExportJobView.Part::partIndex).toList());
        ExportJobView some = run(tenant, ExportLevel.SYSTEM, null,
                req(List.of("Practitioner", "Encounter"), null, null, null, null, null, null), w);
        assertEquals(List.of("Encounter/e-p2", "Practitioner/dr"), ids(lines(output, some, "output")));
    }

    @Test
    void partsCloseAtTheByteLimitAndPartsOfAFailedJobAreRemoved() throws Exception {
        String tenant = tenant();
        try (var fx = new ResourceFixture(tenant)) {
            clinic(fx);
        }
        ExportWorker w = worker("bytes", small().withParts(3, 1000, 300));
        ExportJobView v = run(tenant, ExportLevel.SYSTEM, null, req(List.of("Observation"), null, null, null, null, null, null), w);
        List<ExportJobView.Part> parts = v.parts();
        assertTrue(parts.size() >= 3, "8 observations of ~130 bytes in parts of 300 bytes: " + parts.size());
        for (ExportJobView.Part p : parts) {
            assertTrue(p.byteCount() < 300 + 200, "part closes once it reaches the limit: " + p.byteCount());
        }
        assertEquals(8, lines(output, v, "output").size());
        assertEquals(List.of(8L), v.progress().stream().map(ExportJobView.TypeProgress::exported).toList());
    }

    /**
     * With a page budget of one byte, every page after the first asks for one row (the rows read so
     * far are larger than the budget): the pages shrink mid-phase and the export stays exactly once,
     * at every level.
     */
    @Test
    void pagesShrinkToTheByteBudgetAndStillExportEachResourceOnce() throws Exception {
        String tenant = tenant();
        try (var fx = new ResourceFixture(tenant)) {
            clinic(fx);
        }
        ExportWorker w = worker("budget", small().withPageMaxBytes(1));
        ExportJobView all = run(tenant, ExportLevel.SYSTEM, null, ExportRequest.all(), w);
        assertEquals(snapshot(tenant, all.transactionTime()), keys(lines(output, all, "output")));
        ExportJobView patients = run(tenant, ExportLevel.PATIENT, null, ExportRequest.all(), w);
        assertEquals(13, ids(lines(output, patients, "output")).size());
        assertEquals(13, new java.util.HashSet<>(ids(lines(output, patients, "output"))).size());
    }

    @Test
    void patientLevelIsTheUnionOfCompartmentsOrTheListedPatients() throws Exception {
        String tenant = tenant();
        try (var fx = new ResourceFixture(tenant)) {
            clinic(fx);
        }
        ExportWorker w = worker("pat", small());
        ExportJobView all = run(tenant, ExportLevel.PATIENT, null, ExportRequest.all(), w);
        List<String> got = ids(lines(output, all, "output"));
        assertEquals(13, got.size());
        assertFalse(got.contains("Practitioner/dr"));
        ExportJobView two = run(tenant, ExportLevel.PATIENT, null, req(null, null, null, null, List.of("p2", "p9"), null, null), w);
        assertEquals(List.of("Encounter/e-p2", "Observation/o-p2", "Observation/o2-p2", "Patient/p2"),
                ids(lines(output, two, "output")));
    }

    @Test
    void groupLevelFollowsMembershipAtTransactionTimeWithNestingAndCycles() throws Exception {
        String tenant = tenant();
        Instant past = Instant.now().minus(30, ChronoUnit.DAYS);
        try (var fx = new ResourceFixture(tenant)) {
            clinic(fx);
            fx.putGroup("inner", List.of(Member.patient("p3"), Member.group("outer")));
            fx.putGroup("outer", List.of(Member.patient("p1"),
                    new Member("Patient", "p2", null, null, true),
                    new Member("Patient", "p4", past.minus(10, ChronoUnit.DAYS), past, false),
                    Member.group("inner")));
        }
        ExportWorker w = worker("grp", small());
        ExportJobView v = run(tenant, ExportLevel.GROUP, "outer", ExportRequest.all(), w);
        assertEquals(List.of("Observation/o-p1", "Observation/o-p3", "Observation/o2-p1", "Observation/o2-p3",
                "Patient/p1", "Patient/p3"), ids(lines(output, v, "output")));
        ExportJobView only = run(tenant, ExportLevel.GROUP, "outer",
                req(List.of("Patient"), null, null, null, List.of("p3", "p2"), null, null), w);
        assertEquals(List.of("Patient/p3"), ids(lines(output, only, "output")), "patient ∩ members");
        // a later Group version (after T of a new job) does not change a job created before it
        ExportJobView before = create(service, tenant, ExportLevel.GROUP, "outer", req(List.of("Patient"), null, null, null, null, null, null));
        try (var fx = new ResourceFixture(tenant)) {
            fx.putGroup("outer", List.of(Member.patient("p4")));
        }
        assertEquals("complete", awaitFinal(before.id(), T, w));
        assertEquals(List.of("Patient/p1", "Patient/p3"), ids(lines(output, view(service, tenant, before.id()), "output")));
        // a missing Group fails the job with a clear message
        ExportJobView missing = create(service, tenant, ExportLevel.GROUP, "nope", ExportRequest.all());
        assertEquals("error", awaitFinal(missing.id(), T, w));
        assertTrue(view(service, tenant, missing.id()).errorMessage().contains("Group/nope does not exist"));
    }

    /**
     * A cohort's pages read through the members' compartment rows return exactly what the type scan
     * returns, page by page: resources in two members' compartments (once), a resource whose current
     * version left the cohort, a deleted member, a member in the full-history list, _since and _until.
     */
    @Test
    void cohortPagesThroughTheMembersEqualTheTypeScanPageByPage() throws Exception {
        String tenant = tenant();
        Instant since;
        Instant until;
        try (var fx = new ResourceFixture(tenant)) {
            List<ResourceFixture.Spec> specs = new java.util.ArrayList<>();
            for (int i = 0; i < 30; i++) {
                String p = "p%02d".formatted(i);
                specs.add(new ResourceFixture.Spec("Patient", p, body(), List.of(p)));
                for (int k = 0; k < 1 + i % 3; k++) {
                    specs.add(new ResourceFixture.Spec("Observation", "o-" + p + "-" + k, subject(p), List.of(p)));
                }
                specs.add(new ResourceFixture.Spec("Observation", "shared-" + p, subject(p),
                        List.of(p, "p%02d".formatted((i + 7) % 30))));
            }
            fx.putAll(specs);
            since = fx.put("Basic", "marker", body(), List.of()).lastUpdated();
            fx.put("Observation", "o-p03-0", subject("p20"), List.of("p20"));   // left the cohort
            fx.put("Observation", "o-p21-0", subject("p04"), List.of("p04"));   // joined it
            fx.put("Observation", "late-p02", subject("p02"), List.of("p02"));
            fx.delete("Patient", "p05");
            until = fx.put("Observation", "late-p11", subject("p11"), List.of("p11")).lastUpdated();
            fx.put("Observation", "later-p01", subject("p01"), List.of("p01"));
        }
        String[] cohort = java.util.stream.IntStream.range(0, 15).mapToObj("p%02d"::formatted).toArray(String[]::new);
        String[] fullHistory = {"p11", "p12"};
        Instant at = Instant.now();
        int compared = 0;
        for (Instant[] window : new Instant[][]{{null, null}, {since, null}, {since, until}}) {
            String[] full = window[0] == null ? new String[0] : fullHistory;
            var large = new io.sluice.store.SnapshotQueries.Selection(tenant, at, window[0], window[1], true, cohort, full, false);
            var small = new io.sluice.store.SnapshotQueries.Selection(tenant, at, window[0], window[1], true, cohort, full, true);
            for (String type : List.of("Observation", "Patient")) {
                String what = type + " since " + window[0] + " until " + window[1];
                for (int limit : new int[]{1, 4, 1000}) {
                    List<String> scanned = allPages(large, type, limit, false);
                    assertEquals(scanned, allPages(small, type, limit, true), what + " limit " + limit);
                    compared += scanned.size();
                }
                long n = allPages(large, type, 1000, false).size();
                assertEquals(n, snapshots.count(large, type).await().atMost(Duration.ofSeconds(10)), what);
                assertEquals(n, snapshots.count(small, type).await().atMost(Duration.ofSeconds(10)), what);
            }
            // all types at once (one grouped statement; per type for a small cohort), for the cohort and
            // for every patient, equal the pages
            var everyone = new io.sluice.store.SnapshotQueries.Selection(tenant, at, window[0], window[1], true, null, full, false);
            List<String> types = List.of("Basic", "Observation", "Patient");
            for (var sel : List.of(large, small, everyone)) {
                Map<String, Long> counts = snapshots.counts(sel, types).await().atMost(Duration.ofSeconds(10));
                for (String type : types) {
                    assertEquals(allPages(sel.smallCohort() ? large : sel, type, 1000, false).size(), counts.get(type),
                            type + " since " + window[0] + " until " + window[1] + (sel == everyone ? " every patient" : ""));
                }
            }
        }
        assertTrue(compared > 150, "the comparison must cover real rows, covered " + compared);
        var all = new io.sluice.store.SnapshotQueries.Selection(tenant, at, null, null, true, cohort, new String[0], true);
        List<String> obs = allPages(all, "Observation", 1000, true);
        assertFalse(obs.stream().anyMatch(r -> r.startsWith("o-p03-0/")), "its current version is outside the cohort");
        assertTrue(obs.stream().anyMatch(r -> r.startsWith("o-p21-0/2")), "its current version is inside");
        assertFalse(obs.stream().anyMatch(r -> r.startsWith("o-p05-")), "p05 is deleted");
        assertEquals(obs.size(), new java.util.HashSet<>(obs.stream().map(r -> r.split("/")[0]).toList()).size(), "each id once");

        // end to end: a Group of 7 of the 29 live patients is a small cohort; its export (batches of 5,
        // so several pages per type) holds what the type scan selects
        try (var fx = new ResourceFixture(tenant)) {
            fx.putGroup("seven", java.util.stream.IntStream.range(0, 7).mapToObj(i -> Member.patient("p%02d".formatted(i))).toList());
        }
        ExportJobView v = run(tenant, ExportLevel.GROUP, "seven", ExportRequest.all(), worker("cohort", small()));
        String[] seven = java.util.stream.IntStream.range(0, 7).filter(i -> i != 5).mapToObj("p%02d"::formatted).toArray(String[]::new);
        var expected = new io.sluice.store.SnapshotQueries.Selection(tenant, v.transactionTime(), null, null, true, seven,
                new String[0], false);
        List<String> want = new java.util.ArrayList<>();
        for (String type : List.of("Observation", "Patient")) {
            allPages(expected, type, 1000, false).forEach(r -> want.add(type + "/" + r.split("/")[0]));
        }
        assertEquals(want.stream().sorted().toList(), ids(lines(output, v, "output")));
        assertTrue(want.size() > 20, "a real cohort: " + want);
    }

    /**
     * The system-level totals come from the resource heads in one statement; at every instant of a
     * history with updates, deletes, a re-creation and writes after the snapshot, and with or without
     * {@code _since}/{@code _until}, they equal the number of rows the type's pages return.
     */
    @Test
    void systemCountsFromTheHeadsEqualThePagesAtEveryInstant() throws Exception {
        String tenant = tenant();
        List<Instant> instants = new java.util.ArrayList<>();
        try (var fx = new ResourceFixture(tenant)) {
            List<ResourceFixture.Spec> specs = new java.util.ArrayList<>();
            for (int i = 0; i < 12; i++) {
                specs.add(new ResourceFixture.Spec("Patient", "p" + i, body(), List.of("p" + i)));
                specs.add(new ResourceFixture.Spec("Observation", "o" + i, subject("p" + i), List.of("p" + i)));
            }
            fx.putAll(specs);
            instants.add(Instant.now());
            fx.put("Observation", "o1", subject("p1", "status", "amended"), List.of("p1"));
            fx.delete("Observation", "o2");
            fx.put("Practitioner", "dr", body(), List.of());
            instants.add(Instant.now());
            fx.delete("Patient", "p3");
            fx.put("Observation", "o2", subject("p2"), List.of("p2"));          // re-created after its delete
            fx.put("Observation", "o1", subject("p1", "status", "final"), List.of("p1"));
            instants.add(Instant.now());
            fx.delete("Practitioner", "dr");
            fx.put("Observation", "o12", subject("p4"), List.of("p4"));
            instants.add(Instant.now());
        }
        List<String> types = List.of("Observation", "Patient", "Practitioner", "Encounter");
        int compared = 0;
        for (Instant at : instants) {
            for (Instant since : new Instant[]{null, instants.get(0), instants.get(1)}) {
                for (Instant until : new Instant[]{null, instants.get(2)}) {
                    var sel = io.sluice.store.SnapshotQueries.Selection.system(tenant, at, since, until);
                    Map<String, Long> counts = snapshots.counts(sel, types).await().atMost(T);
                    for (String type : types) {
                        long n = allPages(sel, type, 1000, false).size();
                        assertEquals(n, counts.get(type), type + " at " + at + " since " + since + " until " + until);
                        assertEquals(n, snapshots.count(sel, type).await().atMost(T), "the per-type count agrees");
                        compared += n;
                    }
                }
            }
        }
        assertTrue(compared > 200, "the comparison must cover real rows, covered " + compared);
        assertEquals(Map.of("Patient", 11L), snapshots.counts(
                io.sluice.store.SnapshotQueries.Selection.system(tenant, instants.get(3), null, null), List.of("Patient"))
                .await().atMost(T));
    }

    /**
     * A joined page holds the rows that fit in the byte budget (at least one) from the first page of a
     * type on, whatever the row limit, and says how many rows the page query found.
     */
    @Test
    void joinedPagesStopAtTheByteBudgetFromTheFirstPage() throws Exception {
        String tenant = tenant();
        try (var fx = new ResourceFixture(tenant)) {
            clinic(fx);
        }
        var sel = io.sluice.store.SnapshotQueries.Selection.system(tenant, Instant.now(), null, null);
        var all = snapshots.pageBlob(sel, "Observation", null, 1000, Long.MAX_VALUE, Long.MAX_VALUE, false).await().atMost(T);
        assertEquals(8, all.ids().length);
        assertEquals(8, all.scanned());
        var one = snapshots.pageBlob(sel, "Observation", null, 1000, 1, Long.MAX_VALUE, false).await().atMost(T);
        assertEquals(List.of(all.ids()[0]), List.of(one.ids()));
        assertEquals(8, one.scanned());
        long budget = all.sizes()[0] + all.sizes()[1] + 1;
        var three = snapshots.pageBlob(sel, "Observation", null, 1000, budget, Long.MAX_VALUE, false).await().atMost(T);
        assertEquals(List.of(all.ids()).subList(0, 3), List.of(three.ids()));
        assertEquals(all.lines().slice(0, all.sizes()[0] + all.sizes()[1] + all.sizes()[2] + 3).toString(), three.lines().toString());
        var limited = snapshots.pageBlob(sel, "Observation", null, 5, Long.MAX_VALUE, Long.MAX_VALUE, false).await().atMost(T);
        assertEquals(5, limited.scanned());
        assertEquals(5, limited.ids().length);
    }

    /**
     * A resource over the page budget never travels in a page: the page before it stops short of it, it
     * comes alone by reference, and the export writes it slice by slice. Multi-byte characters (2, 3
     * and 4 bytes in UTF-8) straddle the slice boundaries; the exported lines are the stored bytes.
     */
    @Test
    void resourcesOverThePageBudgetAreWrittenSliceBySliceIntact() throws Exception {
        String tenant = tenant();
        String mixed = "abc\u00e9\u20ac\ud83d\ude00\"\\".repeat(3000);   // 1-, 2-, 3- and 4-byte characters, two JSON escapes
        try (var fx = new ResourceFixture(tenant)) {
            fx.put("Patient", "p1", body("note", "x".repeat(20_000)), List.of("p1"));   // huge, first of its type
            fx.put("Observation", "o-a", subject("p1", "status", "final"), List.of("p1"));
            fx.put("Observation", "o-b", subject("p1", "valueString", mixed), List.of("p1"));
            fx.put("Observation", "o-c", subject("p1", "status", "final"), List.of("p1"));
            fx.put("Observation", "o-d", subject("p1", "valueString", "\u00e9".repeat(9_000)), List.of("p1"));
            fx.put("Observation", "o-e", subject("p1", "status", "final"), List.of("p1"));
        }
        var sel = io.sluice.store.SnapshotQueries.Selection.system(tenant, Instant.now(), null, null);
        long huge = 8192;
        var first = snapshots.pageBlob(sel, "Observation", null, 1000, Long.MAX_VALUE, huge, false).await().atMost(T);
        assertEquals(List.of("o-a"), List.of(first.ids()), "the page stops before the huge row");
        assertFalse(first.huge());
        var second = snapshots.pageBlob(sel, "Observation", "o-a", 1000, Long.MAX_VALUE, huge, false).await().atMost(T);
        assertTrue(second.huge());
        assertEquals(List.of("o-b"), List.of(second.ids()));
        assertEquals(0, second.lines().length(), "by reference: no content in the page");
        assertEquals(stored(tenant, "Observation", "o-b").length, second.sizes()[0]);

        ExportJobView v = run(tenant, ExportLevel.SYSTEM, null, ExportRequest.all(), worker("huge", small().withPageMaxBytes(huge)));
        for (String type : List.of("Observation", "Patient")) {
            assertTrue(assertExportedBytesAreStored(tenant, v, type) > 20_000, type + " holds a huge resource");
        }
        assertEquals(snapshot(tenant, v.transactionTime()), keys(lines(output, v, "output")));
    }

    /**
     * A page comes from PostgreSQL in chunks (a 32nd of the page budget) that are copied together into
     * buffers (half of it): with a budget of 2,400 bytes a page of rows of 100 to 600 bytes is several
     * chunks and buffers, in id order, and parts of 7 resources are cut across those buffers. The
     * exported bytes are the stored ones, in order, in every part.
     */
    @Test
    void pagesInManyChunksAreJoinedInOrderAndCutIntoPartsAcrossThem() throws Exception {
        String tenant = tenant();
        try (var fx = new ResourceFixture(tenant)) {
            fx.put("Patient", "p1", body("active", "true"), List.of("p1"));
            for (int i = 0; i < 60; i++) {
                fx.put("Observation", "o-%02d".formatted(i), subject("p1", "valueString", "\u00e9x".repeat((i * 37) % 160)), List.of("p1"));
            }
        }
        var sel = io.sluice.store.SnapshotQueries.Selection.system(tenant, Instant.now(), null, null);
        var page = snapshots.pageBlob(sel, "Observation", null, 1000, 2400, Long.MAX_VALUE, false).await().atMost(T);
        assertTrue(page.chunks().size() > 1, "several buffers: " + page.chunks().size());
        assertTrue(page.ids().length > 3 && page.ids().length < 60, "the page stops at the budget: " + page.ids().length);
        java.io.ByteArrayOutputStream want = new java.io.ByteArrayOutputStream();
        long before = 0;
        for (int i = 0; i < page.ids().length; i++) {
            assertEquals("o-%02d".formatted(i), page.ids()[i]);
            byte[] content = stored(tenant, "Observation", page.ids()[i]);
            assertEquals(content.length, page.sizes()[i]);
            assertTrue(before < 2400, "a row starts within the budget");
            before += content.length;
            want.write(content);
            want.write('\n');
        }
        assertTrue(before >= 2400 || page.ids().length == 60, "the page holds every row that starts within the budget");
        assertArrayEquals(want.toByteArray(), page.lines().getBytes());

        ExportJobView v = run(tenant, ExportLevel.SYSTEM, null, ExportRequest.all(),
                worker("chunks", small().withParts(1000, 7, 1 << 20).withPageMaxBytes(2400)));
        assertExportedBytesAreStored(tenant, v, "Observation");
        assertEquals(60, lines(output, v, "output").stream().filter(l -> l.path("resourceType").asText().equals("Observation")).count());
        assertEquals(9, v.parts().stream().filter(p -> p.resourceType().equals("Observation")).count(), "60 in parts of 7");
    }

    /**
     * The parts of {@code type} in part order hold exactly the stored contents of the snapshot's
     * resources of that type in id order, one per line; returns their byte count.
     */
    private long assertExportedBytesAreStored(String tenant, ExportJobView v, String type) throws Exception {
        java.io.ByteArrayOutputStream want = new java.io.ByteArrayOutputStream();
        for (String id : snapshot(tenant, v.transactionTime()).stream().filter(k -> k.startsWith(type + "/"))
                .map(k -> k.split("/")[1]).sorted().toList()) {
            want.write(stored(tenant, type, id));
            want.write('\n');
        }
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        for (ExportJobView.Part p : v.parts().stream().filter(p -> p.resourceType().equals(type))
                .sorted(java.util.Comparator.comparingInt(ExportJobView.Part::partIndex)).toList()) {
            got.write(output.read(p.location(), 0, -1).collect().in(io.vertx.mutiny.core.buffer.Buffer::buffer,
                    io.vertx.mutiny.core.buffer.Buffer::appendBuffer).await().atMost(T).getBytes());
        }
        assertArrayEquals(want.toByteArray(), got.toByteArray(), type + ": the exported bytes are the stored ones");
        return got.size();
    }

    /** The stored content of a resource's current version, as UTF-8. */
    private static byte[] stored(String tenant, String type, String id) throws Exception {
        try (var c = io.sluice.support.PostgresTestResource.jdbc(); var ps = c.prepareStatement(
                "SELECT content FROM resource_version WHERE tenant = ? AND resource_type = ? AND id = ? AND valid_to IS NULL")) {
            ps.setString(1, tenant);
            ps.setString(2, type);
            ps.setString(3, id);
            try (var rs = ps.executeQuery()) {
                assertTrue(rs.next(), type + "/" + id);
                return rs.getString(1).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            }
        }
    }

    /** Every page of a type, as id/version, following the keyset cursor. */
    private List<String> allPages(io.sluice.store.SnapshotQueries.Selection sel, String type, int limit, boolean byMembers) {
        List<String> out = new java.util.ArrayList<>();
        String after = null;
        while (true) {
            var rows = snapshots.page(sel, type, after, limit, byMembers, Long.MAX_VALUE).await().atMost(Duration.ofSeconds(10));
            rows.forEach(r -> out.add(r.id() + "/" + r.versionId()));
            if (rows.size() < limit) {
                return out;
            }
            after = rows.get(rows.size() - 1).id();
        }
    }

    /**
     * Group + _since rule (sluice.export.group-new-members-full-history, default true): a patient who
     * joined the Group after _since gets all their data; members of the Group at _since only get
     * changes since. With the option off, _since applies to every member.
     */
    @Test
    void groupSinceIncludesFullHistoryOfNewlyAddedMembersByDefault() throws Exception {
        String tenant = tenant();
        Instant since;
        try (var fx = new ResourceFixture(tenant)) {
            clinic(fx);
            fx.putGroup("cohort", List.of(Member.patient("p1")));
            since = fx.put("Basic", "marker", body(), List.of()).lastUpdated().plus(1, ChronoUnit.MICROS);
            fx.put("Observation", "new-p1", subject("p1", "status", "final"), List.of("p1"));
            fx.putGroup("cohort", List.of(Member.patient("p1"), Member.patient("p2")));
        }
        ExportRequest r = req(List.of("Observation", "Patient", "Encounter"), since, null, null, null, null, null);
        ExportJobView v = run(tenant, ExportLevel.GROUP, "cohort", r, worker("gs", small()));
        assertEquals(List.of("Encounter/e-p2", "Observation/new-p1", "Observation/o-p2", "Observation/o2-p2", "Patient/p2"),
                ids(lines(output, v, "output")));
        ExportWorker strict = worker("gs-strict", small().withGroupNewMembersFullHistory(false));
        ExportJobView s = run(tenant, ExportLevel.GROUP, "cohort", r, strict);
        assertEquals(List.of("Observation/new-p1"), ids(lines(output, s, "output")));
    }

    @Test
    void sinceAndUntilAreInclusiveAtTheExactMicrosecond() throws Exception {
        String tenant = tenant();
        ResourceFixture.Written a;
        ResourceFixture.Written b;
        ResourceFixture.Written c;
        try (var fx = new ResourceFixture(tenant)) {
            a = fx.put("Patient", "a", body(), List.of());
            b = fx.put("Patient", "b", body(), List.of());
            c = fx.put("Patient", "c", body(), List.of());
        }
        ExportWorker w = worker("edges", small());
        Instant tb = b.lastUpdated();
        assertEquals(List.of("Patient/b"), ids(lines(output, run(tenant, ExportLevel.SYSTEM, null,
                req(null, tb, tb, null, null, null, null), w), "output")));
        assertEquals(List.of("Patient/b", "Patient/c"), ids(lines(output, run(tenant, ExportLevel.SYSTEM, null,
                req(null, tb, null, null, null, null, null), w), "output")));
        assertEquals(List.of("Patient/c"), ids(lines(output, run(tenant, ExportLevel.SYSTEM, null,
                req(null, tb.plus(1, ChronoUnit.MICROS), null, null, null, null, null), w), "output")));
        assertEquals(List.of("Patient/a"), ids(lines(output, run(tenant, ExportLevel.SYSTEM, null,
                req(null, null, tb.minus(1, ChronoUnit.MICROS), null, null, null, null), w), "output")));
        assertEquals(List.of("Patient/a", "Patient/b"), ids(lines(output, run(tenant, ExportLevel.SYSTEM, null,
                req(null, a.lastUpdated(), tb, null, null, null, null), w), "output")));
        assertTrue(c.lastUpdated().isAfter(tb));
    }

    @Test
    void elementsProjectAndTagSubsetted() throws Exception {
        String tenant = tenant();
        try (var fx = new ResourceFixture(tenant)) {
            clinic(fx);
        }
        ExportJobView v = run(tenant, ExportLevel.SYSTEM, null,
                req(List.of("Patient", "Observation", "Encounter"), null, null, List.of("Patient.gender", "status"), null, null, null),
                worker("el", small()));
        for (JsonNode n : lines(output, v, "output")) {
            assertTrue(n.has("id") && n.has("meta") && n.has("resourceType"));
            assertEquals("SUBSETTED", n.path("meta").path("tag").path(0).path("code").asText());
            assertFalse(n.has("subject"), n.toString());
            if (n.path("resourceType").asText().equals("Patient")) {
                assertEquals("female", n.path("gender").asText());
            } else {
                assertTrue(n.has("status"));
            }
        }
    }

    @Test
    void deletedFilesListResourcesDeletedAfterSinceAsTransactionBundles() throws Exception {
        String tenant = tenant();
        Instant since;
        try (var fx = new ResourceFixture(tenant)) {
            clinic(fx);
            fx.delete("Observation", "o-p4");
            since = fx.put("Basic", "marker", body(), List.of()).lastUpdated();
            fx.delete("Observation", "o-p1");
            fx.delete("Patient", "p3");
            fx.delete("Practitioner", "dr");
            fx.put("Observation", "o2-p1", subject("p1", "status", "amended"), List.of("p1"));
        }
        ExportWorker w = worker("del", small());
        ExportJobView v = run(tenant, ExportLevel.SYSTEM, null, req(null, since, null, null, null, null, null), w);
        List<String> deleted = lines(output, v, "deleted").stream().map(n -> {
            assertEquals("Bundle", n.path("resourceType").asText());
            assertEquals("transaction", n.path("type").asText());
            assertEquals("DELETE", n.path("entry").path(0).path("request").path("method").asText());
            return n.path("entry").path(0).path("request").path("url").asText();
        }).sorted().toList();
        assertEquals(List.of("Observation/o-p1", "Patient/p3", "Practitioner/dr"), deleted);
        assertEquals(List.of("Basic/marker", "Observation/o2-p1"), ids(lines(output, v, "output")));
        // patient level with patients: only deletions from those compartments
        ExportJobView p = run(tenant, ExportLevel.PATIENT, null, req(null, since, null, null, List.of("p1"), null, null), w);
        assertEquals(1, lines(output, p, "deleted").size());
    }

    @Test
    void lenientIssuesBecomeOneErrorFileOfOperationOutcomes() throws Exception {
        String tenant = tenant();
        try (var fx = new ResourceFixture(tenant)) {
            fx.put("Patient", "x", body(), List.of());
        }
        ExportJobView v = run(tenant, ExportLevel.SYSTEM, null,
                req(null, null, null, null, null, null, List.of("ignored _foo", "ignored includeAssociatedData=_x")),
                worker("err", small()));
        List<JsonNode> errors = lines(output, v, "error");
        assertEquals(2, errors.size());
        assertEquals("OperationOutcome", errors.get(0).path("resourceType").asText());
        assertEquals("ignored _foo", errors.get(0).path("issue").path(0).path("diagnostics").asText());
        assertEquals(1, v.parts().stream().filter(p -> p.kind().equals("error")).count());
    }

    @Test
    void typeFiltersUseTheFactoryAndFailClearlyWithoutOne() throws Exception {
        String tenant = tenant();
        try (var fx = new ResourceFixture(tenant)) {
            clinic(fx);
        }
        TypeFilterFactory statusEquals = (type, queries) -> node -> queries.stream()
                .anyMatch(q -> q.equals("status=" + node.path("status").asText()));
        ExportRequest r = req(List.of("Observation", "Patient"), null, null, null, null,
                Map.of("Observation", List.of("status=preliminary", "status=amended")), null);
        ExportJobView v = run(tenant, ExportLevel.SYSTEM, null, r, worker(engine.withTypeFilterFactory(statusEquals), "tf", small()));
        assertEquals(List.of("Observation/o2-p1", "Observation/o2-p2", "Observation/o2-p3", "Observation/o2-p4",
                "Patient/p1", "Patient/p2", "Patient/p3", "Patient/p4"), ids(lines(output, v, "output")));
        ExportWorker none = worker(engine.withTypeFilterFactory(null), "tf-none", small());
        ExportJobView failed = create(service, tenant, ExportLevel.SYSTEM, null, r);
        assertEquals("error", awaitFinal(failed.id(), T, none));
        assertTrue(view(service, tenant, failed.id()).errorMessage().contains("_typeFilter"));
        assertFalse(java.nio.file.Files.exists(java.nio.file.Path.of(EngineProfile.OUTPUT_DIR, tenant, failed.id().toString())));
    }
}
