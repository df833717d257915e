package io.sluice.fhir;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Builds FHIR R4 OperationOutcome resources. */
public final class OperationOutcomes {

    private OperationOutcomes() {
    }

    /**
     * One-issue OperationOutcome.
     *
     * @param severity fatal | error | warning | information
     * @param code     an IssueType code such as {@code invalid}, {@code not-found}, {@code not-supported}
     * @param text     what went wrong, for a person (goes to {@code diagnostics} and {@code details.text})
     */
    public static ObjectNode of(String severity, String code, String text) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode oo = f.objectNode();
        oo.put("resourceType", "OperationOutcome");
        ObjectNode issue = oo.putArray("issue").addObject();
        issue.put("severity", severity);
        issue.put("code", code);
        issue.putObject("details").put("text", text);
        issue.put("diagnostics", text);
        return oo;
    }

    /** Error-severity OperationOutcome. */
    public static ObjectNode error(String code, String text) {
        return of("error", code, text);
    }
}
