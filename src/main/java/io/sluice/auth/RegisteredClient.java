package io.sluice.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;

import java.text.ParseException;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A backend service allowed to get tokens: its id, tenant, the scopes it may ask for and the public
 * keys it signs client assertions with.
 *
 * @param clientId  the client id ({@code iss} and {@code sub} of its assertions)
 * @param tenant    the only tenant its tokens are valid for
 * @param scopes    scopes it may be granted
 * @param jwks      public keys, looked up by {@code kid}
 * @param source    {@code file} or {@code admin}
 * @param createdAt when an admin registered it; null for file clients
 */
public record RegisteredClient(String clientId, String tenant, ScopeSet scopes, JWKSet jwks, String source,
                               Instant createdAt) {

    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper();

    public static final Pattern CLIENT_ID = Pattern.compile("[A-Za-z0-9._~:@/+=-]{1,256}");
    public static final Pattern TENANT = Pattern.compile("[a-z0-9-]{1,64}");

    /** Thrown for a client definition that cannot be used; the message says why. */
    public static final class InvalidClientDefinition extends Exception {
        public InvalidClientDefinition(String message) {
            super(message, null, false, false);
        }
    }

    /** Validates and builds a client from its JSON definition {client_id, jwks, scopes, tenant}. */
    public static RegisteredClient fromJson(JsonNode node, String source, Instant createdAt) throws InvalidClientDefinition {
        if (node == null || !node.isObject()) {
            throw new InvalidClientDefinition("a client must be a JSON object with client_id, jwks, scopes and tenant");
        }
        String clientId = text(node, "client_id");
        if (!CLIENT_ID.matcher(clientId).matches()) {
            throw new InvalidClientDefinition("client_id '" + clientId + "' must be 1-256 characters of A-Z a-z 0-9 . _ ~ : @ / + = -");
        }
        String tenant = node.hasNonNull("tenant") ? text(node, "tenant") : "default";
        if (!TENANT.matcher(tenant).matches()) {
            throw new InvalidClientDefinition("tenant '" + tenant + "' of client " + clientId + " must match [a-z0-9-]{1,64}");
        }
        String scopeString = text(node, "scopes");
        List<String> bad = ScopeSet.unsupported(scopeString);
        if (!bad.isEmpty()) {
            throw new InvalidClientDefinition("client " + clientId + " has unsupported scopes " + bad
                    + " (allowed: system/<Type|*>.<read|write|*|cruds letters>, no query restrictions)");
        }
        ScopeSet scopes = ScopeSet.parse(scopeString);
        if (scopes.isEmpty()) {
            throw new InvalidClientDefinition("client " + clientId + " needs at least one scope");
        }
        JsonNode jwksNode = node.get("jwks");
        if (jwksNode == null || !jwksNode.isObject()) {
            throw new InvalidClientDefinition("client " + clientId + " needs jwks: {\"keys\": [...]}");
        }
        JWKSet jwks;
        try {
            jwks = JWKSet.parse(jwksNode.toString());
        } catch (ParseException e) {
            throw new InvalidClientDefinition("jwks of client " + clientId + " is not a JWK Set: " + e.getMessage());
        }
        checkKeys(clientId, jwks);
        return new RegisteredClient(clientId, tenant, scopes, jwks, source, createdAt);
    }

    private static void checkKeys(String clientId, JWKSet jwks) throws InvalidClientDefinition {
        if (jwks.getKeys().isEmpty()) {
            throw new InvalidClientDefinition("jwks of client " + clientId + " has no keys");
        }
        Set<String> kids = new HashSet<>();
        for (JWK k : jwks.getKeys()) {
            if (k.getKeyID() == null || k.getKeyID().isBlank()) {
                throw new InvalidClientDefinition("every key of client " + clientId + " needs a kid");
            }
            if (!kids.add(k.getKeyID())) {
                throw new InvalidClientDefinition("kid " + k.getKeyID() + " appears twice in the jwks of client " + clientId);
            }
            if (k.isPrivate()) {
                throw new InvalidClientDefinition("key " + k.getKeyID() + " of client " + clientId
                        + " holds private key material; register public keys only");
            }
            if (k.getKeyUse() != null && !KeyUse.SIGNATURE.equals(k.getKeyUse())) {
                throw new InvalidClientDefinition("key " + k.getKeyID() + " of client " + clientId + " is not a signature key");
            }
            if (k instanceof RSAKey rsa) {
                if (rsa.size() < 2048) {
                    throw new InvalidClientDefinition("RSA key " + k.getKeyID() + " of client " + clientId + " is shorter than 2048 bits");
                }
            } else if (k instanceof ECKey ec) {
                Curve c = ec.getCurve();
                if (!Curve.P_256.equals(c) && !Curve.P_384.equals(c) && !Curve.P_521.equals(c)) {
                    throw new InvalidClientDefinition("EC key " + k.getKeyID() + " of client " + clientId + " uses an unsupported curve");
                }
            } else {
                throw new InvalidClientDefinition("key " + k.getKeyID() + " of client " + clientId
                        + " must be an RSA or EC public key (kty " + k.getKeyType() + ")");
            }
        }
    }

    private static String text(JsonNode node, String field) throws InvalidClientDefinition {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new InvalidClientDefinition("client field '" + field + "' is required and must be a non-empty string");
        }
        return v.asText().trim();
    }

    /** The client as admin JSON: client_id, tenant, scopes, jwks (public), source, created_at. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("client_id", clientId);
        o.put("tenant", tenant);
        o.put("scopes", scopes.toString());
        try {
            o.set("jwks", MAPPER.readTree(jwks.toString(true)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        o.put("source", source);
        if (createdAt != null) {
            o.put("created_at", createdAt.toString());
        }
        return o;
    }
}
