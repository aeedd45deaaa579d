"""Stage 1: the spec (apexgen.toml): its data model, loading and validation, names and standard models."""
