package io.sluice.export;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.function.Predicate;

/**
 * Compiles the {@code _typeFilter} queries of one resource type (each a search string such as
 * {@code status=final&code=1234}; a resource passes when ANY query matches) into a predicate over
 * the parsed resource. Supplied as a CDI bean by the API layer; a job with type filters fails with
 * a clear error when no bean is resolvable. A compile failure fails the job with its message.
 */
public interface TypeFilterFactory {

    Predicate<JsonNode> compile(String resourceType, List<String> queries);
}
