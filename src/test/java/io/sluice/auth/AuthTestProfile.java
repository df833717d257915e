package io.sluice.auth;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Auth switched on, with a clients file, a configured signing key, an admin token and an external issuer. */
public class AuthTestProfile implements QuarkusTestProfile {

    static final String ADMIN_TOKEN = "admin-secret-for-tests";
    static final String EXTERNAL_ISSUER = "https://idp.example.org/realms/sluice";

    @Override
    public Map<String, String> getConfigOverrides() {
        try {
            Path dir = Files.createTempDirectory("sluice-auth-test");
            String rsa = AuthTestKeys.publicJwks(AuthTestKeys.CLIENT_RSA);
            String ec = AuthTestKeys.publicJwks(AuthTestKeys.CLIENT_EC);
            String clients = "[" + String.join(",",
                    client("rsa-client", rsa, "system/*.read system/Patient.cud", "default"),
                    client("ec-client", ec, "system/*.rs", "default"),
                    client("obs-client", rsa, "system/Observation.rs", "default"),
                    client("acme-client", rsa, "system/*.read", "acme"),
                    client("rl-client", rsa, "system/*.read", "default")) + "]";
            Path clientsFile = Files.writeString(dir.resolve("clients.json"), clients);
            Path serverKey = Files.writeString(dir.resolve("server-key.json"), AuthTestKeys.SERVER.toJSONString());
            Path extJwks = Files.writeString(dir.resolve("external-jwks.json"), AuthTestKeys.publicJwks(AuthTestKeys.EXTERNAL));
            Map<String, String> m = new HashMap<>();
            m.put("sluice.auth.enabled", "true");
            m.put("sluice.auth.clients-file", clientsFile.toString());
            m.put("sluice.auth.signing-key-file", serverKey.toString());
            m.put("sluice.auth.admin-token", ADMIN_TOKEN);
            m.put("sluice.auth.external.issuer", EXTERNAL_ISSUER);
            m.put("sluice.auth.external.jwks-file", extJwks.toString());
            m.put("sluice.auth.rate-limit.client-burst", "30");
            m.put("sluice.auth.rate-limit.client-per-minute", "600");
            m.put("sluice.auth.rate-limit.ip-burst", "100000");
            m.put("sluice.auth.rate-limit.ip-per-minute", "100000");
            return m;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String client(String id, String jwks, String scopes, String tenant) {
        return "{\"client_id\":\"" + id + "\",\"jwks\":" + jwks + ",\"scopes\":\"" + scopes + "\",\"tenant\":\"" + tenant + "\"}";
    }
}
