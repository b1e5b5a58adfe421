"""Helpers that stand up real services for tests and benchmarks (not used by the library)."""
