package io.sluice.fhir;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.export.TypeFilterFactory;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;
import java.util.function.Predicate;

/** The engine's {@link TypeFilterFactory}: {@code _typeFilter} queries evaluated by {@link TypeFilter}. */
@ApplicationScoped
public class TypeFilterBean implements TypeFilterFactory {

    @Override
    public Predicate<JsonNode> compile(String resourceType, List<String> queries) {
        return TypeFilter.compile(resourceType, queries);
    }
}
