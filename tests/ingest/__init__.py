"""Helpers shared by the ingest tests (tests/test_ingest*.py)."""
