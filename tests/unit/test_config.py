"""Settings from the environment."""
from chalicelib.config import read_settings


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
