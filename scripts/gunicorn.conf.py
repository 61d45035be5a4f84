"""gunicorn settings of full mode (scripts/fullmode.sh passes the rest on its command line).

With PROMETHEUS_MULTIPROC_DIR set, each web process writes its metrics to files there and
/metrics adds them up (vocsite/prometheus.py): a process that exits is marked dead, so its
live-process gauges leave the sum while its counters stay counted.
"""

import os

from prometheus_client import multiprocess


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
