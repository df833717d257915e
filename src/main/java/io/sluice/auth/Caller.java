package io.sluice.auth;

import io.sluice.config.AuthConfig;
import jakarta.enterprise.context.RequestScoped;

import java.util.Set;

/**
 * Who is calling the current FHIR request, filled in by {@link FhirAuthFilter} before the resource
 * method runs. With auth off everything is permitted and {@link #owner()} is empty. With auth on,
 * outside {@code /fhir/**} and {@code /tenants/**} (where the filter does not run) nothing is permitted.
 */
@RequestScoped
public class Caller {

    private final boolean authEnabled;
    private String owner = "";
    private String tenant = "";
    private ScopeSet scopes = ScopeSet.EMPTY;

    public Caller(AuthConfig config) {
        this.authEnabled = config.enabled();
    }

    /** Client id of the token (the job owner); "" when auth is off. */
    public String owner() {
        return owner;
    }

    /** Tenant of the requested FHIR base ({@code default} for {@code /fhir}); with auth on also the token's tenant. */
    public String tenant() {
        return tenant;
    }

    /** Whether bearer tokens are required (then manifests say requiresAccessToken: true). */
    public boolean authEnabled() {
        return authEnabled;
    }

    /** Whether the caller may read resources of this type ({@code *}: every type). */
    public boolean mayRead(String resourceType) {
        return !authEnabled || scopes.permits(resourceType, SmartScope.READ);
    }

    /** Whether the caller may create, update or delete resources of this type ({@code *}: every type). */
    public boolean mayWrite(String resourceType) {
        return !authEnabled || scopes.permits(resourceType, SmartScope.WRITE_ANY);
    }

    /** Readable resource types; {@code Set.of("*")} when every type is readable (always so with auth off). */
    public Set<String> readableTypesOrAll() {
        return authEnabled ? scopes.readableTypesOrAll() : Set.of(SmartScope.ALL_TYPES);
    }

    /** The granted scope string of the token ("" without one). */
    public String scope() {
        return scopes.toString();
    }

    /** Filled in by the filter. */
    void set(String owner, String tenant, ScopeSet scopes) {
        this.owner = owner;
        this.tenant = tenant;
        this.scopes = scopes;
    }
}
