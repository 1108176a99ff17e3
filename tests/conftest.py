"""Shared fixtures. The environment is set before `import app` (Chalice reads settings at import)."""
import os

os.environ.update({
    "KEYPORT_STAGE": "test",
    "KEYPORT_TABLE_PREFIX": "test-",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "KEYPORT_PUBLIC_BASE_URL": "https://keyport.test",
    # Cheaper argon2id in tests; the production parameters are asserted in tests/unit/test_security.py.
    "KEYPORT_ARGON2_TIME_COST": "1",
    "KEYPORT_ARGON2_MEMORY_KIB": "8192",
    "KEYPORT_ARGON2_PARALLELISM": "1",
})
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("KEYPORT_DYNAMODB_ENDPOINT", None)

import pytest  # noqa: E402
# moto hooks every botocore client created after this import, so cached clients stay mocked.
from moto import mock_aws  # noqa: E402

from chalicelib import models  # noqa: E402


@pytest.fixture
def aws():
    """moto for every AWS call of the test, with fresh (empty) tables."""
    with mock_aws():
        models.create_tables()
        yield
