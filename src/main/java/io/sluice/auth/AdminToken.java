package io.sluice.auth;

import io.sluice.api.ApiException;
import io.sluice.config.AuthConfig;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * The operator credential {@code sluice.auth.admin-token}: {@link #check} lets a request through
 * only with {@code Authorization: Bearer <admin-token>} (constant-time compare); 404 when no
 * admin token is configured, 401 otherwise. Used by the ops dashboard's JSON API.
 */
@ApplicationScoped
public class AdminToken {

    private final byte[] token;

    public AdminToken(AuthConfig config) {
        this.token = config.adminToken().filter(s -> !s.isBlank())
                .map(s -> s.getBytes(StandardCharsets.UTF_8)).orElse(null);
    }

    /** Whether an admin token is configured. */
    public boolean enabled() {
        return token != null;
    }

    /** Throws the 404 / 401 {@link ApiException} unless {@code authorization} carries the admin token. */
    public void check(String authorization) {
        if (token == null) {
            throw ApiException.notFound("the admin API is disabled (set sluice.auth.admin-token to enable it)");
        }
        String presented = authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                ? authorization.substring(7).trim() : "";
        if (presented.isEmpty() || !MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "login", "the admin API needs Authorization: Bearer <sluice.auth.admin-token>",
                    Map.of("WWW-Authenticate", "Bearer realm=\"sluice-admin\", error=\"invalid_token\""));
        }
    }
}
