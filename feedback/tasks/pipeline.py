"""Response-processing tasks (filled in by the pipeline work)."""

__all__: list[str] = []
