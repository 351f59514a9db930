"""Shared test tooling: the local stack as a fixture, an HTTP client, tokens."""
