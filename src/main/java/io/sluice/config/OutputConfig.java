package io.sluice.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Where export files go (prefix {@code sluice.output}): the local file system (default, directory
 * {@code sluice.export.output-dir}) or an S3-compatible object store ({@link S3Config}).
 */
@ConfigMapping(prefix = "sluice.output")
public interface OutputConfig {

    /** The kind of output store. */
    enum Kind { LOCAL, S3 }

    /** Which output store this instance writes to and serves from: {@code local} or {@code s3}. */
    @WithDefault("local")
    Kind kind();

    /** Settings of the S3 store; only read when {@code kind=s3}. */
    S3Config s3();
}
