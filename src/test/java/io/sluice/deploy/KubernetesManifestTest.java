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

    private static Map<String, JsonNode> documents() throws Exception {
        Map<String, JsonNode> byKind = new HashMap<>();
        try (YAMLParser parser = new YAMLFactory().createParser(Path.of("deploy/kubernetes/sluice.yaml").toFile())) {
            List<JsonNode> docs = new ArrayList<>();
            YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
            for (JsonNode d : docs) {
                byKind.put(d.get("kind").asText(), d);
            }
        }
        return byKind;
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
        Set<String> known = Set.of("JAVA_OPTS_APPEND");
        Pattern sluice = Pattern.compile("SLUICE_[A-Z_]+");
        String sources = readSources();
        List<JsonNode> envMaps = List.of(docs.get("ConfigMap").get("data"), docs.get("Secret").get("stringData"));
        for (JsonNode env : envMaps) {
            env.fieldNames().forEachRemaining(name -> {
                if (known.contains(name)) {
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
