package io.sluice.api;

/** Media types of the FHIR REST API. */
public final class FhirMedia {

    public static final String FHIR_JSON = "application/fhir+json";
    public static final String FHIR_NDJSON = "application/fhir+ndjson";
    public static final String NDJSON = "application/ndjson";
    public static final String X_NDJSON = "application/x-ndjson";

    private FhirMedia() {
    }
}
