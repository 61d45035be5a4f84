"""Fixtures shared by the surveys tests."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def widget(project):
    """A browser on the project's allowed origin, calling the widget API."""
    client = APIClient()
    client.defaults["HTTP_ORIGIN"] = "http://shop.example"
    return client
