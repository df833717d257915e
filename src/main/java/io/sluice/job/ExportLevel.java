package io.sluice.job;

/** What an export covers: everything, every patient's compartment, or one Group's members. */
public enum ExportLevel {
    SYSTEM("system"),
    PATIENT("patient"),
    GROUP("group");

    private final String wire;

    ExportLevel(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    public static ExportLevel fromWire(String s) {
        for (ExportLevel l : values()) {
            if (l.wire.equals(s)) {
                return l;
            }
        }
        throw new IllegalArgumentException("unknown export level " + s);
    }
}
