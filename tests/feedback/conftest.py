"""Closed-loop tests use `nps_survey` and `respond` from tests/conftest.py."""
