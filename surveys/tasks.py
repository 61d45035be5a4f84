"""Periodic ledger upkeep (filled in by the widget/ledger work)."""
