"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from surveys.services import api_key_create
from tests.factories import MembershipFactory, ProjectFactory, TouchpointFactory, UserFactory


@pytest.fixture
def project(db):
    return ProjectFactory()


@pytest.fixture
def touchpoint(project):
    return TouchpointFactory(project=project, key="checkout_completed")


@pytest.fixture
def secret_key(project) -> str:
    return api_key_create(project=project).raw


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def server_client(secret_key) -> APIClient:
    """An API client authenticated with the project's secret key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret_key}")
    return client


@pytest.fixture
def staff_user(project):
    user = UserFactory()
    MembershipFactory(user=user, project=project, role="admin")
    return user
