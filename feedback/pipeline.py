"""What happens to a finished response after commit: rollup, then tagging and alert hooks."""

from __future__ import annotations


def enqueue_processing(response_id: int) -> None:
    """Called by response_submit inside its transaction: schedules processing on commit.

    Must never fail the request: if the broker is down the sweeper picks the row up later.
    """
