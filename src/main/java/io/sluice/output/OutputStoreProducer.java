package io.sluice.output;

import io.sluice.config.OutputConfig;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;

/**
 * Chooses the {@link OutputStore} everyone injects by {@code sluice.output.kind} at run time: the
 * {@link LocalOutputStore} (default) or the {@link S3OutputStore}. Being a prioritized alternative,
 * this producer wins over the {@code LocalOutputStore} bean for injection points of type
 * {@code OutputStore}; the store not chosen is never created (so no S3 client exists with kind=local).
 */
@ApplicationScoped
public class OutputStoreProducer {

    @Produces
    @ApplicationScoped
    @Alternative
    @Priority(1)
    OutputStore outputStore(OutputConfig config, Instance<LocalOutputStore> local, Instance<S3OutputStore> s3) {
        return switch (config.kind()) {
            case LOCAL -> local.get();
            case S3 -> s3.get();
        };
    }
}
