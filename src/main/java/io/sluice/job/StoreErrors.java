package io.sluice.job;

import io.vertx.pgclient.PgException;

import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;

/** Translates database client failures into the {@link JobStoreException} hierarchy (once, at the store boundary). */
public final class StoreErrors {

    private StoreErrors() {
    }

    /** Wraps {@code t} as transient or permanent; exceptions already in the hierarchy pass through. */
    public static Throwable translate(Throwable t) {
        if (t instanceof JobStoreException) {
            return t;
        }
        if (isTransient(t)) {
            return new TransientStoreException("database unavailable: " + describe(t), t);
        }
        return new JobStoreException("database error: " + describe(t), t);
    }

    /**
     * True for failures a retry can cure: SQLSTATE classes 08 (connection), 40001/40P01
     * (serialization, deadlock), 57P01-57P03 (server shutting down / terminated backend, e.g.
     * {@code pg_terminate_backend}), 53300 (too many connections); refused or closed connections.
     */
    public static boolean isTransient(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof TransientStoreException) {
                return true;
            }
            if (c instanceof io.sluice.output.OutputStoreException o) {
                return o.isTransient();
            }
            if (c instanceof PgException pg) {
                String s = pg.getSqlState();
                if (s != null && (s.startsWith("08") || s.equals("40001") || s.equals("40P01")
                        || s.startsWith("57P0") || s.equals("53300"))) {
                    return true;
                }
            }
            if (c instanceof ConnectException || c instanceof ClosedChannelException
                    || c instanceof io.vertx.core.impl.NoStackTraceThrowable && isClosedMessage(c.getMessage())
                    || c.getClass().getName().equals("io.vertx.sqlclient.ClosedConnectionException")
                    || c instanceof io.vertx.core.VertxException && isClosedMessage(c.getMessage())
                    || c instanceof java.io.IOException && isClosedMessage(c.getMessage())) {
                return true;
            }
        }
        return false;
    }

    /**
     * True when PostgreSQL aborted the transaction as a deadlock victim (40P01) or serialization failure
     * (40001): it was rolled back entirely, so running it again is safe (unlike a lost connection, where
     * the commit may have happened).
     */
    public static boolean isConflictRollback(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof PgException pg && ("40P01".equals(pg.getSqlState()) || "40001".equals(pg.getSqlState()))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isClosedMessage(String m) {
        if (m == null) {
            return false;
        }
        String s = m.toLowerCase();
        return s.contains("connection was closed") || s.contains("connection closed") || s.contains("connection reset")
                || s.contains("connection refused") || s.contains("closed connection") || s.contains("timeout")
                || s.contains("connection is not active") || s.contains("connection may have been lost");
    }

    /** A short cause description for error messages. */
    public static String describe(Throwable t) {
        Throwable root = t;
        while (root instanceof JobStoreException && root.getCause() != null) {
            root = root.getCause();
        }
        String msg = root.getMessage();
        return root.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
    }
}
