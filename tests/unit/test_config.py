"""Settings from the environment, and the checks a deployed stage must pass."""

import re

import pytest

from chalicelib.config import StageMisconfigured, check_stage, read_settings, stage_problems
from tests.helpers import DEPLOYED


def test_defaults_are_a_local_stage_with_thirty_minute_idle_and_twelve_hour_sessions():
    settings = read_settings({})
    assert settings.stage == "local" and settings.is_local
    assert settings.table_prefix == "keyport-local-"
    assert (settings.session_idle_minutes, settings.session_absolute_hours) == (30, 12)
    assert (settings.lockout_threshold, settings.lockout_minutes) == (10, 15)
    assert settings.max_body_bytes == 1024 * 1024


def test_debug_is_never_on_outside_a_local_stage():
    assert read_settings({"KEYPORT_STAGE": "prod", "KEYPORT_DEBUG": "1"}).debug is False
    assert read_settings({"KEYPORT_STAGE": "local", "KEYPORT_DEBUG": "1"}).debug is True


def test_the_stage_names_the_table_prefix_unless_one_is_given():
    assert read_settings({"KEYPORT_STAGE": "prod"}).table_prefix == "keyport-prod-"
    assert read_settings({"KEYPORT_STAGE": "prod", "KEYPORT_TABLE_PREFIX": "x-"}).table_prefix == "x-"


def test_a_complete_deployed_stage_has_no_problem():
    assert stage_problems(read_settings(DEPLOYED)) == []
    check_stage(read_settings(DEPLOYED))


def test_a_deployed_stage_gets_none_of_the_laptop_defaults():
    settings = read_settings({"KEYPORT_STAGE": "prod"})
    assert settings.deployed and (settings.public_base_url, settings.mail_sender) == ("", "")
    assert "KEYPORT_PUBLIC_BASE_URL is missing" in stage_problems(settings)
    assert "KEYPORT_MAIL_FROM is missing" in stage_problems(settings)


def test_a_laptop_stage_keeps_its_defaults_and_is_never_refused():
    for stage in ("local", "test", "bench"):
        settings = read_settings({"KEYPORT_STAGE": stage})
        assert settings.public_base_url == "http://127.0.0.1:8000" and "keyport.local" in settings.mail_sender
        assert not settings.deployed and stage_problems(settings) == []


def test_a_stage_of_any_other_name_is_a_deployed_one():
    assert stage_problems(read_settings({**DEPLOYED, "KEYPORT_STAGE": "staging"})) == []
    assert stage_problems(read_settings({"KEYPORT_STAGE": "staging"}))


@pytest.mark.parametrize(
    "name, value, named",
    [
        ("KEYPORT_PUBLIC_BASE_URL", None, "KEYPORT_PUBLIC_BASE_URL is missing"),
        ("KEYPORT_PUBLIC_BASE_URL", "http://keys.example.com", "must be an https:// URL"),
        ("KEYPORT_PUBLIC_BASE_URL", "https://127.0.0.1:8000", "points at a local host (127.0.0.1)"),
        ("KEYPORT_PUBLIC_BASE_URL", "https://localhost", "points at a local host (localhost)"),
        ("KEYPORT_PUBLIC_BASE_URL", "https://[::1]:8000", "points at a local host (::1)"),
        ("KEYPORT_PUBLIC_BASE_URL", "https://keyport.local", "points at a local host (keyport.local)"),
        ("KEYPORT_MAIL_FROM", None, "KEYPORT_MAIL_FROM is missing"),
        ("KEYPORT_MAIL_FROM", "keyport <no-reply@keyport.local>", "KEYPORT_MAIL_FROM uses a local domain"),
        ("KEYPORT_MAIL_FROM", "no-reply@localhost", "KEYPORT_MAIL_FROM uses a local domain"),
        ("KEYPORT_MAIL_FROM", "keyport", "KEYPORT_MAIL_FROM is not an e-mail address"),
        ("KEYPORT_SERVER_SECRET_ARN", None, "KEYPORT_SERVER_SECRET_ARN is missing"),
        ("KEYPORT_KMS_KEY_ARN", None, "KEYPORT_KMS_KEY_ARN is missing"),
        ("KEYPORT_EXPORT_QUEUE_URL", None, "KEYPORT_EXPORT_QUEUE_URL is missing"),
        ("KEYPORT_EXPORT_BUCKET", None, "KEYPORT_EXPORT_BUCKET is missing"),
        ("KEYPORT_SERVER_SECRET", "5e" * 32, "KEYPORT_SERVER_SECRET is set"),
        ("KEYPORT_DYNAMODB_ENDPOINT", "http://127.0.0.1:8001", "KEYPORT_DYNAMODB_ENDPOINT points at a local host"),
        ("KEYPORT_MAIL_BACKEND", "outbox", "KEYPORT_MAIL_BACKEND is 'outbox'"),
    ],
)
def test_each_missing_or_laptop_setting_of_a_deployed_stage_is_named(name, value, named):
    environ = {key: found for key, found in {**DEPLOYED, name: value}.items() if found is not None}
    problems = stage_problems(read_settings(environ))
    assert len(problems) == 1 and named in problems[0]
    with pytest.raises(StageMisconfigured, match="cannot run on stage dev: " + re.escape(problems[0])):
        check_stage(read_settings(environ))


def test_a_deployed_stage_never_carries_a_server_secret_from_its_environment():
    settings = read_settings({**DEPLOYED, "KEYPORT_SERVER_SECRET": "5e" * 32})
    assert settings.local_server_secret == b"" and "5e" * 32 not in repr(settings)
    assert read_settings(
        {"KEYPORT_STAGE": "local", "KEYPORT_SERVER_SECRET": "5e" * 32}
    ).local_server_secret == bytes.fromhex("5e" * 32)


def test_the_metrics_namespace_follows_the_stage_unless_powertools_is_told_one():
    assert read_settings({}).metrics_namespace == "keyport-local"
    assert read_settings(DEPLOYED).metrics_namespace == "keyport-dev"
    assert read_settings({**DEPLOYED, "POWERTOOLS_METRICS_NAMESPACE": "keyport-x"}).metrics_namespace == "keyport-x"
