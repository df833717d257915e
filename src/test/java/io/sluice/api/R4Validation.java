package io.sluice.api;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;

import java.util.List;

/** One shared HAPI R4 validator for every test (building it loads the R4 definitions once, ≈ 4 s). */
final class R4Validation {

    private static FhirValidator validator;

    private R4Validation() {
    }

    private static synchronized FhirValidator validator() {
        if (validator == null) {
            FhirContext ctx = FhirContext.forR4Cached();
            ValidationSupportChain chain = new ValidationSupportChain(
                    new DefaultProfileValidationSupport(ctx),
                    new InMemoryTerminologyServerValidationSupport(ctx),
                    new CommonCodeSystemsTerminologyService(ctx),
                    new SnapshotGeneratingValidationSupport(ctx));
            FhirValidator v = ctx.newValidator();
            v.registerValidatorModule(new FhirInstanceValidator(chain));
            validator = v;
        }
        return validator;
    }

    /**
     * Error and fatal messages of validating one resource against the R4 base definitions.
     * Terminology findings on external code systems (SNOMED, LOINC, RxNorm) that an offline
     * validator cannot check are not errors.
     */
    static List<String> errors(String json) {
        var result = validator().validateWithResult(json);
        return result.getMessages().stream()
                .filter(m -> m.getSeverity() == ResultSeverityEnum.ERROR || m.getSeverity() == ResultSeverityEnum.FATAL)
                .filter(m -> !isOfflineTerminology(m))
                .map(m -> m.getLocationString() + ": " + m.getMessage())
                .toList();
    }

    private static boolean isOfflineTerminology(SingleValidationMessage m) {
        String msg = m.getMessage() == null ? "" : m.getMessage();
        return msg.contains("Unable to validate code") || msg.contains("could not be resolved")
                || msg.contains("is not known to the server") || msg.contains("Unknown code system")
                || msg.contains("None of the codings provided are in the value set");
    }
}
