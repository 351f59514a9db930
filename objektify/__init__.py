"""The `objektify` command: operator and developer tooling."""
