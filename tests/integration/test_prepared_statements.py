"""On PostgreSQL the decide path's statements are prepared once per connection and then only
executed (settings: server-side binding, DATABASE_PREPARE_THRESHOLD): planning the visitor's
contact-and-ledger query cost four times its execution."""

import pytest
from django.conf import settings
from django.db import connection

from surveys.delivery.ledger import contact_resolve, display_claim
from tests.factories import ProjectFactory, TouchpointFactory, published_survey

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def _prepared(fragment: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return cursor.fetchone()[0]


def test_the_visitor_lookup_of_decide_is_prepared_after_the_threshold():
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    assert threshold == 5
    project = ProjectFactory()
    touchpoint = TouchpointFactory(project=project, key="home")
    published_survey(project, touchpoints=[touchpoint])
    visitor_join = "JOIN surveys_visitorid v ON v.contact_id = c.id LEFT JOIN surveys_display d"
    for _ in range(threshold):
        assert _prepared(visitor_join) == 0
        contact = contact_resolve(project=project, visitor_id="returning", with_ledger=True)
        display_claim(project=project, contact=contact, touchpoint_key="home")
    contact_resolve(project=project, visitor_id="returning", with_ledger=True)
    assert _prepared(visitor_join) == 1
