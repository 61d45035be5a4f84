"""Identity verification for widget calls (DESIGN.md §6), as Intercom and PostHog do it.

The public key is in every page, so anyone could send another customer's `user_id` and change
their attributes, write feedback in their name or opt them out. The company's server proves
the user id instead: `user_hash` = hex HMAC-SHA256 of the user id under the project's identity
secret. With `Project.identity_verification` on, a widget call that names a user id without
a valid hash is refused before anything is read or written.
"""

from __future__ import annotations

import hashlib
import hmac

from django.utils.translation import gettext
from rest_framework import status

from surveys.tenancy.models import Project
from vocsite.errors import ApplicationError


def user_hash(*, secret: str, user_id: str) -> str:
    """What the company's server computes and passes to `voc.identify(userId, attrs, hash)`."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def identity_verify(*, project: Project, user_id: str | None, user_hash_given: str | None) -> None:
    """Raise 403 `identity_unverified` when the project verifies identities and this call's
    user id is not signed; calls without a user id (anonymous visitors) always pass."""
    if not user_id or not project.identity_verification:
        return
    expected = user_hash(secret=project.identity_secret, user_id=user_id)
    if isinstance(user_hash_given, str) and hmac.compare_digest(
        expected.encode(), user_hash_given.strip().lower().encode()
    ):
        return
    raise ApplicationError(
        "identity_unverified",
        gettext(
            "This user_id needs a valid user_hash: HMAC-SHA256 of the user id under the project's "
            "identity secret, computed by your server."
        ),
        {"user_hash": [gettext("Missing or not valid for this user_id.")]},
        status_code=status.HTTP_403_FORBIDDEN,
    )
