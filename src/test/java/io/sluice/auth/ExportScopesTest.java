package io.sluice.auth;

import io.sluice.job.ExportRequest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExportScopesTest {

    private static ExportRequest req(List<String> types, Map<String, List<String>> filters) {
        return new ExportRequest(types, null, null, null, null, filters, null, null);
    }

    @Test
    void everythingReadableChangesNothing() {
        ExportRequest r = req(List.of("Patient"), null);
        assertSame(r, ExportScopes.narrow(r, Set.of("*"), false).request());
    }

    @Test
    void noTypeBecomesTheReadableTypes() {
        var n = ExportScopes.narrow(req(null, null), Set.of("Patient", "Observation"), false);
        assertEquals(List.of("Observation", "Patient"), n.request().types());
        assertTrue(n.refusedTypes().isEmpty());
    }

    @Test
    void strictRefusesLenientDrops() {
        ExportRequest r = req(List.of("Patient", "Observation"), Map.of("Condition", List.of("code=1")));
        var strict = ExportScopes.narrow(r, Set.of("Observation"), false);
        assertTrue(strict.refused());
        assertEquals(List.of("Condition", "Patient"), strict.refusedTypes());
        var lenient = ExportScopes.narrow(r, Set.of("Observation"), true);
        assertFalse(lenient.refused());
        assertEquals(List.of("Observation"), lenient.request().types());
        assertTrue(lenient.request().typeFilters().isEmpty());
        assertTrue(lenient.request().lenientIssues().get(0).contains("Condition, Patient"));
        var nothingLeft = ExportScopes.narrow(req(List.of("Patient"), null), Set.of("Observation"), true);
        assertTrue(nothingLeft.refused());
    }
}
