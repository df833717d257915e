package io.sluice.fhir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TypeFilterTest {

    private static final ObjectMapper M = new ObjectMapper();

    private static JsonNode json(String s) {
        try {
            return M.readTree(s.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static final JsonNode OBS = json("""
            {'resourceType':'Observation','id':'o1','meta':{'lastUpdated':'2024-03-01T10:00:00.123456Z'},
             'status':'final',
             'category':[{'coding':[{'system':'http://terminology.hl7.org/CodeSystem/observation-category','code':'vital-signs'}]}],
             'code':{'coding':[{'system':'http://loinc.org','code':'8867-4'},{'code':'nosys'}]},
             'subject':{'reference':'Patient/p1'},'encounter':{'reference':'urn:uuid:e1'},
             'effectiveDateTime':'2020-05-17T13:45:00+02:00',
             'identifier':[{'system':'urn:sys','value':'ABC'}]}""");

    private static final JsonNode ENC = json("""
            {'resourceType':'Encounter','id':'e1','status':'finished',
             'class':{'system':'http://terminology.hl7.org/CodeSystem/v3-ActCode','code':'AMB'},
             'period':{'start':'2020-01-10T08:00:00Z','end':'2020-01-10T09:00:00Z'},
             'subject':{'reference':'Patient/p1'}}""");

    private static boolean matches(String type, JsonNode r, String... queries) {
        Predicate<JsonNode> p = TypeFilter.compile(type, List.of(queries));
        return p.test(r);
    }

    @Test
    void tokenForms() {
        assertTrue(matches("Observation", OBS, "code=8867-4"));
        assertTrue(matches("Observation", OBS, "code=http://loinc.org|8867-4"));
        assertTrue(matches("Observation", OBS, "code=http%3A%2F%2Floinc.org%7C8867-4"));
        assertFalse(matches("Observation", OBS, "code=http://snomed.info/sct|8867-4"));
        assertFalse(matches("Observation", OBS, "code=|8867-4"), "|code needs a coding without system");
        assertTrue(matches("Observation", OBS, "code=|nosys"));
        assertTrue(matches("Observation", OBS, "code=http://loinc.org|"));
        assertTrue(matches("Observation", OBS, "status=final"));
        assertFalse(matches("Observation", OBS, "status=|final".replace("|final", "amended")));
        assertTrue(matches("Observation", OBS, "category=vital-signs"));
        assertTrue(matches("Observation", OBS, "identifier=urn:sys|ABC"));
        assertFalse(matches("Observation", OBS, "identifier=urn:other|ABC"));
        assertTrue(matches("Encounter", ENC, "class=AMB"));
        assertTrue(matches("Observation", OBS, "_id=o1"));
        assertFalse(matches("Observation", OBS, "_id=o2"));
    }

    @Test
    void commaIsOrAmpersandIsAndFiltersAreOred() {
        assertTrue(matches("Observation", OBS, "status=amended,final"));
        assertFalse(matches("Observation", OBS, "status=final&code=1234-5"));
        assertTrue(matches("Observation", OBS, "status=final&code=1234-5,8867-4"));
        assertTrue(matches("Observation", OBS, "status=amended", "code=8867-4"));
        assertFalse(matches("Observation", OBS, "status=amended", "code=1"));
        assertTrue(TypeFilter.compile("Observation", List.of()).test(OBS));
    }

    @Test
    void datePrefixesOnDateTime() {
        // effective 2020-05-17T11:45:00Z (a one-second range)
        assertTrue(matches("Observation", OBS, "date=2020"));
        assertTrue(matches("Observation", OBS, "date=eq2020-05"));
        assertTrue(matches("Observation", OBS, "date=2020-05-17"));
        assertFalse(matches("Observation", OBS, "date=2020-05-18"));
        assertTrue(matches("Observation", OBS, "date=ne2020-05-18"));
        assertTrue(matches("Observation", OBS, "date=gt2020-05-16"));
        assertFalse(matches("Observation", OBS, "date=gt2020-05-17"));
        assertTrue(matches("Observation", OBS, "date=ge2020-05-17"));
        assertTrue(matches("Observation", OBS, "date=lt2020-05-18"));
        assertFalse(matches("Observation", OBS, "date=lt2020-05-17"));
        assertTrue(matches("Observation", OBS, "date=le2020-05-17"));
        assertTrue(matches("Observation", OBS, "date=sa2020-05-16"));
        assertFalse(matches("Observation", OBS, "date=sa2020-05-17"));
        assertTrue(matches("Observation", OBS, "date=eb2020-05-18"));
        assertTrue(matches("Observation", OBS, "date=ge2020-05-17T11:45:00Z"));
        assertTrue(matches("Observation", OBS, "date=ge2020-05-17T13:45:00+02:00"));
        assertFalse(matches("Observation", OBS, "date=gt2020-05-17T13:45:00%2B02:00"));
        assertTrue(matches("Observation", OBS, "date=le2020-05-17T13:45:00+02:00"));
        assertTrue(matches("Observation", OBS, "_lastUpdated=ge2024-03-01T10:00:00Z"));
        assertFalse(matches("Observation", OBS, "_lastUpdated=gt2024-03-01T10:00:01Z"));
    }

    @Test
    void dateOnPeriod() {
        assertTrue(matches("Encounter", ENC, "date=2020-01-10"));
        assertTrue(matches("Encounter", ENC, "date=ge2020-01-01&date=lt2020-02-01"));
        assertFalse(matches("Encounter", ENC, "date=2020-01-11"));
        assertTrue(matches("Encounter", ENC, "date=sa2020-01-09"));
        assertTrue(matches("Encounter", ENC, "date=eb2020-01-11"));
        JsonNode open = json("{'resourceType':'Encounter','period':{'start':'2020-01-10'}}");
        assertTrue(matches("Encounter", open, "date=gt2030-01-01"), "an open end reaches into the future");
        assertFalse(matches("Encounter", open, "date=lt2020-01-01"));
    }

    @Test
    void references() {
        assertTrue(matches("Observation", OBS, "subject=Patient/p1"));
        assertTrue(matches("Observation", OBS, "patient=p1"));
        assertTrue(matches("Observation", OBS, "patient=Patient/p1"));
        assertTrue(matches("Observation", OBS, "subject=http://example.org/fhir/Patient/p1"));
        assertFalse(matches("Observation", OBS, "patient=p2"));
        assertTrue(matches("Observation", OBS, "encounter=e1"));
        assertTrue(matches("Observation", OBS, "encounter=Encounter/e1"));
        assertFalse(matches("Observation", OBS, "subject=Group/p1"));
    }

    @Test
    void errorsAreClassified() {
        for (String bad : List.of("_include=Observation:subject", "_sort=date", "_count=10", "_elements=id",
                "_summary=true", "_revinclude=x", "date=2020-13-01", "date=yesterday", "status", "status=",
                "code=a|b|c", "code=%ZZ")) {
            var e = assertThrows(TypeFilter.InvalidFilterException.class, () -> TypeFilter.compileQuery("Observation", bad), bad);
            assertFalse(e.unsupported(), bad + " must be malformed, not unsupported");
        }
        for (String unsupported : List.of("value-quantity=5", "code:text=heart", "subject.name=x", "_has:Foo=1",
                "date=ap2020")) {
            var e = assertThrows(TypeFilter.InvalidFilterException.class,
                    () -> TypeFilter.compileQuery("Observation", unsupported), unsupported);
            assertTrue(e.unsupported(), unsupported + " must be unsupported");
        }
        assertThrows(TypeFilter.InvalidFilterException.class, () -> TypeFilter.compileQuery("Observation", "patient=Group/1"));
    }

    @Test
    void rangesFollowPrecision() {
        var y = TypeFilter.parseRange("2020");
        var d = TypeFilter.parseRange("2020-03-01");
        var ms = TypeFilter.parseRange("2020-03-01T00:00:00.123Z");
        assertEquals(366L * 86_400_000_000L, y.hi() - y.lo(), "2020 is a leap year");
        assertEquals(86_400_000_000L, d.hi() - d.lo());
        assertEquals(1000L, ms.hi() - ms.lo());
        assertEquals(null, TypeFilter.parseRange("2020-02-30"));
    }
}
