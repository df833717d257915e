package io.sluice.job;

/**
 * What the API submits to start an export.
 *
 * @param tenant     tenant id ({@code default} for {@code /fhir})
 * @param level      system, patient or group
 * @param groupId    the Group id for group level, else null
 * @param request    normalized parameters
 * @param requestUrl the kick-off URL as the client sent it (goes into the manifest)
 * @param owner      client id of the caller; empty when auth is off
 */
public record NewExportJob(String tenant, ExportLevel level, String groupId, ExportRequest request,
                           String requestUrl, String owner) {
}
