package io.sluice.api;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.HttpHeaders;

/**
 * Who is calling and whether downloads need a token: the one place authorization plugs into the
 * export API. Without auth every caller is the anonymous owner {@code ""} and files need no token.
 */
@ApplicationScoped
public class AccessPolicy {

    /** The client id owning jobs created by this request; {@code ""} while auth is off. */
    public String owner(HttpHeaders headers) {
        return owner(name -> headers.getRequestHeader(name) == null ? java.util.List.of() : headers.getRequestHeader(name));
    }

    /** The same for callers outside JAX-RS (the file download route); {@code header} gives a header's values. */
    public String owner(java.util.function.Function<String, java.util.List<String>> header) {
        return "";
    }

    /** The manifest's {@code requiresAccessToken}: whether downloading files needs the bearer token. */
    public boolean requiresAccessToken() {
        return false;
    }
}
