"""Closed-loop tests use `survey` and `respond` from tests/conftest.py."""
