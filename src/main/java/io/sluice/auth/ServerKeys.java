package io.sluice.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import io.sluice.config.AuthConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The keys this server signs access tokens with. From {@code sluice.auth.signing-key-file} (a private
 * JWK, or a JWK Set whose first private key signs and whose other keys still verify, for rotation), or
 * else a P-256 key generated at startup (then tokens die with the process and other replicas reject them).
 */
@io.quarkus.runtime.Startup
@ApplicationScoped
public class ServerKeys {

    private static final Logger LOG = Logger.getLogger(ServerKeys.class);

    private final JWK signingKey;
    private final JWSAlgorithm algorithm;
    private final JWSSigner signer;
    private final Map<String, JWSVerifier> verifiers = new HashMap<>();
    private final Map<String, JWSAlgorithm> algorithms = new HashMap<>();
    private final JWKSet publicKeys;

    public ServerKeys(AuthConfig config) {
        List<JWK> keys = config.signingKeyFile().filter(f -> !f.isBlank()).map(ServerKeys::load).orElseGet(ServerKeys::generate);
        this.signingKey = keys.stream().filter(JWK::isPrivate).findFirst().orElseThrow(() ->
                new IllegalStateException("sluice.auth.signing-key-file holds no private key"));
        try {
            for (JWK k : keys) {
                if (k.getKeyID() == null) {
                    throw new IllegalStateException("every key of sluice.auth.signing-key-file needs a kid");
                }
                algorithms.put(k.getKeyID(), algorithmOf(k));
                verifiers.put(k.getKeyID(), k instanceof RSAKey rsa ? new RSASSAVerifier(rsa) : new ECDSAVerifier((ECKey) k));
            }
            this.algorithm = algorithmOf(signingKey);
            this.signer = signingKey instanceof RSAKey rsa ? new RSASSASigner(rsa) : new ECDSASigner((ECKey) signingKey);
        } catch (JOSEException e) {
            throw new IllegalStateException("unusable token signing key: " + e.getMessage(), e);
        }
        this.publicKeys = new JWKSet(keys.stream().map(JWK::toPublicJWK).toList());
    }

    private static List<JWK> load(String file) {
        try {
            String json = Files.readString(Path.of(file));
            List<JWK> keys = json.contains("\"keys\"") ? JWKSet.parse(json).getKeys() : List.of(JWK.parse(json));
            LOG.infof("Access tokens are signed with key %s from %s", keys.get(0).getKeyID(), file);
            return keys;
        } catch (IOException | ParseException e) {
            throw new IllegalStateException("sluice.auth.signing-key-file " + file + " is not a readable JWK or JWK Set: " + e.getMessage(), e);
        }
    }

    private static List<JWK> generate() {
        try {
            ECKey k = new ECKeyGenerator(Curve.P_256).keyUse(KeyUse.SIGNATURE)
                    .keyID("sluice-" + UUID.randomUUID()).generate();
            LOG.info("Generated an ES256 token signing key for this process; configure sluice.auth.signing-key-file when running several replicas");
            return List.of(k);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static JWSAlgorithm algorithmOf(JWK k) {
        if (k instanceof RSAKey rsa) {
            if (rsa.size() < 2048) {
                throw new IllegalStateException("RSA signing key " + k.getKeyID() + " is shorter than 2048 bits");
            }
            return JWSAlgorithm.RS256;
        }
        if (k instanceof ECKey ec) {
            if (Curve.P_256.equals(ec.getCurve())) {
                return JWSAlgorithm.ES256;
            }
            if (Curve.P_384.equals(ec.getCurve())) {
                return JWSAlgorithm.ES384;
            }
            if (Curve.P_521.equals(ec.getCurve())) {
                return JWSAlgorithm.ES512;
            }
        }
        throw new IllegalStateException("token signing key " + k.getKeyID() + " must be RSA or EC P-256/384/521");
    }

    /** Key id put in the header of issued tokens. */
    public String keyId() {
        return signingKey.getKeyID();
    }

    /** Algorithm of issued tokens (RS256 for RSA, ES256/384/512 for EC keys). */
    public JWSAlgorithm algorithm() {
        return algorithm;
    }

    public JWSSigner signer() {
        return signer;
    }

    /** Verifier for a token header's kid, or null when the kid is not one of ours. */
    public JWSVerifier verifier(String kid) {
        return kid == null ? null : verifiers.get(kid);
    }

    /** Algorithm pinned to a kid, or null. */
    public JWSAlgorithm algorithmFor(String kid) {
        return kid == null ? null : algorithms.get(kid);
    }

    /** Public keys, for /auth/jwks. */
    public JWKSet publicKeys() {
        return publicKeys;
    }
}
