"""The client's IP address: the one place that reads REMOTE_ADDR and X-Forwarded-For.

Everything that keys on the client's address — the widget's per-IP rate limit
(`surveys.tenancy.api_auth.widget_rate_wait`), django-axes' staff login lockouts
(`AXES_CLIENT_IP_CALLABLE`) — asks `client_address`.

X-Forwarded-For is whatever the client sent, with one address appended by each proxy the
request passed through. With `TRUSTED_PROXY_COUNT` = N proxies of our own in front, the N-th
address from the right was appended by the outermost of them and is the client's; anything
further left the client could have written, so a forged header cannot pick its own rate-limit
key or lockout. With N = 0 (the default: nothing in front) the header is ignored and the
address is the connection's peer, REMOTE_ADDR. A header shorter than N, or an entry that is
not an IP address, means the request did not come through the configured chain: REMOTE_ADDR
again.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """The client's IP address for a Django or DRF request ("" when the server gave none)."""
    meta = request.META
    remote_addr = meta.get("REMOTE_ADDR") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote_addr
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if not forwarded:
        return remote_addr
    hops = forwarded.split(",")
    if len(hops) < proxies:
        return remote_addr
    candidate = hops[-proxies].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr
