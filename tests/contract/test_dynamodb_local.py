"""What moto cannot show: races, expiry of live items, paging boundaries — on real DynamoDB Local."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.errors import EmailTaken, NotAuthenticated
from chalicelib.models import SessionModel, UserEmailModel, UserModel
from chalicelib.services.accounts import sessions
from chalicelib.services.tenants.users import page_users_of_org
from chalicelib.services.throttle import TooManyRequests
from tests.helpers import make_user


def test_twenty_concurrent_creates_of_one_email_have_exactly_one_winner(ddb):
    make_user(email="seed@example.com")  # the root organization exists before the race
    barrier = threading.Barrier(20)

    def create(index):
        barrier.wait()
        try:
            make_user(email="Race@Example.com", name=f"racer {index}")
            return "created"
        except EmailTaken:
            return "taken"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(create, range(20)))
    assert outcomes.count("created") == 1 and outcomes.count("taken") == 19
    assert UserEmailModel.count("race@example.com") == 1
    assert [user.email for user in UserModel.org_index.query("root")].count("race@example.com") == 1


def test_an_expired_session_is_refused_while_its_item_still_exists(ddb):
    user = make_user(email="ada@example.com")
    token, session = sessions.open_session(user)
    session.update(actions=[SessionModel.idle_expires_at.set(datetime.now(timezone.utc) - timedelta(seconds=1))])
    assert SessionModel.count(session.token_hash) == 1  # TTL has not removed it (and would not for hours)
    with pytest.raises(NotAuthenticated, match="expired"):
        sessions.authenticate(token)


def test_a_live_session_authenticates(ddb):
    user = make_user(email="ada@example.com", roles=("KEY_MANAGER",))
    token, _ = sessions.open_session(user)
    principal = sessions.authenticate(token)
    assert principal.user_id == user.user_id and principal.roles == {"KEY_MANAGER"}


@pytest.mark.parametrize("count, limit, pages", [(10, 5, 2), (9, 3, 3), (7, 3, 3), (1, 50, 1)])
def test_paging_ending_exactly_on_a_page_boundary_answers_no_cursor_and_no_empty_page(ddb, count, limit, pages):
    emails = sorted(f"user{i:02d}@example.com" for i in range(count))
    for email in emails:
        make_user(email=email)
    seen, cursor, visited = [], None, 0
    while True:
        items, cursor = page_users_of_org("root", limit, cursor)
        assert items, "no page may be empty"
        seen += [user.email for user in items]
        visited += 1
        if cursor is None:
            break
    assert seen == emails and visited == pages


def test_a_cursor_from_another_partition_is_refused_as_invalid(ddb):
    from chalicelib.paging import InvalidCursor, binding, encode_cursor

    make_user(email="a@example.com")
    # Sealed by the server itself (a client can no longer forge one): the start-key check still holds.
    forged = encode_cursor(
        {"org_id": {"S": "other"}, "email": {"S": "a@example.com"}, "user_id": {"S": "usr_x"}},
        bound_to=binding("", "users_of_org", org_id="root"),
    )
    with pytest.raises(InvalidCursor):
        page_users_of_org("root", 5, forged)


def test_concurrent_activations_leave_exactly_one_active_template(ddb):
    from chalicelib.errors import Conflict
    from chalicelib.models import MailTemplateModel, TemplateSlotModel
    from chalicelib.permissions import Principal
    from chalicelib.services.mail_templates.templates import activate_template, copy_template, sync_default_templates

    sync_default_templates()
    operator = Principal(user_id="usr_op", org_id="root", roles=frozenset({"OPERATOR"}))
    copies = [copy_template(operator, "tpl_system_invite_es", org_id=None)["id"] for _ in range(10)]
    barrier = threading.Barrier(len(copies))

    def activate(template_id):
        barrier.wait()
        try:
            activate_template(operator, template_id)
            return "activated"
        except Conflict:
            return "raced"

    with ThreadPoolExecutor(max_workers=len(copies)) as pool:
        outcomes = list(pool.map(activate, copies))
    assert "activated" in outcomes
    candidates = copies + ["tpl_system_invite_es"]
    active = [tid for tid in candidates if MailTemplateModel.get(tid, consistent_read=True).state == "ACTIVE"]
    assert len(active) == 1
    slot = TemplateSlotModel.slot_of("system", "invite", "es")
    assert TemplateSlotModel.get(slot, consistent_read=True).template_id == active[0]


@pytest.mark.parametrize("purpose", ["password_reset", "confirm_email"])
def test_twenty_concurrent_redemptions_of_one_token_have_exactly_one_winner(ddb, purpose):
    from datetime import timedelta

    from chalicelib.services.accounts import email_change, password_reset
    from chalicelib.services.accounts.mailed_tokens import TokenInvalid, issue_token

    user = make_user(email="ada@example.com")
    token = issue_token(purpose, user.user_id, timedelta(hours=1), new_email="ada.new@example.com")
    redeem = {
        "password_reset": lambda: password_reset.reset_password(token, "Reset-Passw0rd-2026"),
        "confirm_email": lambda: email_change.confirm_email_change(token),
    }[purpose]
    barrier = threading.Barrier(20)

    def attempt(_):
        barrier.wait()
        try:
            redeem()
            return "redeemed"
        except (TokenInvalid, EmailTaken, TooManyRequests):
            return "refused"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    assert outcomes.count("redeemed") == 1 and outcomes.count("refused") == 19


def seed_invitations(count, now):
    """`count` invitations in mixed states, every third one open and past its expiry."""
    from chalicelib.models import InvitationModel

    states = ["SENT", "CREATED", "ACCEPTED", "REVOKED", "EXPIRED", "SENT"]
    due = 0
    with InvitationModel.batch_write() as batch:
        for number in range(count):
            state = states[number % len(states)]
            past = number % 3 == 0
            due += past and state in ("SENT", "CREATED")
            batch.save(
                InvitationModel(
                    f"inv_{number:05d}",
                    org_id="org_a",
                    state=state,
                    created_by="usr_x",
                    created_at=now,
                    expires_at=now + timedelta(hours=-1 if past else 1),
                )
            )
    return due


def test_the_expiry_job_reads_no_more_than_it_changes_plus_one_page(ddb):
    from chalicelib.models import InvitationModel
    from chalicelib.services.tenants.invitations import expire_invitations

    now = datetime.now(timezone.utc)
    due = seed_invitations(1000, now)
    returned = []
    client = InvitationModel._get_connection().connection.client
    client.meta.events.register(
        "after-call.dynamodb.Query", lambda parsed, **kwargs: returned.append(parsed.get("Count", 0))
    )
    result = expire_invitations(now=now, page_size=100)
    assert result["expired"] == due and result["read"] == due
    assert sum(returned) <= result["expired"] + 100
    states = [item.state for item in InvitationModel.scan()]
    assert states.count("EXPIRED") == 1000 // 6 + (1000 % 6 > 4) + due
    assert expire_invitations(now=now) == {"read": 0, "expired": 0}


def test_twenty_concurrent_accepts_of_one_invitation_create_exactly_one_user(ddb):
    from chalicelib.models import InvitationModel
    from chalicelib.services.accounts.mailed_tokens import TokenInvalid
    from chalicelib.services.tenants.invitations import _token, accept_invitation

    make_user(email="seed@example.com")
    now = datetime.now(timezone.utc)
    # An invitation that names no address, each racer giving its own: the unique-address rule cannot decide the
    # race, only spending the invitation once can.
    invitation = InvitationModel(
        "inv_race",
        org_id="root",
        state="SENT",
        roles=["VIEWER"],
        nonce="nonce",
        created_by="usr_x",
        created_at=now,
        expires_at=now + timedelta(days=1),
    )
    invitation.save()
    token, barrier = _token(invitation), threading.Barrier(20)

    def accept(index):
        barrier.wait()
        try:
            accept_invitation(
                token,
                {"password": "Invited-Passw0rd-77", "name": f"racer {index}", "email": f"racer{index}@example.com"},
            )
            return "accepted"
        except (TokenInvalid, EmailTaken, TooManyRequests):
            return "refused"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(accept, range(20)))
    assert outcomes.count("accepted") == 1
    racers = [user.email for user in UserModel.org_index.query("root") if user.email.startswith("racer")]
    assert len(racers) == 1
    assert InvitationModel.get("inv_race").state == "ACCEPTED"


def test_an_organization_id_longer_than_any_of_ours_names_no_organization_instead_of_failing(ddb):
    from chalicelib.services.tenants.orgs import get_org

    make_user(email="a@example.com")
    # DynamoDB refuses a key over 2 KB with a ValidationException (moto answers nothing found): a console form
    # posting such an id must get "not found", never a 500.
    assert get_org("o" * 2049) is None
