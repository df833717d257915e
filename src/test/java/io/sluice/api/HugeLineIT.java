package io.sluice.api;

import io.sluice.support.ServiceProcesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A 50 MB resource sent to {@code $ingest} of the packaged service at -Xmx160m with the line limit raised
 * to 64 MB: parsing it needs several times its size and runs out of heap. The line is rejected in the
 * report, the other lines are stored, the answer is 200 and the process stays healthy (no 5xx).
 */
class HugeLineIT {

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() {
        processes.forEach(Process::destroyForcibly);
    }

    @Test
    void aLineTooLargeForTheHeapIsRejectedAndTheOthersAreStored() throws Exception {
        Path work = Files.createDirectories(Path.of("target", "huge-" + UUID.randomUUID().toString().substring(0, 8)))
                .toAbsolutePath();
        Path log = work.resolve("huge.log");
        ServiceProcesses.start("huge", work.resolve("exports"), log, processes,
                List.of("sluice.store.ingest-max-line-bytes=67108864"));
        int port = ServiceProcesses.port(log);
        StringBuilder body = new StringBuilder(52_500_000)
                .append("{\"resourceType\":\"Patient\",\"id\":\"before\"}\n")
                .append("{\"resourceType\":\"Binary\",\"id\":\"huge\",\"contentType\":\"application/octet-stream\",\"data\":\"");
        body.append("A".repeat(50 * 1024 * 1024)).append("\"}\n")
                .append("{\"resourceType\":\"Patient\",\"id\":\"after\"}\n");
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/tenants/huge/fhir/$ingest"))
                .header("Content-Type", "application/fhir+ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"name\":\"stored\",\"valueInteger\":2"), r.body());
        assertTrue(r.body().contains("\"name\":\"line\",\"valueInteger\":2"), r.body());
        assertTrue(r.body().contains("too large for this server's memory"), r.body());
        for (String id : List.of("before", "after")) {
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/tenants/huge/fhir/Patient/" + id))
                    .build(), HttpResponse.BodyHandlers.discarding()).statusCode());
        }
        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode());
    }
}
