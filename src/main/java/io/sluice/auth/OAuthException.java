package io.sluice.auth;

/**
 * A token request the authorization server refuses, rendered as an RFC 6749 error response
 * ({@code {"error": code, "error_description": text}}) by {@link TokenResource}.
 */
public class OAuthException extends RuntimeException {

    private final int status;
    private final String error;
    private final long retryAfterSeconds;

    public OAuthException(int status, String error, String description) {
        this(status, error, description, 0);
    }

    public OAuthException(int status, String error, String description, long retryAfterSeconds) {
        super(description, null, false, false);
        this.status = status;
        this.error = error;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 400 invalid_request. */
    public static OAuthException invalidRequest(String description) {
        return new OAuthException(400, "invalid_request", description);
    }

    /** 401 invalid_client: the client could not be authenticated. */
    public static OAuthException invalidClient(String description) {
        return new OAuthException(401, "invalid_client", description);
    }

    /** 400 invalid_scope. */
    public static OAuthException invalidScope(String description) {
        return new OAuthException(400, "invalid_scope", description);
    }

    /** 400 unsupported_grant_type. */
    public static OAuthException unsupportedGrantType(String description) {
        return new OAuthException(400, "unsupported_grant_type", description);
    }

    public int status() {
        return status;
    }

    public String error() {
        return error;
    }

    /** Seconds for a Retry-After header; 0 for none. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
