"""Portal access codes, service level: who may manage which scope, what staff read, and enable, regenerate and
revoke, including against a concurrent change."""

import logging
import os
import re
import time
from datetime import datetime, timezone

import pytest

from chalicelib.crypto import KeyMaterialUnreadable
from chalicelib.errors import Conflict, Forbidden, ValidationFailed
from chalicelib.models import AuditEventModel, PortalAccessModel
from chalicelib.permissions import Principal
from chalicelib.security import token_hash
from chalicelib.services.portal import access_codes as portal_access
from chalicelib.services.portal.access_codes import (
    PortalAccessExists,
    PortalAccessNotFound,
    PortalAccessRevoked,
    PortalScopeNotFound,
    enable_portal_access,
    normalize_code,
    read_portal_access,
    regenerate_portal_access,
    revoke_portal_access,
)
from chalicelib.services.portal.sessions import PortalLoginInvalid, open_portal_session
from tests.portal_world import make_portal_world

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}$")  # Crockford's base32, 28 symbols
ACCESS_ID = re.compile(r"^pa_[0-9a-f]{24}$")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
SCOPES = [("org", "cust"), ("site", "site_a"), ("installation", "ins_a")]


@pytest.fixture
def world(aws):
    return make_portal_world()


def enable(principal, scope_type, scope_id):
    return enable_portal_access(principal, {"type": scope_type, "id": scope_id})


def opens(code, token=None):
    """True when the code (and token) opens a portal session."""
    try:
        open_portal_session({"code": code, **({"token": token} if token else {})}, "192.0.2.1")
        return True
    except PortalLoginInvalid:
        return False


def events(action):
    return [event for event in AuditEventModel.scan() if event.action == action]


def meanwhile(monkeypatch, name, act):
    """Run act() once, right after portal_access.<name> answered (another request landing in between)."""
    original, done = getattr(portal_access, name), []

    def wrapped(*args):
        answer = original(*args)
        if not done and (name != "_get" or args[0] is PortalAccessModel):
            done.append(True)
            act()
        return answer

    monkeypatch.setattr(portal_access, name, wrapped)


@pytest.mark.parametrize("scope_type, scope_id", SCOPES)
def test_a_scope_reads_as_disabled_until_enabled(world, scope_type, scope_id):
    assert read_portal_access(world["admin"], scope_type, scope_id) == {
        "id": None,
        "scope": {"type": scope_type, "id": scope_id},
        "enabled": False,
        "state": "DISABLED",
        "code": None,
        "link": "https://keyport.test/console/portal",
        "needs_token": scope_type == "installation",
        "created_at": None,
        "changed_at": None,
    }


@pytest.mark.parametrize("scope_type, scope_id", SCOPES)
def test_enabling_answers_a_grouped_code_once_readable_again_and_a_token_only_for_an_installation(
    world, scope_type, scope_id
):
    access = enable(world["installer"], scope_type, scope_id)
    assert ACCESS_ID.match(access["id"]) and CODE.match(access["code"])
    assert (access["enabled"], access["state"], access["needs_token"]) == (True, "ACTIVE", scope_type == "installation")
    assert ISO_UTC.match(access["created_at"]) and access["changed_at"] == access["created_at"]
    assert (
        access["scope"] == {"type": scope_type, "id": scope_id}
        and access["link"] == "https://keyport.test/console/portal"
    )
    stored = PortalAccessModel.get(access["id"])
    assert (stored.scope_org_id, stored.generation, stored.created_by, stored.changed_by) == (
        "cust",
        1,
        world["installer"].user_id,
        world["installer"].user_id,
    )
    if scope_type == "installation":
        assert len(access["token"]) == 43 and stored.token_hash == token_hash(access["token"])
    else:
        assert "token" not in access and stored.token_hash is None
    again = read_portal_access(world["admin"], scope_type, scope_id)
    assert again == {key: value for key, value in access.items() if key != "token"}
    [event] = events("portal_access_enabled")
    assert (event.org_id, event.actor_id, event.target) == ("cust", world["installer"].user_id, access["id"])
    assert event.detail == {"scope_type": scope_type, "scope_id": scope_id}


def test_each_scope_has_its_own_access_and_codes_differ(world):
    ids = {
        enable(world["admin"], scope_type, scope_id)["id"]
        for scope_type, scope_id in [*SCOPES, ("site", "site_b"), ("installation", "ins_b")]
    }
    assert len(ids) == 5


@pytest.mark.parametrize(
    "who, scope_type, scope_id, outcome",
    [
        ("installer", "org", "cust", "ok"),
        ("rival", "org", "cust", 404),
        ("admin", "org", "cust", "ok"),
        ("site_admin", "org", "cust", 404),
        ("viewer", "org", "cust", 403),
        ("other_admin", "org", "cust", 404),
        ("operator", "org", "cust", "ok"),
        ("installer", "org", "inst", "ok"),
        ("installer", "org", "other", 404),
        ("other_admin", "org", "other", "ok"),
        ("installer", "site", "site_a", "ok"),
        ("rival", "site", "site_a", 404),
        ("admin", "site", "site_a", "ok"),
        ("site_admin", "site", "site_a", "ok"),
        ("site_admin", "site", "site_b", 404),
        ("viewer", "site", "site_a", 403),
        ("other_admin", "site", "site_a", 404),
        ("stranger_site_admin", "site", "site_a", 404),
        ("installer", "site", "site_o", 404),
        ("admin", "site", "site_o", 404),
        ("other_admin", "site", "site_o", "ok"),
        ("installer", "installation", "ins_a", "ok"),
        ("rival", "installation", "ins_a", 404),
        ("admin", "installation", "ins_a", "ok"),
        ("site_admin", "installation", "ins_a", "ok"),
        ("site_admin", "installation", "ins_b", 404),
        ("viewer", "installation", "ins_a", 403),
        ("other_admin", "installation", "ins_a", 404),
        ("stranger_site_admin", "installation", "ins_a", 404),
        ("operator", "org", "nope", 404),
        ("operator", "site", "nope", 404),
        ("operator", "installation", "nope", 404),
    ],
)
def test_who_may_manage_the_portal_access_of_which_scope(world, who, scope_type, scope_id, outcome):
    world["stranger_site_admin"] = Principal(
        "usr_ss", "other", frozenset({"SITE_ADMIN"}), site_ids=frozenset({"site_a"})
    )
    principal = world[who]
    if outcome == "ok":
        assert read_portal_access(principal, scope_type, scope_id)["enabled"] is False
        assert enable(principal, scope_type, scope_id)["enabled"] is True
        return
    refusal = {404: PortalScopeNotFound, 403: Forbidden}[outcome]
    for act in (
        lambda: read_portal_access(principal, scope_type, scope_id),
        lambda: enable(principal, scope_type, scope_id),
    ):
        with pytest.raises(refusal):
            act()
    assert list(PortalAccessModel.scan()) == []


def test_staff_outside_the_scope_find_no_access_to_regenerate_or_revoke(world):
    access = enable(world["admin"], "site", "site_a")
    for act in (regenerate_portal_access, revoke_portal_access):
        for principal in (world["rival"], world["other_admin"]):
            with pytest.raises(PortalAccessNotFound):
                act(principal, access["id"])
        with pytest.raises(PortalAccessNotFound):
            act(world["admin"], "pa_" + "0" * 24)
        with pytest.raises(Forbidden):
            act(world["viewer"], access["id"])
    assert opens(access["code"])


@pytest.mark.parametrize(
    "missing, field", [("scope_type", "scope_type"), ("scope_id", "scope_id"), ("both", "scope_type")]
)
def test_reading_an_access_needs_both_scope_type_and_id(world, missing, field):
    scope_type = None if missing in ("scope_type", "both") else "org"
    scope_id = None if missing in ("scope_id", "both") else "cust"
    with pytest.raises(ValidationFailed) as refused:
        read_portal_access(world["admin"], scope_type, scope_id)
    assert refused.value.details == [{"field": field, "problem": "is required"}]
    assert refused.value.message == "scope_type and scope_id: name the scope."


def test_enabling_an_enabled_scope_is_refused_and_its_code_stays(world):
    access = enable(world["admin"], "org", "cust")
    with pytest.raises(PortalAccessExists):
        enable(world["installer"], "org", "cust")
    assert read_portal_access(world["admin"], "org", "cust")["code"] == access["code"] and opens(access["code"])


def test_two_enables_at_once_make_one_code(world, monkeypatch):
    won = []
    meanwhile(monkeypatch, "_get", lambda: won.append(enable(world["installer"], "org", "cust")))
    with pytest.raises(PortalAccessExists):
        enable(world["admin"], "org", "cust")
    assert read_portal_access(world["admin"], "org", "cust")["code"] == won[0]["code"] and opens(won[0]["code"])
    assert len(events("portal_access_enabled")) == 1


def test_enabling_a_revoked_scope_again_at_once_twice_makes_one_code(world, monkeypatch):
    first = enable(world["admin"], "site", "site_a")
    revoke_portal_access(world["admin"], first["id"])
    won = []
    meanwhile(monkeypatch, "_get", lambda: won.append(enable(world["installer"], "site", "site_a")))
    with pytest.raises(PortalAccessExists):
        enable(world["admin"], "site", "site_a")
    assert PortalAccessModel.get(first["id"]).generation == 3 and opens(won[0]["code"])


def test_a_reenable_racing_an_enable_and_a_revocation_does_not_revive_their_sessions(world, monkeypatch):
    from chalicelib.errors import NotAuthenticated
    from chalicelib.services.portal.sessions import authenticate_portal

    revoke_portal_access(world["admin"], enable(world["admin"], "site", "site_a")["id"])
    interim = []

    def enable_log_in_and_revoke():
        access = enable(world["installer"], "site", "site_a")
        interim.append(open_portal_session({"code": access["code"]}, "192.0.2.1")["token"])
        revoke_portal_access(world["installer"], access["id"])

    meanwhile(monkeypatch, "_get", enable_log_in_and_revoke)
    with pytest.raises(PortalAccessExists):
        enable(world["admin"], "site", "site_a")
    stored = PortalAccessModel.get(portal_access.access_id_of("site", "site_a"))
    assert (stored.state, stored.generation) == ("REVOKED", 4)
    with pytest.raises(NotAuthenticated):
        authenticate_portal(interim[0])


def test_enabling_again_after_a_revocation_gives_the_same_access_a_new_code_and_generation(world):
    first = enable(world["admin"], "installation", "ins_a")
    revoke_portal_access(world["admin"], first["id"])
    again = enable(world["installer"], "installation", "ins_a")
    assert again["id"] == first["id"] and again["code"] != first["code"] and again["token"] != first["token"]
    stored = PortalAccessModel.get(first["id"])
    assert (stored.generation, stored.state, stored.created_by) == (3, "ACTIVE", world["installer"].user_id)
    assert opens(again["code"], again["token"]) and not opens(first["code"], first["token"])


@pytest.mark.parametrize("scope_type, scope_id", SCOPES)
def test_regenerating_replaces_code_and_token_and_ends_the_old_ones(world, scope_type, scope_id):
    access = enable(world["admin"], scope_type, scope_id)
    fresh = regenerate_portal_access(world["installer"], access["id"])
    assert fresh["id"] == access["id"] and CODE.match(fresh["code"]) and fresh["code"] != access["code"]
    assert fresh["scope"] == {"type": scope_type, "id": scope_id} and fresh["needs_token"] == access["needs_token"]
    assert fresh["created_at"] == access["created_at"] and fresh["changed_at"] > access["changed_at"]
    stored = PortalAccessModel.get(access["id"])
    assert (stored.generation, stored.state, stored.changed_by) == (2, "ACTIVE", world["installer"].user_id)
    assert stored.created_by == world["admin"].user_id and stored.code_hash != access["code"]
    if scope_type == "installation":
        assert fresh["token"] != access["token"] and stored.token_hash == token_hash(fresh["token"])
        assert opens(fresh["code"], fresh["token"]) and not opens(fresh["code"], access["token"])
    else:
        assert "token" not in fresh and stored.token_hash is None
        assert opens(fresh["code"])
    assert not opens(access["code"], access.get("token"))
    assert read_portal_access(world["admin"], scope_type, scope_id)["code"] == fresh["code"]
    [event] = events("portal_access_regenerated")
    assert (event.org_id, event.actor_id, event.target) == ("cust", world["installer"].user_id, access["id"])
    assert event.detail == {"scope_type": scope_type, "scope_id": scope_id}


def test_a_regeneration_racing_another_change_is_refused(world, monkeypatch):
    access = enable(world["admin"], "org", "cust")
    raced = []
    meanwhile(
        monkeypatch, "_managed_access", lambda: raced.append(regenerate_portal_access(world["installer"], access["id"]))
    )
    with pytest.raises(Conflict) as refused:
        regenerate_portal_access(world["admin"], access["id"])
    assert refused.value.message == "The access changed meanwhile; reload it."
    assert read_portal_access(world["admin"], "org", "cust")["code"] == raced[0]["code"] and opens(raced[0]["code"])
    assert PortalAccessModel.get(access["id"]).generation == 2


def test_revoking_ends_the_code_keeps_the_item_and_is_audited(world):
    access = enable(world["admin"], "installation", "ins_a")
    assert revoke_portal_access(world["installer"], access["id"]) is None
    stored = PortalAccessModel.get(access["id"])
    assert (stored.state, stored.generation, stored.changed_by) == ("REVOKED", 2, world["installer"].user_id)
    assert stored.changed_at > stored.created_at
    view = read_portal_access(world["admin"], "installation", "ins_a")
    assert (view["id"], view["enabled"], view["state"], view["code"]) == (access["id"], False, "REVOKED", None)
    assert view["created_at"] == access["created_at"] and view["changed_at"] > access["changed_at"]
    assert not opens(access["code"], access["token"])
    [event] = events("portal_access_revoked")
    assert (event.org_id, event.actor_id, event.target) == ("cust", world["installer"].user_id, access["id"])
    assert event.detail == {"scope_type": "installation", "scope_id": "ins_a"}
    for act in (regenerate_portal_access, revoke_portal_access):
        with pytest.raises(PortalAccessRevoked):
            act(world["admin"], access["id"])


def test_a_revocation_racing_a_regeneration_is_refused(world, monkeypatch):
    access = enable(world["admin"], "org", "cust")
    raced = []
    meanwhile(
        monkeypatch, "_managed_access", lambda: raced.append(regenerate_portal_access(world["installer"], access["id"]))
    )
    with pytest.raises(Conflict) as refused:
        revoke_portal_access(world["admin"], access["id"])
    assert refused.value.message == "The access changed meanwhile; reload it."
    assert PortalAccessModel.get(access["id"]).state == "ACTIVE" and opens(raced[0]["code"])


def test_a_sealed_code_copied_to_another_access_does_not_read(world, caplog):
    org = enable(world["admin"], "org", "cust")
    site = enable(world["admin"], "site", "site_a")
    copied = PortalAccessModel.get(org["id"]).code_wrapped
    PortalAccessModel.get(site["id"]).update(actions=[PortalAccessModel.code_wrapped.set(copied)])
    with caplog.at_level(logging.ERROR), pytest.raises(KeyMaterialUnreadable):
        read_portal_access(world["admin"], "site", "site_a")
    assert f"portal access {site['id']} unreadable: encryption context mismatch" in caplog.text


def test_an_earlier_generations_sealed_code_put_back_does_not_read(world, caplog):
    access = enable(world["admin"], "org", "cust")
    earlier = PortalAccessModel.get(access["id"]).code_wrapped
    regenerate_portal_access(world["admin"], access["id"])
    PortalAccessModel.get(access["id"]).update(actions=[PortalAccessModel.code_wrapped.set(earlier)])
    with caplog.at_level(logging.ERROR), pytest.raises(KeyMaterialUnreadable):
        read_portal_access(world["admin"], "org", "cust")
    assert f"portal access {access['id']} unreadable: encryption context mismatch" in caplog.text


@pytest.fixture
def new_york():
    """The process's local zone is New York (a laptop's stage), back to what it was afterwards."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_change_times_are_utc_whatever_the_machines_zone(world, new_york):
    before = datetime.now(timezone.utc)
    access = enable(world["admin"], "org", "cust")
    fresh = regenerate_portal_access(world["admin"], access["id"])
    revoke_portal_access(world["admin"], access["id"])
    after = datetime.now(timezone.utc)
    stored = PortalAccessModel.get(access["id"])
    assert before <= stored.created_at <= datetime.fromisoformat(fresh["changed_at"]) <= stored.changed_at <= after


@pytest.mark.parametrize(
    "typed, normalized",
    [
        ("7k2m-9x4p-a1b2-c3d4-e5f6-g7h8-j9k0", "7K2M9X4PA1B2C3D4E5F6G7H8J9K0"),
        (" 7K2M 9X4P\tA1B2 C3D4-E5F6-G7H8-J9KO ", "7K2M9X4PA1B2C3D4E5F6G7H8J9K0"),  # O read as 0
        ("IL00-0000-0000-0000-0000-0000-0000", "1100000000000000000000000000"),  # I and L read as 1
        ("7K2M-9X4P-A1B2-C3D4-E5F6-G7H8-J9K", None),
        ("7K2M-9X4P-A1B2-C3D4-E5F6-G7H8-J9K00", None),
        ("UK2M-9X4P-A1B2-C3D4-E5F6-G7H8-J9K0", None),
        ("7K2M-9X4P-A1B2-C3D4-E5F6-G7H8-J9K*", None),
        ("", None),
        (None, None),
    ],
)
def test_a_typed_code_is_read_as_crockfords_base32(typed, normalized):
    assert normalize_code(typed) == normalized


def test_new_codes_are_grouped_and_differ():
    codes = {portal_access.new_code() for _ in range(50)}
    assert len(codes) == 50 and all(CODE.match(code) and normalize_code(code) for code in codes)
    assert set("".join(codes).replace("-", "")) == set(portal_access.ALPHABET)  # every symbol in use
    symbols = [code.replace("-", "") for code in codes]
    assert all(len({code[position] for code in symbols}) > 1 for position in range(28))  # each one random


@pytest.mark.parametrize(
    "scope_type, scope_id, name",
    [
        ("org", "cust", "Erika Mustermann"),
        ("site", "site_a", "Site A"),
        ("installation", "ins_b", "SN-B1 (meter)"),
        ("site", "gone", "gone"),
    ],
)
def test_a_scope_is_named_for_the_portal(world, scope_type, scope_id, name):
    assert portal_access.scope_name(scope_type, scope_id) == name


@pytest.mark.parametrize("scope_type, scope_id", [("org", "cust"), ("site", "site_a"), ("installation", "ins_a")])
def test_the_scope_of_an_access_is_read_strongly_consistently(world, scope_type, scope_id):
    # A site or installation made a moment ago must be found when its portal access is enabled right after.
    from tests.aws_calls import record_aws_calls

    scope_tables = ("test-organizations", "test-sites", "test-installations")
    with record_aws_calls() as calls:
        enable(world["admin"], scope_type, scope_id)
    reads = [
        params.get("ConsistentRead")
        for _tag, _service, operation, params in calls
        if operation == "GetItem" and params["TableName"] in scope_tables
    ]
    assert reads and all(read is True for read in reads)
