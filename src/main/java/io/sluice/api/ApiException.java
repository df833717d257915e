package io.sluice.api;

/**
 * A request the REST layer refuses: carries the HTTP status and the OperationOutcome issue code.
 * {@link ApiExceptionMapper} turns it into a FHIR OperationOutcome response.
 */
public class ApiException extends RuntimeException {

    private final int status;
    private final String issueCode;
    private final java.util.Map<String, String> headers;

    public ApiException(int status, String issueCode, String message) {
        this(status, issueCode, message, java.util.Map.of());
    }

    public ApiException(int status, String issueCode, String message, java.util.Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.issueCode = issueCode;
        this.headers = headers;
    }

    public int status() {
        return status;
    }

    public String issueCode() {
        return issueCode;
    }

    /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
    public java.util.Map<String, String> headers() {
        return headers;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, "invalid", message);
    }

    public static ApiException notFound(String message) {
        return new ApiException(404, "not-found", message);
    }
}
