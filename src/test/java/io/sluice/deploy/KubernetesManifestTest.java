package io.sluice.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parses deploy/kubernetes/sluice.yaml and checks it against the application's configuration. */
class KubernetesManifestTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static List<JsonNode> all() throws Exception {
        try (YAMLParser parser = new YAMLFactory().createParser(Path.of("deploy/kubernetes/sluice.yaml").toFile())) {
            List<JsonNode> docs = new ArrayList<>();
            YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
            return docs;
        }
    }

    /** First document of each kind (by name "sluice-db" for the Secret, the database one). */
    private static Map<String, JsonNode> documents() throws Exception {
        Map<String, JsonNode> byKind = new HashMap<>();
        for (JsonNode d : all()) {
            byKind.putIfAbsent(d.get("kind").asText(), d);
        }
        return byKind;
    }

    private static JsonNode named(String kind, String name) throws Exception {
        for (JsonNode d : all()) {
            if (d.get("kind").asText().equals(kind) && d.at("/metadata/name").asText().equals(name)) {
                return d;
            }
        }
        throw new AssertionError("no " + kind + " " + name);
    }

    private static long mebibytes(String quantity) {
        if (quantity.endsWith("Gi")) {
            return Long.parseLong(quantity.substring(0, quantity.length() - 2)) * 1024;
        }
        assertTrue(quantity.endsWith("Mi"), quantity);
        return Long.parseLong(quantity.substring(0, quantity.length() - 2));
    }

    @Test
    void memoryFitsTheMeasuredFootprintAndSecretsAreWired() throws Exception {
        Map<String, JsonNode> docs = documents();
        JsonNode pod = docs.get("Deployment").at("/spec/template/spec");
        JsonNode container = pod.at("/containers/0");
        // docs/operations.md: peak RSS 402 MiB with -Xmx256m; the request must hold it, the limit leave headroom
        String opts = docs.get("ConfigMap").at("/data/JAVA_OPTS_APPEND").asText();
        assertTrue(opts.contains("-Xmx256m"), opts);
        long request = mebibytes(container.at("/resources/requests/memory").asText());
        long limit = mebibytes(container.at("/resources/limits/memory").asText());
        assertTrue(request >= 402 && limit >= request && limit >= 402 * 3 / 2, request + "/" + limit);
        assertTrue(Files.readString(Path.of("docs/operations.md")).contains("402 MiB"), "measured figure documented");
        // the signing key is one shared Secret file: the env path points into its mount
        String keyFile = docs.get("ConfigMap").at("/data/SLUICE_AUTH_SIGNING_KEY_FILE").asText();
        String mountPath = null;
        for (JsonNode m : container.get("volumeMounts")) {
            if (m.get("name").asText().equals("auth")) {
                mountPath = m.get("mountPath").asText();
            }
        }
        assertNotNull(mountPath);
        assertTrue(keyFile.startsWith(mountPath + "/"), keyFile);
        JsonNode auth = named("Secret", "sluice-auth");
        assertTrue(auth.at("/stringData").has(keyFile.substring(mountPath.length() + 1)), "key file in Secret sluice-auth");
        // metrics are scraped where the service exposes them; the worker id is the pod name
        assertEquals("/q/metrics", docs.get("Deployment").at("/spec/template/metadata/annotations").path("prometheus.io/path").asText());
        boolean workerIdFromPod = false;
        for (JsonNode e : container.get("env")) {
            if (e.get("name").asText().equals("SLUICE_WORKER_ID")) {
                workerIdFromPod = e.at("/valueFrom/fieldRef/fieldPath").asText().equals("metadata.name");
            }
        }
        assertTrue(workerIdFromPod, "SLUICE_WORKER_ID from metadata.name");
        assertTrue(docs.get("PodDisruptionBudget").at("/spec/minAvailable").asInt()
                < docs.get("Deployment").at("/spec/replicas").asInt(), "PDB must allow one disruption");
    }

    @Test
    void deploymentHasThreeReplicasProbesAndGracePeriod() throws Exception {
        Map<String, JsonNode> docs = documents();
        JsonNode deployment = docs.get("Deployment");
        assertNotNull(deployment);
        assertEquals(3, deployment.at("/spec/replicas").asInt());
        JsonNode pod = deployment.at("/spec/template/spec");
        JsonNode container = pod.at("/containers/0");
        assertEquals(8080, container.at("/ports/0/containerPort").asInt());
        assertEquals("/q/health/live", container.at("/livenessProbe/httpGet/path").asText());
        assertEquals("/q/health/ready", container.at("/readinessProbe/httpGet/path").asText());
        assertEquals("/q/health/started", container.at("/startupProbe/httpGet/path").asText());
        assertEquals("http", container.at("/readinessProbe/httpGet/port").asText());

        Properties app = new Properties();
        try (InputStream in = Files.newInputStream(Path.of("src/main/resources/application.properties"))) {
            app.load(in);
        }
        assertEquals("8080", app.getProperty("quarkus.http.port"));
        // the grace period must outlast a heartbeat interval, so leases are released on SIGTERM
        Duration heartbeat = Duration.parse(docs.get("ConfigMap").at("/data/SLUICE_EXPORT_HEARTBEAT").asText());
        assertTrue(pod.get("terminationGracePeriodSeconds").asInt() > heartbeat.toSeconds());
        assertTrue(docs.containsKey("PodDisruptionBudget"));
        assertEquals("http", docs.get("Service").at("/spec/ports/0/targetPort").asText());
    }

    @Test
    void everyEnvironmentNameIsAConfigPropertyOfTheApplication() throws Exception {
        Map<String, JsonNode> docs = documents();
        // Quarkus built-ins documented in docs/operations.md
        Set<String> known = Set.of("JAVA_OPTS_APPEND", "QUARKUS_HTTP_PROXY_PROXY_ADDRESS_FORWARDING");
        Pattern sluice = Pattern.compile("SLUICE_[A-Z_]+");
        Pattern fileKey = Pattern.compile("[a-z0-9.-]+\\.json");
        String sources = readSources();
        List<JsonNode> envMaps = new ArrayList<>();
        for (JsonNode d : all()) {
            if (d.get("kind").asText().equals("ConfigMap")) {
                envMaps.add(d.get("data"));
            } else if (d.get("kind").asText().equals("Secret")) {
                envMaps.add(d.get("stringData"));
            }
        }
        com.fasterxml.jackson.databind.node.ObjectNode containerEnv = YAML.createObjectNode();
        for (JsonNode e : docs.get("Deployment").at("/spec/template/spec/containers/0/env")) {
            containerEnv.put(e.get("name").asText(), "");
        }
        envMaps.add(containerEnv);
        for (JsonNode env : envMaps) {
            env.fieldNames().forEachRemaining(name -> {
                if (known.contains(name) || fileKey.matcher(name).matches()) {
                    return;
                }
                if (name.startsWith("QUARKUS_")) {
                    assertTrue(sources.contains(toProperty(name)), name + " is not set in application.properties");
                    return;
                }
                assertTrue(sluice.matcher(name).matches(), name + " is not a Sluice setting");
                assertTrue(isMappingMethod(name, sources) || sources.contains(toProperty(name)),
                        name + " matches no configuration key (" + toProperty(name) + ")");
            });
        }
    }

    /** SLUICE_EXPORT_WORKER_SLOTS -> a mapping with prefix "sluice.export" and a method workerSlots(). */
    private static boolean isMappingMethod(String env, String sources) {
        String[] parts = env.toLowerCase().split("_");
        if (parts.length < 3) {
            return false;
        }
        StringBuilder method = new StringBuilder(parts[2]);
        for (int i = 3; i < parts.length; i++) {
            method.append(Character.toUpperCase(parts[i].charAt(0))).append(parts[i].substring(1));
        }
        return sources.contains("prefix = \"sluice." + parts[1] + "\"") && sources.contains(" " + method + "()");
    }

    /** SLUICE_DB_URL -> sluice.db.url (a property in application.properties). */
    private static String toProperty(String env) {
        return env.toLowerCase().replace('_', '.') + "=";
    }

    private static String readSources() throws Exception {
        StringBuilder all = new StringBuilder(Files.readString(Path.of("src/main/resources/application.properties")));
        try (var files = Files.walk(Path.of("src/main/java/io/sluice/config"))) {
            for (Path p : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                all.append(Files.readString(p));
            }
        }
        return all.toString();
    }
}
