package io.sluice.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;

/** Keys generated once per test JVM: clients', the server's (configured as signing key) and an external issuer's. */
final class AuthTestKeys {

    static final RSAKey CLIENT_RSA = rsa("client-rsa");
    static final ECKey CLIENT_EC = ec("client-ec", Curve.P_384);
    /** Same kid as CLIENT_RSA, other key material: an attacker's. */
    static final RSAKey ATTACKER_RSA = rsa("client-rsa");
    static final ECKey SERVER = ec("server-1", Curve.P_256);
    /** Same kid as SERVER, other key material. */
    static final ECKey FORGED_SERVER = ec("server-1", Curve.P_256);
    static final RSAKey EXTERNAL = rsa("ext-1");
    static final RSAKey EXTERNAL_OTHER = rsa("ext-1");

    private AuthTestKeys() {
    }

    static String publicJwks(JWK... keys) {
        return new JWKSet(java.util.Arrays.stream(keys).map(JWK::toPublicJWK).toList()).toString(true);
    }

    private static RSAKey rsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).keyUse(KeyUse.SIGNATURE).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ECKey ec(String kid, Curve curve) {
        try {
            return new ECKeyGenerator(curve).keyID(kid).keyUse(KeyUse.SIGNATURE).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }
}
