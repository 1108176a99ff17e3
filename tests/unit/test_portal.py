"""The customer portal, service level: a code (and token) opens a read-only session of its scope; failures are
counted, audited and locked out; a session ends with its expiry, a new code or a revocation; it lists exactly its
scope, page by page."""

import time
from datetime import datetime, timedelta, timezone

import pytest

import chalicelib.clock
from chalicelib import observability
from chalicelib.errors import NotAuthenticated
from chalicelib.models import AuditEventModel, DeviceModel, InstallationModel, PortalSessionModel
from chalicelib.paging import InvalidCursor
from chalicelib.security import token_hash
from chalicelib.services.portal.access_codes import enable_portal_access, regenerate_portal_access, revoke_portal_access
from chalicelib.services.portal.sessions import (
    PortalLoginInvalid,
    PortalPrincipal,
    authenticate_portal,
    open_portal_session,
    portal_devices,
    portal_installations,
)
from chalicelib.services.throttle import TooManyRequests
from tests.aws_calls import record_aws_calls
from tests.helpers import emitted_metrics, make_device
from tests.portal_world import make_installation, make_portal_world

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)
IP = "192.0.2.7"
FIRST = "Log in to the portal first: send Authorization: Bearer <portal session token>."
UNKNOWN = "The portal session is unknown or has ended; log in again."
ENDED = "The portal session has ended; log in again."


@pytest.fixture
def world(aws, monkeypatch):
    """The portal world, the portal's clock held at NOW (`world["clock"].now` moves it), the throttle's at a quarter
    hour's start."""

    class Clock(datetime):
        at = NOW

        @classmethod
        def now(cls, tz=None):  # like datetime.now: naive local time without a zone
            return Clock.at.astimezone(tz) if tz else Clock.at.astimezone().replace(tzinfo=None)

    monkeypatch.setattr(chalicelib.clock, "now", lambda: Clock.at)
    held = NOW.timestamp()
    monkeypatch.setattr(time, "time", lambda: held)
    principals = make_portal_world()
    return {**principals, "clock": Clock}


def enable(world, scope_type, scope_id):
    return enable_portal_access(world["admin"], {"type": scope_type, "id": scope_id})


def log_in(code, token=None, source_ip=IP):
    return open_portal_session({"code": code, **({"token": token} if token is not None else {})}, source_ip)


def refused_login(code, token=None, source_ip=IP):
    with pytest.raises(PortalLoginInvalid):
        log_in(code, token, source_ip)


def ended(token):
    """The message authenticating a portal token is refused with."""
    with pytest.raises(NotAuthenticated) as refused:
        authenticate_portal(token)
    return refused.value.message


def metrics_printed(capsys):
    observability.flush_metrics()
    return [counted for _namespace, _dimensions, counted in emitted_metrics(capsys.readouterr().out)]


def audited(action):
    return [event for event in AuditEventModel.scan() if event.action == action]


@pytest.mark.parametrize(
    "scope_type, scope_id, name",
    [("org", "cust", "Erika Mustermann"), ("site", "site_b", "Site B"), ("installation", "ins_a", "SN-A1 (meter)")],
)
def test_a_code_opens_an_eight_hour_session_of_its_scope(world, capsys, scope_type, scope_id, name):
    access = enable(world, scope_type, scope_id)
    observability.metrics().clear_metrics()
    capsys.readouterr()
    typed = " " + access["code"].lower().replace("-", " ") + " "
    opened = log_in(typed, access.get("token"))
    assert set(opened) == {"token", "expires_at", "scope"} and len(opened["token"]) == 43
    assert opened["expires_at"] == "2030-01-01T17:00:00+00:00"
    assert opened["scope"] == {"type": scope_type, "id": scope_id, "name": name}
    [stored] = PortalSessionModel.scan()
    assert stored.token_hash == token_hash(opened["token"]) and stored.access_id == access["id"]
    assert (stored.generation, stored.created_at, stored.expires_at) == (1, NOW, NOW + timedelta(hours=8))
    assert stored.ttl == NOW + timedelta(hours=8)
    assert authenticate_portal(opened["token"]) == PortalPrincipal(access["id"], scope_type, scope_id, "cust")
    [event] = audited("portal_login")
    assert (event.org_id, event.actor_id, event.target) == ("cust", "portal", access["id"])
    assert event.detail == {"scope_type": scope_type, "scope_id": scope_id, "source_ip": IP}
    assert metrics_printed(capsys) == [{"LoginSucceeded": 1}]


def test_every_kind_of_failed_login_answers_alike_and_is_audited_without_the_code(world, capsys):
    installation = enable(world, "installation", "ins_a")
    regenerated = enable(world, "site", "site_a")
    regenerate_portal_access(world["admin"], regenerated["id"])
    revoked = enable(world, "org", "cust")
    revoke_portal_access(world["admin"], revoked["id"])
    observability.metrics().clear_metrics()
    capsys.readouterr()
    attempts = [
        ("not a code", None),
        ("0" * 28, None),
        (installation["code"], None),
        (installation["code"], ""),
        (installation["code"], "x" * 43),
        (installation["code"], installation["code"]),
        (regenerated["code"], None),
        (revoked["code"], None),
    ]
    for code, token in attempts:
        refused_login(code, token)
    assert list(PortalSessionModel.scan()) == []
    failures = audited("portal_login_failed")
    assert len(failures) == len(attempts)
    assert {(event.org_id, event.actor_id, event.target) for event in failures} == {("root", "public", None)}
    assert all(event.detail == {"source_ip": IP} for event in failures)
    assert metrics_printed(capsys) == [{"LoginFailed": len(attempts)}]


def test_ten_failures_of_one_code_lock_only_that_code(world):
    access = enable(world, "installation", "ins_a")
    other = enable(world, "site", "site_a")
    for _ in range(10):
        refused_login(access["code"], "wrong-token")
    with pytest.raises(TooManyRequests) as locked:
        log_in(access["code"], access["token"])
    assert locked.value.message == "Too many failed portal logins; try again later."
    assert locked.value.retry_after == 901  # the ten, counted at a slot boundary, leave the window 900 s on
    assert log_in(other["code"])["scope"]["id"] == "site_a"  # same source, another code


def test_failures_of_codes_sharing_a_prefix_do_not_lock_one_another(world):
    access = enable(world, "org", "cust")
    for number in range(10):
        refused_login(access["code"][:5] + f"{number:04d}" + access["code"][9:])
    assert log_in(access["code"])["scope"]["id"] == "cust"


def test_fifty_failures_from_one_source_lock_that_source_only(world):
    access = enable(world, "org", "cust")
    for number in range(50):
        refused_login(f"{number:02d}" + "Z" * 26)  # a new code each time: only the source's count grows
    with pytest.raises(TooManyRequests):
        log_in(access["code"])
    assert log_in(access["code"], source_ip="198.51.100.1")["scope"]["id"] == "cust"


def test_a_session_ends_at_its_expiry_and_is_deleted(world):
    session = log_in(enable(world, "org", "cust")["code"])["token"]
    world["clock"].at = NOW + timedelta(hours=8) - timedelta(microseconds=1)
    assert authenticate_portal(session).scope_id == "cust"
    world["clock"].at = NOW + timedelta(hours=8)
    assert ended(session) == ENDED
    assert list(PortalSessionModel.scan()) == []


@pytest.mark.parametrize("change", [regenerate_portal_access, revoke_portal_access])
def test_a_new_code_or_a_revocation_ends_the_sessions_of_the_old_code_at_once(world, change):
    access = enable(world, "site", "site_a")
    session = log_in(access["code"])["token"]
    change(world["admin"], access["id"])
    assert ended(session) == ENDED
    assert list(PortalSessionModel.scan()) == []


@pytest.mark.parametrize(
    "token, message",
    [(None, FIRST), ("", FIRST), ("x" * 201, FIRST), ("x" * 200, UNKNOWN), ("no-such-session", UNKNOWN)],
)
def test_a_missing_overlong_or_unknown_portal_token_is_refused_with_its_reason(world, token, message):
    log_in(enable(world, "org", "cust")["code"])
    assert ended(token) == message


def test_a_session_whose_access_is_gone_is_refused(world):
    from chalicelib.models import PortalAccessModel

    access = enable(world, "org", "cust")
    session = log_in(access["code"])["token"]
    PortalAccessModel.get(access["id"]).delete()
    assert ended(session) == UNKNOWN


def test_the_reads_that_decide_a_portal_login_and_session_are_strongly_consistent(world):
    access = enable(world, "org", "cust")
    with record_aws_calls() as calls:
        session = log_in(access["code"])["token"]
        authenticate_portal(session)
    reads = [
        (params["TableName"], params.get("ConsistentRead"))
        for _tag, _service, operation, params in calls
        if operation == "GetItem" and "portal" in params["TableName"]
    ]
    assert reads == [("test-portal_access", True), ("test-portal_sessions", True), ("test-portal_access", True)]


def test_an_installation_portal_reads_its_installation_and_device_consistently(world):
    seen = session_of(world, "installation", "ins_a")
    with record_aws_calls() as calls:
        portal_devices(seen)
        portal_installations(seen)
    reads = [
        (params["TableName"], params.get("ConsistentRead"))
        for _tag, _service, operation, params in calls
        if operation == "GetItem"
    ]
    assert reads == [("test-installations", True), ("test-devices", True), ("test-installations", True)]


def session_of(world, scope_type, scope_id):
    access = enable(world, scope_type, scope_id)
    return authenticate_portal(log_in(access["code"], access.get("token"))["token"])


@pytest.mark.parametrize(
    "scope_type, scope_id, devices, installations",
    [
        ("org", "cust", ["SN-A1", "SN-B1"], ["ins_a", "ins_b"]),
        ("site", "site_a", ["SN-A1"], ["ins_a"]),
        ("site", "site_b", ["SN-B1"], ["ins_b"]),
        ("installation", "ins_b", ["SN-B1"], ["ins_b"]),
    ],
)
def test_each_scope_lists_exactly_its_devices_and_installations(world, scope_type, scope_id, devices, installations):
    seen = session_of(world, scope_type, scope_id)
    assert sorted(item["serial"] for item in portal_devices(seen)["items"]) == devices
    assert sorted(item["id"] for item in portal_installations(seen)["items"]) == installations


def test_a_device_and_an_installation_show_what_a_customer_may_see_and_no_keys(world):
    DeviceModel.get("SN-A1").update(actions=[DeviceModel.labels.set(["boiler", "cellar"])])
    seen = session_of(world, "site", "site_a")
    [device] = portal_devices(seen)["items"]
    claimed = DeviceModel.get("SN-A1").claimed_at.isoformat()
    assert device == {
        "serial": "SN-A1",
        "product_type": "meter",
        "claim_status": "CLAIMED",
        "site_id": "site_a",
        "labels": ["boiler", "cellar"],
        "claimed_at": claimed,
    }
    [installation] = portal_installations(seen)["items"]
    stored = InstallationModel.get("ins_a")
    assert installation == {
        "id": "ins_a",
        "state": "ACTIVE",
        "serial": "SN-A1",
        "product_type": "meter",
        "web_address": "sn-a1.example.com",
        "site_id": "site_a",
        "created_at": stored.created_at.isoformat(),
        "activated_at": stored.activated_at.isoformat(),
    }


@pytest.mark.parametrize(
    "state, owner, shown",
    [
        ("PENDING", "cust", True),
        ("ACTIVE", "cust", True),
        ("CANCELLED", "cust", False),
        ("EXPIRED", "cust", False),
        ("ACTIVE", "other", False),
    ],
)
def test_an_installation_portal_shows_its_device_only_while_the_customer_owns_it_and_it_is_live(
    world, state, owner, shown
):
    make_device("SN-C1", owner_org_id=owner)
    make_installation("ins_c", "SN-C1", None, state=state)
    seen = session_of(world, "installation", "ins_c")
    page = portal_devices(seen)
    assert [item["serial"] for item in page["items"]] == (["SN-C1"] if shown else []) and page["next_cursor"] is None
    listed = portal_installations(seen)
    assert [(item["id"], item["state"]) for item in listed["items"]] == [("ins_c", state)]
    assert listed["next_cursor"] is None


@pytest.mark.parametrize("lister", [portal_devices, portal_installations])
def test_a_scope_lists_page_by_page_with_cursors_bound_to_its_access(world, lister):
    org = session_of(world, "org", "cust")
    site = session_of(world, "site", "site_a")
    first = lister(org, limit=1)
    second = lister(org, limit=1, cursor=first["next_cursor"])
    assert len(first["items"]) == len(second["items"]) == 1 and second["next_cursor"] is None
    assert first["items"] + second["items"] == lister(org)["items"]
    with pytest.raises(InvalidCursor):
        lister(site, limit=1, cursor=first["next_cursor"])
