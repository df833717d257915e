package io.sluice.job;

import io.quarkus.runtime.annotations.RegisterForReflection;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The normalized, validated parameters of one export: what the API hands the engine and what the
 * job row stores (as JSON, column export_job.request). Empty lists mean "no restriction".
 *
 * @param types            resource types to export; empty = every type the level allows
 * @param since            only resources whose lastUpdated is at or after this instant (inclusive)
 * @param until            only resources whose lastUpdated is at or before this instant (inclusive)
 * @param elements         {@code _elements} entries, each {@code element} or {@code Type.element}
 * @param patients         patient ids ({@code patient} parameter) limiting Patient/Group exports
 * @param typeFilters      {@code _typeFilter} per type: each value is one query string (filters of a type are OR'ed)
 * @param includeAssociatedData accepted {@code includeAssociatedData} values
 * @param lenientIssues    what was ignored under {@code Prefer: handling=lenient}; written to the manifest's error files
 */
@RegisterForReflection
public record ExportRequest(
        List<String> types,
        Instant since,
        Instant until,
        List<String> elements,
        List<String> patients,
        Map<String, List<String>> typeFilters,
        List<String> includeAssociatedData,
        List<String> lenientIssues) {

    public ExportRequest {
        types = types == null ? List.of() : List.copyOf(types);
        elements = elements == null ? List.of() : List.copyOf(elements);
        patients = patients == null ? List.of() : List.copyOf(patients);
        typeFilters = typeFilters == null ? Map.of() : Map.copyOf(typeFilters);
        includeAssociatedData = includeAssociatedData == null ? List.of() : List.copyOf(includeAssociatedData);
        lenientIssues = lenientIssues == null ? List.of() : List.copyOf(lenientIssues);
    }

    /** An unrestricted request. */
    public static ExportRequest all() {
        return new ExportRequest(null, null, null, null, null, null, null, null);
    }
}
