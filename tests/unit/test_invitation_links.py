"""The public side of an invitation: its link is checked, shown and spent once, creating the invitee's user."""

import time
from datetime import datetime, timedelta, timezone

import pytest

import chalicelib.clock
from chalicelib.errors import EmailTaken, ValidationFailed, WeakPassword
from chalicelib.models import AuditEventModel, InvitationModel, UserEmailModel
from chalicelib.security import keyed_digest, verify_password
from chalicelib.services.accounts.mailed_tokens import TokenInvalid
from chalicelib.services.tenants import invitations
from chalicelib.services.tenants.invitations import accept_invitation, invitation_view, view_invitation
from chalicelib.services.tenants.users import find_user_by_email
from chalicelib.services.throttle import TooManyRequests
from tests.aws_calls import record_aws_calls
from tests.helpers import make_org, make_user

PASSWORD = "Invited-Passw0rd-77"


@pytest.fixture
def acme(aws):
    return make_org("acme", name="Acme Metering")


def stored_invitation(invitation_id="inv_1", **fields):
    """An open (SENT) invitation into acme for ivy@example.com, as create and send leave it."""
    now = datetime.now(timezone.utc)
    values = {
        "org_id": "acme",
        "state": "SENT",
        "name": "Ivy Invitee",
        "email": "ivy@example.com",
        "roles": ["KEY_MANAGER"],
        "site_ids": ["site_north"],
        "language": "de",
        "nonce": "nonce-1",
        "created_by": "usr_inviter",
        "created_at": now,
        "expires_at": now + timedelta(days=7),
        **fields,
    }
    invitation = InvitationModel(invitation_id, **values)
    invitation.state_key = f"{invitation.state}#{invitation.created_at.isoformat()}"
    invitation.save()
    return invitation


def link_token(invitation):
    return invitation_view(invitation)["link"].rsplit("/invite/", 1)[1]


def stored(invitation):
    return InvitationModel.get(invitation.invitation_id, consistent_read=True)


def accepted_events():
    return [
        (event.actor_id, event.org_id, event.target, event.detail)
        for event in AuditEventModel.scan()
        if event.action == "invitation_accepted"
    ]


def test_accepting_creates_the_invited_user_and_spends_the_invitation(acme):
    invitation = stored_invitation()
    user = accept_invitation(link_token(invitation), {"password": PASSWORD})
    assert {
        key: user[key]
        for key in ("name", "email", "org_id", "roles", "site_ids", "language", "status", "must_change_password")
    } == {
        "name": "Ivy Invitee",
        "email": "ivy@example.com",
        "org_id": "acme",
        "roles": ["KEY_MANAGER"],
        "site_ids": ["site_north"],
        "language": "de",
        "status": "ACTIVE",
        "must_change_password": False,
    }
    record = find_user_by_email("ivy@example.com")
    assert record.user_id == user["id"] and record.created_by == "usr_inviter"
    assert verify_password(record.password_hash, PASSWORD)
    spent = stored(invitation)
    assert (spent.state, spent.state_key, spent.accepted_user_id) == (
        "ACCEPTED",
        f"ACCEPTED#{invitation.created_at.isoformat()}",
        user["id"],
    )
    assert accepted_events() == [(user["id"], "acme", "inv_1", {"user_id": user["id"]})]
    with pytest.raises(TokenInvalid):
        accept_invitation(link_token(invitation), {"password": PASSWORD, "email": "other@example.com"})


def test_a_prepared_invitation_not_yet_sent_can_be_accepted(acme):
    invitation = stored_invitation(state="CREATED")
    assert accept_invitation(link_token(invitation), {"password": PASSWORD})["email"] == "ivy@example.com"
    assert stored(invitation).state == "ACCEPTED"


@pytest.mark.parametrize(
    "given, invited, expected",
    [
        ({"name": "Ivy I.", "language": "fr"}, {}, ("Ivy I.", "fr")),
        ({}, {"name": None}, ("ivy@example.com", "de")),
        ({"name": "", "language": ""}, {}, ("Ivy Invitee", "de")),
    ],
    ids=["the invitee's own", "the address for a missing name", "blank answers keep the invitation's"],
)
def test_the_invitee_may_choose_name_and_language(acme, given, invited, expected):
    user = accept_invitation(link_token(stored_invitation(**invited)), {"password": PASSWORD, **given})
    assert (user["name"], user["language"]) == expected


def test_an_invitation_without_an_address_takes_the_invitees_own(acme):
    invitation = stored_invitation(email=None)
    for without in ({}, {"email": ""}):
        with pytest.raises(ValidationFailed) as missing:
            accept_invitation(link_token(invitation), {"password": PASSWORD, **without})
        assert (missing.value.message, missing.value.details) == (
            "email: this invitation names no address; give yours.",
            [{"field": "email", "problem": "is required"}],
        )
    user = accept_invitation(link_token(invitation), {"password": PASSWORD, "email": " Walk.In@Example.com"})
    assert user["email"] == "walk.in@example.com" and find_user_by_email("walk.in@example.com") is not None


def test_an_addressed_invitation_refuses_another_address_and_stays_open(acme):
    invitation = stored_invitation()
    with pytest.raises(ValidationFailed) as other:
        accept_invitation(link_token(invitation), {"password": PASSWORD, "email": "mallory@example.com"})
    assert (other.value.message, other.value.details) == (
        "email: the invitation is for another address.",
        [{"field": "email", "problem": "differs from the invited address"}],
    )
    assert stored(invitation).state == "SENT" and find_user_by_email("mallory@example.com") is None
    user = accept_invitation(link_token(invitation), {"password": PASSWORD, "email": "IVY@example.com "})
    assert user["email"] == "ivy@example.com"


@pytest.mark.parametrize("refusal", ["weak password", "address taken"])
def test_a_refused_accept_leaves_the_invitation_usable(acme, refusal):
    invitation = stored_invitation()
    if refusal == "address taken":
        make_user(email="ivy@example.com", org_id="acme")
    with pytest.raises(WeakPassword if refusal == "weak password" else EmailTaken):
        accept_invitation(
            link_token(invitation), {"password": "password123" if refusal == "weak password" else PASSWORD}
        )
    left = stored(invitation)
    assert (left.state, left.accepted_user_id) == ("SENT", None) and accepted_events() == []


def test_one_link_is_tried_ten_times_an_hour_and_other_links_still_work(acme, monkeypatch):
    make_user(email="known@example.com", org_id="acme")
    probed, other = stored_invitation(email=None), stored_invitation("inv_2")
    now = [float(int(time.time()) // 240 * 240)]  # the start of one of the throttle's four-minute slots
    monkeypatch.setattr(chalicelib.clock, "seconds", lambda: now[0])
    for _ in range(10):
        with pytest.raises(EmailTaken):
            accept_invitation(link_token(probed), {"password": PASSWORD, "email": "known@example.com"})
    with pytest.raises(TooManyRequests) as refused:
        accept_invitation(link_token(probed), {"password": PASSWORD, "email": "new@example.com"})
    assert refused.value.message == "At most 10 of these per 1 hour(s); try again later."
    assert find_user_by_email("new@example.com") is None
    assert accept_invitation(link_token(other), {"password": PASSWORD})["email"] == "ivy@example.com"
    now[0] += 3599  # the ten tries are still inside the hour
    with pytest.raises(TooManyRequests):
        accept_invitation(link_token(probed), {"password": PASSWORD, "email": "new@example.com"})
    now[0] += refused.value.retry_after - 3599  # as long as the refusal said to wait
    assert accept_invitation(link_token(probed), {"password": PASSWORD, "email": "new@example.com"})["email"] == (
        "new@example.com"
    )


def interleave(monkeypatch, act):
    """Run `act` after the link was checked and before the user is written (as a concurrent request could)."""
    real_hit = invitations.hit

    def hit_then_act(*args, **kwargs):
        real_hit(*args, **kwargs)
        act()

    monkeypatch.setattr(invitations, "hit", hit_then_act)


@pytest.mark.parametrize("state", ["ACCEPTED", "REVOKED", "EXPIRED"])
def test_an_invitation_closed_while_it_is_accepted_creates_no_user(acme, monkeypatch, state):
    invitation = stored_invitation(email=None)
    interleave(monkeypatch, lambda: invitation.update(actions=[InvitationModel.state.set(state)]))
    with pytest.raises(TokenInvalid):
        accept_invitation(link_token(invitation), {"password": PASSWORD, "email": "late@example.com"})
    assert find_user_by_email("late@example.com") is None and UserEmailModel.count() == 0
    assert stored(invitation).state == state and accepted_events() == []


def freeze(monkeypatch, now):
    monkeypatch.setattr(chalicelib.clock, "now", lambda: now)


def test_an_invitation_that_expires_while_it_is_accepted_creates_no_user(acme, monkeypatch):
    now = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
    freeze(monkeypatch, now)
    invitation = stored_invitation(expires_at=now + timedelta(days=1))
    # Its expiry moved to this very moment: not after now, so no longer open.
    interleave(monkeypatch, lambda: invitation.update(actions=[InvitationModel.expires_at.set(now)]))
    with pytest.raises(TokenInvalid):
        accept_invitation(link_token(invitation), {"password": PASSWORD})
    assert find_user_by_email("ivy@example.com") is None and stored(invitation).state == "SENT"


def test_a_link_dies_at_the_moment_its_invitation_expires(acme, monkeypatch):
    now = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
    freeze(monkeypatch, now)
    alive = stored_invitation("inv_1", expires_at=now + timedelta(microseconds=1))
    dead = stored_invitation("inv_2", expires_at=now)
    assert view_invitation(link_token(alive))["name"] == "Ivy Invitee"
    with pytest.raises(TokenInvalid):
        view_invitation(link_token(dead))
    with pytest.raises(TokenInvalid):
        accept_invitation(link_token(dead), {"password": PASSWORD})


def test_the_invitee_sees_the_invitation_and_its_organization(acme):
    invitation = stored_invitation()
    assert view_invitation(link_token(invitation)) == {
        "name": "Ivy Invitee",
        "email": "ivy@example.com",
        "org_name": "Acme Metering",
        "roles": ["KEY_MANAGER"],
        "language": "de",
        "expires_at": invitation.expires_at.isoformat(),
    }


def test_an_invitation_into_a_deleted_organization_shows_no_name(aws):
    invitation = stored_invitation(org_id="gone")
    assert view_invitation(link_token(invitation))["org_name"] == ""


def with_digest(invitation_id, nonce="nonce-1"):
    return f"{invitation_id}.{keyed_digest('invitation', invitation_id, nonce)}"


def test_a_link_of_two_hundred_characters_at_most_is_looked_at(acme):
    # An id as long as the link rule allows: the longest valid link is 200 characters.
    digest_length = len(keyed_digest("invitation", "inv_x", "nonce-1"))
    longest, too_long = ("inv_" + "l" * (length - 5 - digest_length) for length in (200, 201))
    stored_invitation(longest)
    stored_invitation(too_long)
    assert len(with_digest(longest)) == 200 and len(with_digest(too_long)) == 201
    assert view_invitation(with_digest(longest))["name"] == "Ivy Invitee"
    with pytest.raises(TokenInvalid):
        view_invitation(with_digest(too_long))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        ".x",
        "inv_1.",
        "inv_1",
        "inv_1.forged",
        "inv_unknown.x",
        "usr_1.x",
        "inv_1.x." + "x" * 5000,
        "inv_1." + keyed_digest("invitation", "inv_1", "another nonce"),
    ],
    ids=[
        "empty",
        "no dot",
        "no id",
        "no digest",
        "only an id",
        "forged",
        "unknown",
        "not an invitation's id",
        "oversized",
        "another nonce",
    ],
)
def test_every_other_link_is_refused_alike(acme, token):
    stored_invitation()
    with pytest.raises(TokenInvalid):
        view_invitation(token)
    with pytest.raises(TokenInvalid):
        accept_invitation(token, {"password": PASSWORD})
    assert accepted_events() == []


@pytest.mark.parametrize("state", ["ACCEPTED", "REVOKED", "EXPIRED"])
def test_the_link_of_a_closed_invitation_is_dead_before_it_expires(acme, state):
    token = link_token(stored_invitation(state="SENT"))
    InvitationModel("inv_1").update(actions=[InvitationModel.state.set(state)])
    with pytest.raises(TokenInvalid):
        view_invitation(token)
    with pytest.raises(TokenInvalid):
        accept_invitation(token, {"password": PASSWORD})
    assert find_user_by_email("ivy@example.com") is None


def test_a_link_is_checked_against_a_strongly_consistent_read_of_its_invitation(acme):
    # A link revoked a moment ago must not show the invitation: an eventually consistent read could.
    token = link_token(stored_invitation())
    with record_aws_calls() as calls:
        view_invitation(token)
    reads = [
        params
        for _, _, operation, params in calls
        if operation == "GetItem" and params["TableName"].endswith("invitations")
    ]
    assert [read.get("ConsistentRead") for read in reads] == [True]


def test_an_invitation_without_a_nonce_has_no_link(acme):
    stored_invitation(nonce=None)
    for nonce in ("", "None"):
        with pytest.raises(TokenInvalid):
            view_invitation(with_digest("inv_1", nonce=nonce))
