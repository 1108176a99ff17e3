"""The server secret: from Secrets Manager on a deployed stage, fetched once per container; never from the
environment there. And the device keys of a deployed stage are wrapped under KMS only, never the local key file."""

import dataclasses
import hashlib
import hmac
import os

import pytest

from chalicelib import crypto, security
from chalicelib.config import StageMisconfigured, get_settings, read_settings
from tests.aws_calls import record_aws_operations
from tests.conftest import aws_client
from tests.helpers import DEPLOYED

SECRET_HEX = "a7" * 32


@pytest.fixture
def fresh_secret_cache():
    """The secret cache is per process (a container's life): each test starts and leaves it empty."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    yield
    parameters.clear_caches()


@pytest.fixture
def deployed(aws, fresh_secret_cache, monkeypatch):
    """A deployed stage whose secret lives in (moto's) Secrets Manager; answers the settings."""
    arn = aws_client("secretsmanager").create_secret(Name="keyport-dev-server-secret", SecretString=SECRET_HEX)["ARN"]
    settings = read_settings({**DEPLOYED, "KEYPORT_SERVER_SECRET_ARN": arn, "KEYPORT_SERVER_SECRET": "5e" * 32})
    monkeypatch.setattr(security, "get_settings", lambda: settings)
    return settings


def expected_digest(secret: bytes, purpose: str, *parts: str) -> str:
    import base64

    message = "\x1f".join((purpose,) + parts).encode()
    return base64.urlsafe_b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode().rstrip("=")


def test_a_deployed_stage_keys_its_digests_with_the_secret_from_secrets_manager_fetched_once(deployed):
    with record_aws_operations() as calls:
        digests = [security.keyed_digest("claim-code", f"SN-{n}", "CODE") for n in range(5)]
        security.derived_id("usr", "bootstrap", "ada@example.com")
    assert calls.count("secretsmanager.GetSecretValue") == 1
    assert digests[0] == expected_digest(bytes.fromhex(SECRET_HEX), "claim-code", "SN-0", "CODE")
    assert digests[0] != expected_digest(bytes.fromhex("5e" * 32), "claim-code", "SN-0", "CODE")


def test_a_deployed_stage_without_the_secret_arn_never_falls_back_to_the_environment(monkeypatch, fresh_secret_cache):
    environ = {**DEPLOYED, "KEYPORT_SERVER_SECRET": "5e" * 32}
    del environ["KEYPORT_SERVER_SECRET_ARN"]
    monkeypatch.setattr(security, "get_settings", lambda: read_settings(environ))
    with record_aws_operations() as calls, pytest.raises(StageMisconfigured) as refused:
        security.keyed_digest("claim-code", "SN-1", "CODE")
    assert calls == []
    assert str(refused.value) == (
        "KEYPORT_SERVER_SECRET_ARN is missing: stage dev reads its server secret only from Secrets Manager"
    )


def test_a_secret_that_is_not_hex_or_too_short_is_refused_by_name(deployed):
    client = aws_client("secretsmanager")
    client.put_secret_value(SecretId=deployed.server_secret_arn, SecretString="not hex at all")
    with pytest.raises(StageMisconfigured) as refused:
        security.server_secret()
    assert str(refused.value) == "the secret KEYPORT_SERVER_SECRET_ARN names is not a hex string"
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    client.put_secret_value(SecretId=deployed.server_secret_arn, SecretString="ab" * 8)
    with pytest.raises(StageMisconfigured) as refused:
        security.server_secret()
    assert str(refused.value) == "the secret KEYPORT_SERVER_SECRET_ARN names is missing or shorter than 32 bytes"


def test_a_laptop_stage_without_an_arn_uses_its_hex_variable():
    assert not get_settings().deployed and get_settings().server_secret_arn is None
    assert security.server_secret() == bytes.fromhex("5e" * 32)  # tests/conftest.py's KEYPORT_SERVER_SECRET


def test_a_deployed_stage_without_the_kms_key_never_wraps_with_the_local_key_file(monkeypatch):
    settings = dataclasses.replace(get_settings(), stage="dev", kms_key_arn=None)
    assert os.path.getsize(settings.wrapping_key_file) == 32  # the file is there, and must still not be used
    monkeypatch.setattr(crypto, "get_settings", lambda: settings)
    crypto.master_key_provider.cache_clear()
    try:
        with pytest.raises(StageMisconfigured, match="KEYPORT_KMS_KEY_ARN is missing"):
            crypto.KeyWrapper("imp_x").wrap("SN-1", [{"name": "app", "algorithm": "AES128", "hex": "00" * 16}])
    finally:
        crypto.master_key_provider.cache_clear()


def test_a_secret_stored_as_binary_hex_is_read_too(aws, fresh_secret_cache, monkeypatch):
    arn = aws_client("secretsmanager").create_secret(Name="keyport-dev-binary", SecretBinary=SECRET_HEX.encode())["ARN"]
    settings = read_settings({**DEPLOYED, "KEYPORT_SERVER_SECRET_ARN": arn})
    monkeypatch.setattr(security, "get_settings", lambda: settings)
    assert security.server_secret() == bytes.fromhex(SECRET_HEX)


def test_a_laptop_stage_with_a_short_secret_names_its_variable(monkeypatch):
    settings = dataclasses.replace(get_settings(), local_server_secret=b"short")
    monkeypatch.setattr(security, "get_settings", lambda: settings)
    with pytest.raises(StageMisconfigured) as refused:
        security.server_secret()
    assert str(refused.value) == "KEYPORT_SERVER_SECRET is missing or shorter than 32 bytes"


@pytest.mark.parametrize("hours_later, fetches", [(1, 1), (23, 1), (25, 2)])
def test_a_deployed_stage_fetches_its_secret_again_only_after_a_day(deployed, monkeypatch, hours_later, fetches):
    # A container lives for hours: fetching once a day keeps Secrets Manager calls (and their cost) off each
    # request, while a rotated secret reaches every container within the day. The library's cache reads the
    # clock of its own module, so the test moves that clock.
    from datetime import datetime, timedelta

    from aws_lambda_powertools.utilities.parameters import base

    class Clock(datetime):
        offset = timedelta(0)

        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + cls.offset

    monkeypatch.setattr(base, "datetime", Clock)
    with record_aws_operations() as calls:
        security.keyed_digest("claim-code", "SN-1", "CODE")
        Clock.offset = timedelta(hours=hours_later)
        security.keyed_digest("claim-code", "SN-1", "CODE")
    assert calls.count("secretsmanager.GetSecretValue") == fetches
