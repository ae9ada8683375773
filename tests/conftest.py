"""Shared fixtures: real servers live in tests/harness/ and are registered here."""

pytest_plugins = ["tests.harness.fixtures", "tests.harness.smtp", "tests.harness.store"]
