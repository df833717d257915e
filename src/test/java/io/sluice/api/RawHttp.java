package io.sluice.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/1.1 over a plain socket, for what HTTP clients do not let a test do: announce a body it never
 * sends, send a body chunked, and read the answer of a server that refuses and closes mid-body.
 */
final class RawHttp {

    private static final Pattern CONTENT_LENGTH = Pattern.compile("(?i)content-length: (\\d+)");

    private RawHttp() {
    }

    /**
     * Sends the request head {@code head} (its first line ends in {@code HTTP/1.1\r\n}; Host and
     * {@code Connection: close} headers are added) and, when {@code chunkedBody} is not null, that body
     * in chunks of 1 MiB; returns the answer (read up to its Content-Length, or to the end of the connection).
     */
    static String exchange(int port, String head, byte[] chunkedBody) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.replace("HTTP/1.1\r\n", "HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n").getBytes(StandardCharsets.US_ASCII));
            try {
                if (chunkedBody != null) {
                    for (int at = 0; at < chunkedBody.length; at += 1 << 20) {
                        int n = Math.min(1 << 20, chunkedBody.length - at);
                        out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.write(chunkedBody, at, n);
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                out.flush();
            } catch (IOException refusedEarly) {
                // the server answered and closed before taking the whole body: read its answer
            }
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = socket.getInputStream().read(buf)) > 0; ) {
                    answer.write(buf, 0, n);
                    String text = answer.toString(StandardCharsets.UTF_8);
                    int end = text.indexOf("\r\n\r\n");
                    Matcher len = CONTENT_LENGTH.matcher(text);
                    if (end > 0 && len.find() && text.length() - end - 4 >= Integer.parseInt(len.group(1))) {
                        break;
                    }
                }
            } catch (SocketException reset) {
                // a reset after the answer was read
            }
            return answer.toString(StandardCharsets.UTF_8);
        }
    }

    /** A body that starts like a Patient and goes on with {@code bytes} in all (not valid JSON: it never ends). */
    static byte[] endlessPatient(int bytes) {
        byte[] body = new byte[bytes];
        java.util.Arrays.fill(body, (byte) 'x');
        byte[] start = "{\"resourceType\":\"Patient\",\"text\":\"".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(start, 0, body, 0, start.length);
        return body;
    }

    /** Asserts a raw answer: the status, a FHIR JSON OperationOutcome, and {@code text} in it. */
    static void assertOutcome(String answer, int status, String text) {
        assertTrue(answer.startsWith("HTTP/1.1 " + status + " "), answer);
        assertTrue(answer.toLowerCase().contains("content-type: application/fhir+json"), answer);
        String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
        assertTrue(body.contains("\"resourceType\":\"OperationOutcome\""), answer);
        assertTrue(body.contains(text), answer);
    }
}
