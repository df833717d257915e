package io.sluice.fhir;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The JSON codec for stored FHIR resources: decimals keep their exact text (1.50 stays 1.50),
 * duplicate keys and trailing garbage are errors, output is minified.
 */
public final class FhirJson {

    /** The share of the JVM heap the largest JSON text parsed whole may have ({@link #maxParseBytes}). */
    public static final int HEAP_SHARE = 16;

    /** {@link #maxParseBytes} as messages name it. */
    public static final String MAX_PARSE_RULE = "a " + HEAP_SHARE + "th of this server's JVM heap";

    /** Largest single string value accepted (e.g. a base64 attachment), in characters. */
    public static final int MAX_STRING_LENGTH = 200_000_000;

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength(MAX_STRING_LENGTH).build());
    }

    private FhirJson() {
    }

    /**
     * Largest JSON text this process parses whole (a request body, a resource to project or filter on
     * export): a {@value #HEAP_SHARE}th of the JVM heap, 12 MB at -Xmx192m, because a parse needs several
     * times the text's size and larger texts ran a small heap out of memory. Streaming paths ({@code $ingest}
     * lines are parsed one at a time, stored resources export unparsed) are not bound by it.
     */
    public static long maxParseBytes() {
        return Runtime.getRuntime().maxMemory() / HEAP_SHARE;
    }

    /** A configured limit on a text parsed whole, held to {@link #maxParseBytes}. */
    public static long maxParseBytes(long configured) {
        return Math.min(configured, maxParseBytes());
    }

    /** The shared mapper (thread-safe). */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /**
     * Parses a JSON object.
     *
     * @throws InvalidJsonException when the text is not one well-formed JSON object
     */
    public static ObjectNode parseObject(String text) {
        try {
            return asObject(MAPPER.readTree(text));
        } catch (JsonProcessingException e) {
            throw malformed(e);
        }
    }

    /**
     * Parses a JSON object from UTF-8 text.
     *
     * @throws InvalidJsonException when the text is not one well-formed JSON object
     */
    public static ObjectNode parseObject(byte[] utf8) {
        try {
            return asObject(MAPPER.readTree(utf8));
        } catch (JsonProcessingException e) {
            throw malformed(e);
        } catch (IOException e) {
            throw new UncheckedIOException("reading JSON from memory", e); // no I/O happens
        }
    }

    private static InvalidJsonException malformed(JsonProcessingException e) {
        return new InvalidJsonException("malformed JSON: " + e.getOriginalMessage()
                + (e.getLocation() != null ? " at line " + e.getLocation().getLineNr()
                + ", column " + e.getLocation().getColumnNr() : ""));
    }

    private static ObjectNode asObject(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            throw new InvalidJsonException("empty body: expected a JSON object");
        }
        if (!n.isObject()) {
            throw new InvalidJsonException("expected a JSON object, got " + n.getNodeType().name().toLowerCase());
        }
        return (ObjectNode) n;
    }

    /** Minified JSON text of a node. */
    public static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize JSON", e);
        }
    }

    /** JSON text is not a well-formed object. */
    public static class InvalidJsonException extends RuntimeException {
        public InvalidJsonException(String message) {
            super(message, null, false, false);
        }
    }
}
