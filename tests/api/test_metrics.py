"""The CloudWatch metrics (EMF): counted where they happen, one line per invocation of any function, in the
stage's namespace with the one dimension service=keyport."""

import pytest

from chalicelib import observability
from tests.conftest import run_queued_exports
from tests.helpers import STRONG_PASSWORD, emitted_metrics, make_device, make_org, make_user

SERVICE = {"service": "keyport"}


@pytest.fixture
def printed(api, capsys):
    """What the functions print from here on (counts left by earlier tests that called services directly, outside
    any invocation, are dropped first)."""
    observability.metrics().clear_metrics()
    capsys.readouterr()
    return lambda: capsys.readouterr().out


def test_a_failed_and_a_good_login_each_print_their_metric_in_their_own_line(api, printed):
    make_user(email="ada@example.com")
    assert (
        api.call("POST", "/auth/login", {"email": "ada@example.com", "password": "Wrong-1-Password!"}).status_code
        == 401
    )
    assert emitted_metrics(printed()) == [("keyport-test", SERVICE, {"LoginFailed": 1})]
    api.login("ada@example.com", STRONG_PASSWORD)
    assert emitted_metrics(printed()) == [("keyport-test", SERVICE, {"LoginSucceeded": 1})]


@pytest.fixture
def admin(login_as, printed):
    """An ORG_ADMIN of acme, and M-1 made by maker, waiting for its claim code; nothing printed yet."""
    make_org("maker")
    make_org("acme")
    make_device("M-1", "maker", claim_code="CLAIMCODE0042")
    token = login_as("ORG_ADMIN", org_id="acme")
    printed()
    return token


def test_a_claim_and_a_key_download_count_one_device_each(api, admin, printed):
    assert api.call("POST", "/devices/M-1/claim", {"claim_code": "CLAIMCODE0042"}, token=admin).status_code == 200
    assert emitted_metrics(printed()) == [("keyport-test", SERVICE, {"DevicesClaimed": 1})]
    assert api.call("GET", "/devices/M-1/keys", token=admin).status_code == 200
    assert emitted_metrics(printed()) == [("keyport-test", SERVICE, {"KeysDownloaded": 1})]


def test_a_refused_claim_counts_nothing(api, admin, printed):
    assert api.call("POST", "/devices/M-1/claim", {"claim_code": "WRONGCODE0042"}, token=admin).status_code == 404
    assert emitted_metrics(printed()) == []


def test_the_export_worker_flushes_the_export_and_its_devices_in_its_invocation(api, login_as, printed):
    make_org("acme")
    for serial in ("E-1", "E-2"):
        make_device(serial, "root", owner_org_id="acme")
    admin = login_as("ORG_ADMIN", org_id="acme")
    assert api.call("POST", "/exports", {"format": "csv"}, token=admin).status_code == 202
    printed()
    assert run_queued_exports()
    assert emitted_metrics(printed()) == [("keyport-test", SERVICE, {"KeysDownloaded": 2, "ExportsCompleted": 1})]
