"""A migration no test database has applied: /readyz must report it (tests/test_operations.py)."""
