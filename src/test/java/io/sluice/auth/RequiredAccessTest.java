package io.sluice.auth;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RequiredAccessTest {

    private static RequiredAccess of(String method, String path) {
        List<String> segs = Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toList();
        return RequiredAccess.of(method, segs);
    }

    @Test
    void publicEndpoints() {
        assertEquals(RequiredAccess.PUBLIC, of("GET", "metadata"));
        assertEquals(RequiredAccess.PUBLIC, of("GET", ".well-known/smart-configuration"));
        assertEquals(RequiredAccess.PUBLIC, of("GET", "OperationDefinition/export"));
        assertEquals(RequiredAccess.PUBLIC, of("HEAD", "metadata"));
        assertEquals(RequiredAccess.write("OperationDefinition"), of("PUT", "OperationDefinition/export"));
        assertEquals(RequiredAccess.read("OperationDefinition"), of("GET", "OperationDefinition"));
    }

    @Test
    void exportNeedsSomeRead() {
        for (String[] c : new String[][]{{"GET", "$export"}, {"POST", "$export"}, {"GET", "Patient/$export"},
                {"GET", "Group/g1/$export"}, {"POST", "Group/g1/$export"}, {"GET", "$export-status/123"},
                {"DELETE", "$export-status/123"}, {"GET", "_bulk/123/file/1.ndjson"}, {"DELETE", "_jobs/123"}}) {
            assertEquals(RequiredAccess.READ_ANY, of(c[0], c[1]), c[0] + " " + c[1]);
        }
    }

    @Test
    void readsAndWrites() {
        assertEquals(RequiredAccess.read("Patient"), of("GET", "Patient/1"));
        assertEquals(RequiredAccess.read("Patient"), of("GET", "Patient"));
        assertEquals(RequiredAccess.read("Patient"), of("GET", "Patient/1/_history/2"));
        assertEquals(RequiredAccess.read("Patient", "Observation"), of("GET", "Patient/1/Observation"));
        assertEquals(RequiredAccess.read("Patient"), of("POST", "Patient/_search"));
        assertEquals(RequiredAccess.read("*"), of("GET", ""));
        assertEquals(RequiredAccess.read("*"), of("GET", "_history"));
        assertEquals(RequiredAccess.read("*"), of("POST", "_search"));
        assertEquals(RequiredAccess.write("Patient"), of("POST", "Patient"));
        assertEquals(RequiredAccess.write("Patient"), of("PUT", "Patient/1"));
        assertEquals(RequiredAccess.write("Patient"), of("DELETE", "Patient/1"));
        assertEquals(RequiredAccess.write("Patient"), of("PATCH", "Patient/1"));
        assertEquals(RequiredAccess.write("Patient"), of("POST", "Patient/$ingest"));
        assertEquals(RequiredAccess.write("*"), of("POST", ""));
        assertEquals(RequiredAccess.write("*"), of("POST", "$ingest"));
        assertEquals(RequiredAccess.write("*"), of("POST", "_bulk"));
    }

    @Test
    void scopesDecide() {
        ScopeSet obs = ScopeSet.parse("system/Observation.rs");
        assertTrue(RequiredAccess.READ_ANY.allowedBy(obs));
        assertTrue(of("GET", "Observation/1").allowedBy(obs));
        assertFalse(of("GET", "Patient/1").allowedBy(obs));
        assertFalse(of("GET", "Patient/1/Observation").allowedBy(obs));
        assertFalse(of("GET", "_history").allowedBy(obs));
        assertFalse(of("POST", "Observation").allowedBy(obs));
        ScopeSet writer = ScopeSet.parse("system/*.cud");
        assertFalse(RequiredAccess.READ_ANY.allowedBy(writer));
        assertTrue(of("POST", "").allowedBy(writer));
        assertTrue(of("DELETE", "Patient/1").allowedBy(ScopeSet.parse("system/Patient.d")));
        assertTrue(of("POST", "").allowedBy(ScopeSet.parse("system/*.write")));
        assertFalse(of("POST", "").allowedBy(ScopeSet.parse("system/Patient.write")));
    }
}
