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


@pytest.fixture(scope="session")
def shared_tables(dynamodb_local):
    """One set of tables per test process, created once: DynamoDB Local takes ~0.3 s a table (~8 s for all of
    them, whether created one after another or at once), which every test paid before."""
    models.bind(host=dynamodb_local.endpoint, prefix="shared-")
    models.create_tables()
    return "shared-"


@pytest.fixture
def ddb(dynamodb_local, shared_tables):
    """Every model bound to DynamoDB Local, on this process's tables, emptied before the test."""
    models.bind(host=dynamodb_local.endpoint, prefix=shared_tables)
    for model in models.ALL_MODELS:
        keys = [name for name in (model._hash_keyname, model._range_keyname) if name]
        leftovers = list(model.scan(attributes_to_get=keys, consistent_read=True))
        with model.batch_write() as batch:
            for item in leftovers:
                batch.delete(item)
    yield dynamodb_local
    models.bind(host=get_settings().dynamodb_endpoint, prefix=get_settings().table_prefix)


@pytest.fixture
def fresh_ddb(dynamodb_local):
    """Tables of the test's own: for a test that reshapes a table or stores tens of thousands of items."""
    models.bind(host=dynamodb_local.endpoint, prefix=f"c{next(_prefixes)}-")
    models.create_tables()
    yield dynamodb_local
    models.bind(host=get_settings().dynamodb_endpoint, prefix=get_settings().table_prefix)
