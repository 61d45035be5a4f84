"""Webhooks cannot be turned against the service's own network (issue 24).

The target host used to be checked by resolving it, then `requests` resolved it again to
connect: a DNS answer that changed in between (rebinding) reached 127.0.0.1. Now the host is
resolved once, every address is checked, and the connection goes to a checked address with
the host's name kept for the Host header, TLS SNI and the certificate.

Nothing here leaves the machine: DNS is a fake resolver (socket.getaddrinfo) that answers
only the names a test gives it, and the "internet" is a routing table (socket.connect) that
sends a public address a test names to a receiver on another loopback address, and refuses
every other non-loopback connection."""

from __future__ import annotations

import base64
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from feedback.webhooks.models import WebhookAttempt, WebhookDelivery
from feedback.webhooks.services import (
    webhook_address_allowed,
    webhook_deliver,
    webhook_emit,
    webhook_endpoint_create,
)

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.216.34"  # what the attacker's name first resolves to: a public address
_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect


class Receiver:
    """An HTTP(S) server on one loopback address: records what reached it, answers `status`
    with a body that must never be stored."""

    def __init__(self, address: str, port: int = 0, tls: ssl.SSLContext | None = None):
        self.requests: list[dict] = []
        self.server_names: list[str | None] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers)})
                self.send_response(receiver.status)
                if 300 <= receiver.status < 400:
                    self.send_header("Location", "http://127.0.0.1:1/internal")
                self.send_header("Content-Length", "24")
                self.end_headers()
                self.wfile.write(b"internal secret: hunter2")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((address, port), Handler)
        if tls is not None:
            tls.sni_callback = lambda sock, name, context: receiver.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeDNS:
    """Answers each name with its queued answers in turn (the last one repeated); None is a
    failed lookup. Addresses pass through to the real resolver; unknown names fail."""

    def __init__(self):
        self.answers: dict[str, list[list[str] | None]] = {}
        self.queries: list[str] = []

    def answer(self, name: str, *rounds: list[str] | None) -> None:
        self.answers[name] = list(rounds)

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        if isinstance(host, bytes):
            host = host.decode()
        if host in self.answers:
            self.queries.append(host)
            rounds = self.answers[host]
            addresses = rounds.pop(0) if len(rounds) > 1 else rounds[0]
            if addresses is None:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
                if ":" in a
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses
            ]
        # an address (in any form the C library reads: 2130706433 is 127.0.0.1), never DNS
        return _real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)


class FakeNetwork:
    """Every connection made, in order; `routes` sends a public address to a loopback one."""

    def __init__(self):
        self.routes: dict[str, str] = {}
        self.connections: list[tuple[str, int]] = []

    def connect(self, sock, address):
        host, port = address[0], address[1]
        self.connections.append((host, port))
        if host in self.routes:
            return _real_connect(sock, (self.routes[host], port))
        if not ipaddress.ip_address(host).is_loopback:
            raise ConnectionRefusedError(111, "Connection refused (tests stay on this machine)")
        return _real_connect(sock, address)


@pytest.fixture
def dns(monkeypatch):
    fake = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


@pytest.fixture
def network(monkeypatch):
    fake = FakeNetwork()

    def connect(sock, address):
        return fake.connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return fake


@pytest.fixture
def receivers():
    """A receiver on 127.0.0.2 (the public host's stand-in) and one on 127.0.0.1 (an internal
    service), on the same port: a URL names the port, and DNS decides where it goes."""
    for _ in range(20):
        outside = Receiver("127.0.0.2")
        try:
            inside = Receiver("127.0.0.1", outside.port)
        except OSError:  # that port is taken on 127.0.0.1: pick another
            outside.close()
            continue
        yield outside, inside
        outside.close()
        inside.close()
        return
    pytest.fail("no port free on both loopback addresses")


def deliver(project, url: str) -> WebhookDelivery:
    endpoint = webhook_endpoint_create(project=project, url=url, events=["case.created"])
    webhook_emit(
        project_id=project.pk, event="case.created", subject=url[:90], contact_id=None, data={}
    )
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    webhook_deliver(str(delivery.pk))
    delivery.refresh_from_db()
    return delivery


def outcome(delivery: WebhookDelivery) -> tuple:
    return (delivery.status, delivery.last_status_code, delivery.last_error)


# ---------------------------------------------------------------- DNS rebinding


def test_a_rebinding_name_is_connected_at_the_address_that_was_checked(
    project, settings, dns, network, receivers
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    outside, inside = receivers
    dns.answer("hooks.example", [PUBLIC], ["127.0.0.1"])  # public when checked, then loopback
    network.routes[PUBLIC] = "127.0.0.2"
    delivery = deliver(project, f"http://hooks.example:{outside.port}/hooks")
    assert outcome(delivery) == ("succeeded", 200, "")
    assert dns.queries == ["hooks.example"]  # resolved once
    assert network.connections == [(PUBLIC, outside.port)]
    assert inside.requests == []
    (request,) = outside.requests
    assert request["headers"]["Host"] == f"hooks.example:{outside.port}"
    assert request["headers"]["webhook-id"] == str(delivery.pk)


def test_a_rebinding_name_with_private_targets_allowed_still_uses_its_first_answer(
    project, settings, dns, network, receivers
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    outside, inside = receivers
    dns.answer("hooks.example", ["127.0.0.2"], ["127.0.0.1"])
    delivery = deliver(project, f"http://hooks.example:{outside.port}/hooks")
    assert outcome(delivery) == ("succeeded", 200, "")
    assert dns.queries == ["hooks.example"]
    assert network.connections == [("127.0.0.2", outside.port)]
    assert (len(outside.requests), inside.requests) == (1, [])


def test_a_name_answering_a_private_address_among_public_ones_is_refused(
    project, settings, dns, network, receivers
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    outside, inside = receivers
    dns.answer("hooks.example", [PUBLIC, "127.0.0.1"])
    network.routes[PUBLIC] = "127.0.0.2"
    delivery = deliver(project, f"http://hooks.example:{outside.port}/hooks")
    assert outcome(delivery) == ("failed", None, "Target address 127.0.0.1 is not allowed")
    assert network.connections == []
    assert (outside.requests, inside.requests) == ([], [])


def test_a_name_that_first_answers_loopback_is_refused_even_if_it_changes(
    project, settings, dns, network, receivers
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    outside, _ = receivers
    dns.answer("hooks.example", ["127.0.0.1"], [PUBLIC])
    network.routes[PUBLIC] = "127.0.0.2"
    delivery = deliver(project, f"http://hooks.example:{outside.port}/hooks")
    assert outcome(delivery) == ("failed", None, "Target address 127.0.0.1 is not allowed")
    assert dns.queries == ["hooks.example"]
    assert network.connections == []


# ---------------------------------------------------------------- every forbidden range

FORBIDDEN = [
    "127.0.0.1",
    "127.8.9.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "0.0.0.0",  # noqa: S104 (an address refused, not one bound)
    "255.255.255.255",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "192.0.0.8",  # IETF protocol assignments
    "192.88.99.1",  # 6to4 relay anycast
    "::1",
    "::",
    "fe80::1",  # link-local
    "fec0::1",  # site-local
    "fc00::1",  # unique local
    "fd12:3456::1",
    "ff02::1",  # multicast
    "ff0e::1",
    "2001:db8::1",  # documentation
    "3fff::1",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::808:808",  # NAT64 of a public address: still through a gateway, refused
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:808:808::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "::127.0.0.1",  # IPv4-compatible
    "::8.8.8.8",
    "::ffff:127.0.0.1",  # IPv4-mapped, to forbidden IPv4
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
]
ALLOWED = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_every_forbidden_address_is_refused_before_any_connection(
    project, settings, dns, network, address
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    assert webhook_address_allowed(ipaddress.ip_address(address)) is False
    dns.answer("hooks.example", [address])
    delivery = deliver(project, "https://hooks.example/hooks")
    assert outcome(delivery) == ("failed", None, f"Target address {address} is not allowed")
    assert network.connections == []


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address):
    assert webhook_address_allowed(ipaddress.ip_address(address)) is True


def test_an_address_literal_in_the_url_is_checked_too(project, settings, dns, network):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    for url, address in [
        ("http://127.0.0.1:8000/hooks", "127.0.0.1"),
        ("http://[::ffff:127.0.0.1]/hooks", "::ffff:127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://2130706433/hooks", "127.0.0.1"),  # 127.0.0.1 as one number
    ]:
        delivery = deliver(project, url)
        assert outcome(delivery) == ("failed", None, f"Target address {address} is not allowed")
    assert network.connections == []


# ---------------------------------------------------------------- what the log keeps


def test_a_failed_reply_keeps_its_status_code_never_its_body(project, dns, network, receivers):
    outside, _ = receivers
    outside.status = 500
    dns.answer("hooks.example", ["127.0.0.2"])
    delivery = deliver(project, f"http://hooks.example:{outside.port}/hooks")
    assert outcome(delivery) == ("pending", 500, "Receiver answered HTTP 500")
    assert list(WebhookAttempt.objects.values_list("status_code", "error")) == [
        (500, "Receiver answered HTTP 500")
    ]
    assert not WebhookAttempt.objects.filter(error__contains="hunter2").exists()


def test_a_redirect_is_not_followed(project, dns, network, receivers):
    outside, inside = receivers
    outside.status = 302
    dns.answer("hooks.example", ["127.0.0.2"])
    delivery = deliver(project, f"http://hooks.example:{outside.port}/hooks")
    assert outcome(delivery) == ("pending", 302, "Receiver answered HTTP 302")
    assert network.connections == [("127.0.0.2", outside.port)]
    assert inside.requests == []


def test_failures_are_recorded_in_words(project, settings, dns, network):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    dns.answer("down.example", ["127.0.0.1"])
    dns.answer("missing.example", None)
    assert outcome(deliver(project, f"http://down.example:{port}/")) == (
        "pending",
        None,
        "Connection refused",
    )
    assert outcome(deliver(project, "http://missing.example/")) == (
        "pending",
        None,
        "Cannot resolve missing.example",
    )


def test_the_next_checked_address_is_tried_when_one_refuses(project, dns, network, receivers):
    outside, _ = receivers
    dns.answer("hooks.example", ["127.0.0.3", "127.0.0.2"])  # nothing listens on 127.0.0.3
    delivery = deliver(project, f"http://hooks.example:{outside.port}/hooks")
    assert outcome(delivery) == ("succeeded", 200, "")
    assert network.connections == [("127.0.0.3", outside.port), ("127.0.0.2", outside.port)]


def test_credentials_path_and_query_of_the_url_are_kept(project, dns, network, receivers):
    outside, _ = receivers
    dns.answer("hooks.example", ["127.0.0.2"])
    url = f"http://ann:p%40ss@hooks.example:{outside.port}/hooks/in?team=care"
    assert outcome(deliver(project, url)) == ("succeeded", 200, "")
    (request,) = outside.requests
    assert request["path"] == "/hooks/in?team=care"
    assert request["headers"]["Host"] == f"hooks.example:{outside.port}"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"ann:p@ss").decode(
        "ascii"
    )


# ---------------------------------------------------------------- TLS to a pinned address


@pytest.fixture
def authority(tmp_path, settings):
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    settings.WEBHOOK_CA_BUNDLE = str(bundle)
    return ca


def tls_receiver(ca: trustme.CA, *names: str) -> Receiver:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return Receiver("127.0.0.1", tls=context)


def test_https_to_the_checked_address_verifies_the_certificate_for_the_host_name(
    project, dns, network, authority
):
    receiver = tls_receiver(authority, "hooks.example")
    try:
        dns.answer("hooks.example", ["127.0.0.1"])
        delivery = deliver(project, f"https://hooks.example:{receiver.port}/hooks")
        assert outcome(delivery) == ("succeeded", 200, "")
        assert network.connections == [("127.0.0.1", receiver.port)]
        assert receiver.server_names == ["hooks.example"]  # SNI: the name, not the address
        assert receiver.requests[0]["headers"]["Host"] == f"hooks.example:{receiver.port}"
    finally:
        receiver.close()


def test_https_refuses_a_certificate_for_another_name(project, dns, network, authority):
    receiver = tls_receiver(authority, "other.example")
    try:
        dns.answer("hooks.example", ["127.0.0.1"])
        delivery = deliver(project, f"https://hooks.example:{receiver.port}/hooks")
        assert outcome(delivery) == ("pending", None, "TLS certificate not valid for hooks.example")
        assert receiver.requests == []
    finally:
        receiver.close()
