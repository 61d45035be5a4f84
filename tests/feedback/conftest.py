"""Closed-loop tests use `survey` and `respond` from tests/conftest.py; webhook tests use the
real HTTP `receiver` below, an `endpoint` subscribed to every event, and `delivered`."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from feedback.webhooks.services import webhook_endpoint_create


class Receiver:
    """A real HTTP server answering with the queued statuses (then 200), verifying signatures."""

    def __init__(self):
        self.secret = ""
        self.statuses: list[int] = []
        self.delay = 0.0
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                    verified = True
                except WebhookVerificationError:
                    payload, verified = json.loads(body), False
                receiver.received.append(
                    {
                        "headers": dict(self.headers),
                        "payload": payload,
                        "verified": verified,
                        "body": body,
                    }
                )
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver is down")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def endpoint(project, receiver):
    endpoint = webhook_endpoint_create(
        project=project,
        url=receiver.url,
        events=[
            "response.finished",
            "case.created",
            "case.updated",
            "case.overdue",
            "feedback.created",
        ],
    )
    receiver.secret = endpoint.secret
    return endpoint


@pytest.fixture
def delivered(django_capture_on_commit_callbacks):
    """Run a block with on-commit callbacks executed (eager tasks deliver in-process)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
