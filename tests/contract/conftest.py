"""Contract tier: the same code against a real DynamoDB Local (started once per test session)."""
import itertools

import pytest

from chalicelib import models
from chalicelib.config import get_settings
from chalicelib.local import DynamoDBLocal

_prefixes = itertools.count()


@pytest.fixture(scope="session")
def dynamodb_local():
    """A DynamoDB Local process (in memory) on a free port."""
    with DynamoDBLocal() as database:
        yield database


@pytest.fixture
def ddb(dynamodb_local):
    """Every model bound to DynamoDB Local, on tables of its own for this test."""
    models.bind(host=dynamodb_local.endpoint, prefix=f"c{next(_prefixes)}-")
    models.create_tables()
    yield dynamodb_local
    models.bind(host=get_settings().dynamodb_endpoint, prefix=get_settings().table_prefix)
