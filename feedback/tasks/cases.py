"""Case, SLA, notification and webhook tasks (filled in by the closed-loop work)."""

__all__: list[str] = []
