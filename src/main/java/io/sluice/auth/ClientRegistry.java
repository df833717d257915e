package io.sluice.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.Startup;
import io.sluice.config.AuthConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Registered clients: those of the clients file (read once at startup, immutable) and those an admin
 * registered through /admin/clients (in PostgreSQL, so every replica sees them at once).
 * A file client wins over a stored one with the same id; the admin endpoint refuses such ids.
 */
@Startup
@ApplicationScoped
public class ClientRegistry {

    private static final Logger LOG = Logger.getLogger(ClientRegistry.class);

    /** A client id that is already registered. */
    public static final class DuplicateClient extends Exception {
        public DuplicateClient(String clientId) {
            super("client " + clientId + " is already registered", null, false, false);
        }
    }

    /** A client of the clients file, which the admin endpoint cannot change. */
    public static final class FileClient extends Exception {
        public FileClient(String clientId) {
            super("client " + clientId + " comes from the clients file; change the file instead", null, false, false);
        }
    }

    private final AuthStore store;
    private final Map<String, RegisteredClient> fileClients;

    public ClientRegistry(AuthStore store, AuthConfig config) {
        this.store = store;
        this.fileClients = config.clientsFile().filter(f -> !f.isBlank()).map(ClientRegistry::load).orElse(Map.of());
    }

    static Map<String, RegisteredClient> load(String file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(Path.of(file)));
        } catch (IOException e) {
            throw new IllegalStateException("sluice.auth.clients-file " + file + " cannot be read: " + e.getMessage(), e);
        }
        if (root == null || !root.isArray()) {
            throw new IllegalStateException("sluice.auth.clients-file " + file + " must hold a JSON array of clients");
        }
        Map<String, RegisteredClient> out = new LinkedHashMap<>();
        for (JsonNode n : root) {
            try {
                RegisteredClient c = RegisteredClient.fromJson(n, "file", null);
                if (out.put(c.clientId(), c) != null) {
                    throw new IllegalStateException("sluice.auth.clients-file " + file + " lists client " + c.clientId() + " twice");
                }
            } catch (RegisteredClient.InvalidClientDefinition e) {
                throw new IllegalStateException("sluice.auth.clients-file " + file + ": " + e.getMessage(), e);
            }
        }
        LOG.infof("Loaded %d client(s) from %s", out.size(), file);
        return Collections.unmodifiableMap(out);
    }

    /** The client with this id, from the file or the database. */
    public Uni<Optional<RegisteredClient>> find(String clientId) {
        RegisteredClient c = fileClients.get(clientId);
        if (c != null) {
            return Uni.createFrom().item(Optional.of(c));
        }
        return store.findClient(clientId);
    }

    /**
     * Validates and stores a client definition. Fails with {@link RegisteredClient.InvalidClientDefinition}
     * or {@link DuplicateClient}.
     */
    public Uni<RegisteredClient> register(JsonNode definition) {
        RegisteredClient c;
        try {
            c = RegisteredClient.fromJson(definition, "admin", Instant.now().truncatedTo(ChronoUnit.MICROS));
        } catch (RegisteredClient.InvalidClientDefinition e) {
            return Uni.createFrom().failure(e);
        }
        if (fileClients.containsKey(c.clientId())) {
            return Uni.createFrom().failure(new DuplicateClient(c.clientId()));
        }
        return store.insertClient(c).onItem().transformToUni(inserted -> inserted
                ? Uni.createFrom().item(c)
                : Uni.createFrom().failure(new DuplicateClient(c.clientId())));
    }

    /** File clients first, then stored ones. */
    public Uni<List<RegisteredClient>> list() {
        return store.listClients().map(stored -> {
            List<RegisteredClient> all = new ArrayList<>(fileClients.values());
            all.addAll(stored);
            return all;
        });
    }

    /** Deletes a stored client; false when unknown; fails with {@link FileClient} for a file client. */
    public Uni<Boolean> delete(String clientId) {
        if (fileClients.containsKey(clientId)) {
            return Uni.createFrom().failure(new FileClient(clientId));
        }
        return store.deleteClient(clientId);
    }
}
