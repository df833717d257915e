package io.sluice.store;

/**
 * Why the store refused a request. The REST layer maps each subtype to one HTTP status once
 * (see {@code io.sluice.api.StoreExceptionMapper}).
 */
public class StoreException extends RuntimeException {

    protected StoreException(String message) {
        super(message, null, false, false);
    }

    /** The resource or request is not valid FHIR the store can accept (maps to 400). */
    public static final class Invalid extends StoreException {
        public Invalid(String message) {
            super(message);
        }
    }

    /** No such resource or version (maps to 404). */
    public static final class NotFound extends StoreException {
        public NotFound(String message) {
            super(message);
        }
    }

    /** The resource existed and is deleted (maps to 410). */
    public static final class Gone extends StoreException {
        private final StoredResource tombstone;

        public Gone(String message, StoredResource tombstone) {
            super(message);
            this.tombstone = tombstone;
        }

        /** The tombstone version (content null). */
        public StoredResource tombstone() {
            return tombstone;
        }
    }

    /** The request conflicts with itself or the stored state, e.g. one resource twice in a transaction (maps to 409). */
    public static final class Conflict extends StoreException {
        public Conflict(String message) {
            super(message);
        }
    }
}
