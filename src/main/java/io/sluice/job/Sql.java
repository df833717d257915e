package io.sluice.job;

import io.vertx.mutiny.sqlclient.Row;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/** Parameter and column conversions shared by the SQL classes (UTC, microsecond precision). */
public final class Sql {

    private Sql() {
    }

    /** An instant as a timestamptz parameter (UTC, truncated to PostgreSQL's microseconds). */
    public static OffsetDateTime ts(Instant i) {
        return i == null ? null : OffsetDateTime.ofInstant(i.truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC);
    }

    /** A timestamptz column as an instant, null-safe. */
    public static Instant instant(Row row, String column) {
        OffsetDateTime t = row.getOffsetDateTime(column);
        return t == null ? null : t.toInstant();
    }
}
