package io.sluice.output;

/** A durable part: where it is, how many resources (lines) and bytes, and its SHA-256 (hex). */
public record FinalizedPart(PartKey key, String location, long resourceCount, long byteCount, String sha256) {
}
