package io.sluice.auth;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScopeSetTest {

    @Test
    void parsesV1AndV2() {
        ScopeSet s = ScopeSet.parse("system/Patient.read system/Observation.rs system/Encounter.cud launch openid patient/*.read");
        assertEquals(3, s.scopes().size());
        assertTrue(s.permits("Patient", SmartScope.READ));
        assertTrue(s.permits("Observation", SmartScope.READ));
        assertFalse(s.permits("Observation", SmartScope.WRITE_ANY));
        assertTrue(s.permits("Encounter", SmartScope.WRITE_ANY));
        assertFalse(s.permits("Encounter", SmartScope.READ));
        assertFalse(s.permits("*", SmartScope.READ));
        assertEquals(Set.of("Observation", "Patient"), s.readableTypesOrAll());
        assertEquals(Set.of("*"), ScopeSet.parse("system/*.r").readableTypesOrAll());
        assertTrue(ScopeSet.parse("system/*.*").permits("Group", SmartScope.DELETE));
    }

    @Test
    void rejectsMalformedScopes() {
        for (String bad : new String[]{"system/Patient.sr", "system/Patient.rr", "system/Patient.x", "system/patient.read",
                "system/Observation.rs?category=laboratory", "system/*", "system/.read", "system/*.READ"}) {
            assertTrue(SmartScope.parse(bad).isEmpty(), bad);
        }
        assertEquals(2, ScopeSet.unsupported("system/*.rs foo system/Patient.sr").size());
    }

    @Test
    void grantsWhatIsCovered() {
        ScopeSet allowed = ScopeSet.parse("system/*.read system/Patient.cud");
        assertEquals("system/Patient.rs", ScopeSet.grant("system/Patient.rs", allowed).toString());
        assertEquals("system/*.read", ScopeSet.grant("system/*.read", allowed).toString());
        assertEquals("system/*.rs system/Patient.cud", ScopeSet.grant("system/*.cruds", allowed).toString());
        assertEquals("system/Patient.write", ScopeSet.grant("system/*.write", allowed).toString());
        assertEquals("system/Patient.c", ScopeSet.grant("system/Patient.c", allowed).toString());
        assertTrue(ScopeSet.grant("system/Observation.cud", allowed).isEmpty());
        assertTrue(ScopeSet.grant("user/*.read launch", allowed).isEmpty());
        // duplicates and subsumed scopes collapse
        assertEquals("system/*.read", ScopeSet.grant("system/Patient.read system/*.read system/*.read", allowed).toString());
        ScopeSet obs = ScopeSet.parse("system/Observation.rs");
        assertEquals("system/Observation.read", ScopeSet.grant("system/*.read", obs).toString());
        assertEquals("system/Observation.r", ScopeSet.grant("system/*.r", obs).toString());
    }
}
