package io.sluice.auth;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.AuthConfig;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;

/**
 * The SMART configuration document ({@code .well-known/smart-configuration}) and the matching
 * CapabilityStatement {@code rest.security} element, so the metadata endpoint can advertise the same.
 */
@ApplicationScoped
public class SmartConfiguration {

    /** Scopes advertised in scopes_supported. */
    static final List<String> SCOPES = List.of("system/*.read", "system/*.rs", "system/*.r", "system/*.s",
            "system/*.write", "system/*.cud", "system/*.c", "system/*.u", "system/*.d", "system/*.*", "system/*.cruds");

    private final AuthConfig config;
    private final PublicUrls urls;
    private final TokenService tokens;

    public SmartConfiguration(AuthConfig config, PublicUrls urls, TokenService tokens) {
        this.config = config;
        this.urls = urls;
        this.tokens = tokens;
    }

    /** Whether tokens are required (a metadata endpoint adds {@link #capabilitySecurity} only then). */
    public boolean enabled() {
        return config.enabled();
    }

    /** The SMART configuration document for a request (same for every tenant: one token endpoint). */
    public ObjectNode document(HttpServerRequest request) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode o = f.objectNode();
        o.put("token_endpoint", urls.tokenEndpoint(request));
        o.put("jwks_uri", urls.base(request) + "/auth/jwks");
        o.putArray("grant_types_supported").add("client_credentials");
        o.putArray("token_endpoint_auth_methods_supported").add("private_key_jwt");
        ArrayNode algs = o.putArray("token_endpoint_auth_signing_alg_values_supported");
        tokens.assertionAlgorithmNames().forEach(algs::add);
        ArrayNode scopes = o.putArray("scopes_supported");
        SCOPES.forEach(scopes::add);
        o.putArray("response_types_supported").add("token");
        o.putArray("capabilities").add("client-confidential-asymmetric").add("permission-v1").add("permission-v2");
        return o;
    }

    /**
     * The CapabilityStatement {@code rest[0].security} element for SMART: service SMART-on-FHIR and the
     * oauth-uris extension with the token endpoint. Put it into the CapabilityStatement when {@link #enabled()}.
     */
    public ObjectNode capabilitySecurity(HttpServerRequest request) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode security = f.objectNode();
        ObjectNode oauth = security.putArray("extension").addObject();
        oauth.put("url", "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
        ObjectNode token = oauth.putArray("extension").addObject();
        token.put("url", "token");
        token.put("valueUri", urls.tokenEndpoint(request));
        ObjectNode coding = security.putArray("service").addObject().putArray("coding").addObject();
        coding.put("system", "http://terminology.hl7.org/CodeSystem/restful-security-service");
        coding.put("code", "SMART-on-FHIR");
        security.put("description", "SMART Backend Services: client_credentials with private_key_jwt; see .well-known/smart-configuration");
        return security;
    }
}
