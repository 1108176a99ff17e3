"""API-tier fixtures: the Chalice test client, and logging in as a role."""

import itertools
import json

import pytest
from chalice.test import Client

from tests.helpers import STRONG_PASSWORD, make_user

_emails = itertools.count()


class Api:
    """A thin JSON client over chalice.test.Client."""

    def __init__(self, client):
        self.client = client

    def call(self, method, path, body=None, token=None, headers=None, raw=None):
        """Send a request; answer the chalice test response with .json parsed when possible."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=sent, body=payload)
        try:
            response.data = json.loads(response.body) if response.body else None
        except ValueError:
            response.data = None
        return response

    def login(self, email, password=STRONG_PASSWORD):
        """Log in and answer the token (asserting success)."""
        response = self.call("POST", "/auth/login", {"email": email, "password": password})
        assert response.status_code == 200, response.body
        return response.data["token"]


@pytest.fixture
def api(aws):
    """A test client over the app, with moto behind it."""
    import app

    # The test stage of .chalice/config.json: chalice.test.Client sets its variables while open (the default, dev,
    # would make settings read meanwhile those of a deployed stage).
    with Client(app.app, stage_name="test") as client:
        yield Api(client)


@pytest.fixture
def login_as(api):
    """login_as("ORG_ADMIN") -> token of a fresh user with that role."""

    def _login(*roles, **fields):
        email = fields.pop("email", f"user{next(_emails)}@example.com")
        make_user(email=email, roles=roles or ("VIEWER",), **fields)
        return api.login(email)

    return _login
