"""Sessions: authentication of bearer tokens, expiry (idle and absolute), the temporary-password gate, ending
sessions."""

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from pynamodb.exceptions import PutError

import chalicelib.clock
from chalicelib.api.http import ROUTES
from chalicelib.config import get_settings
from chalicelib.errors import NotAuthenticated, PasswordChangeRequired
from chalicelib.models import SessionModel, UserModel
from chalicelib.security import token_hash
from chalicelib.services.accounts import sessions
from tests.aws_calls import record_aws_calls
from tests.helpers import make_user

# The only routes a user with a temporary password may call (API.md, section Account).
OPEN_WITH_TEMPORARY_PASSWORD = {("GET", "/me"), ("PATCH", "/me"), ("POST", "/me/password"), ("POST", "/auth/logout")}
START = datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)
LOG_IN_FIRST = "Log in first: send Authorization: Bearer <token>."
UNKNOWN = "The session is unknown or has ended; log in again."
EXPIRED = "The session has expired; log in again."
ENDED = "The session has ended; log in again."


@pytest.fixture
def clock(aws, monkeypatch):
    """A settable clock for the session service: `clock.now` is what datetime.now answers there."""

    class Clock(datetime):
        now_value = START

        @classmethod
        def now(cls, tz=None):
            return Clock.now_value

    monkeypatch.setattr(chalicelib.clock, "now", lambda: Clock.now_value)
    return Clock


def refused(token, **kwargs):
    """The message of the NotAuthenticated that authenticating this token raises."""
    with pytest.raises(NotAuthenticated) as caught:
        sessions.authenticate(token, **kwargs)
    return caught.value.message


def stored(token):
    return SessionModel.get(token_hash(token), consistent_read=True)


def test_a_new_session_lasts_thirty_idle_minutes_within_twelve_hours_and_stores_only_the_token_hash(clock):
    user = make_user()
    token, session = sessions.open_session(user)
    saved = stored(token)
    assert saved.user_id == user.user_id and saved.created_at == saved.last_seen_at == START
    assert saved.idle_expires_at == START + timedelta(minutes=30)
    assert saved.absolute_expires_at == START + timedelta(hours=12)
    assert saved.ttl == START + timedelta(hours=12)  # DynamoDB removes it after the absolute end
    assert [item.token_hash for item in SessionModel.scan()] == [token_hash(token)]
    assert sessions.session_view(token, session) == {
        "token": token,
        "expires_at": "2030-01-01T21:00:00+00:00",
        "idle_expires_at": "2030-01-01T09:30:00+00:00",
    }


def test_an_idle_expiry_never_reaches_past_the_absolute_one(clock, monkeypatch):
    settings = dataclasses.replace(get_settings(), session_idle_minutes=13 * 60, session_absolute_hours=12)
    monkeypatch.setattr(sessions, "get_settings", lambda: settings)
    token, _ = sessions.open_session(make_user())
    assert stored(token).idle_expires_at == stored(token).absolute_expires_at == START + timedelta(hours=12)


def test_a_token_collision_never_takes_over_another_users_session(clock, monkeypatch):
    ada, bob = make_user(email="ada@example.com"), make_user(email="bob@example.com")
    monkeypatch.setattr(sessions, "new_token", lambda: "the-same-token")
    sessions.open_session(ada)
    with pytest.raises(PutError):
        sessions.open_session(bob)
    assert sessions.authenticate("the-same-token").user_id == ada.user_id


def test_the_principal_carries_the_users_rights_and_the_sessions_hash(clock):
    user = make_user(
        roles=("SITE_ADMIN",), org_id="root", site_ids=["site_a", "site_b"], permissions=["devices.import"]
    )
    token, _ = sessions.open_session(user)
    principal = sessions.authenticate(token)
    assert (principal.user_id, principal.org_id, principal.session_hash) == (user.user_id, "root", token_hash(token))
    assert principal.roles == frozenset({"SITE_ADMIN"}) and principal.permissions == frozenset({"devices.import"})
    assert principal.site_ids == frozenset({"site_a", "site_b"}) and principal.must_change_password is False


@pytest.mark.parametrize(
    "token, message",
    [
        (None, LOG_IN_FIRST),
        ("", LOG_IN_FIRST),
        ("x" * 201, LOG_IN_FIRST),  # too long to be a token: not looked up
        ("x" * 200, UNKNOWN),
        ("not-a-session", UNKNOWN),
    ],
)
def test_a_missing_overlong_or_unknown_token_is_refused_with_its_reason(clock, token, message):
    sessions.open_session(make_user())
    assert refused(token) == message


@pytest.mark.parametrize(
    "idle, absolute",
    [
        (START, START + timedelta(hours=1)),  # idle expiry reached, to the microsecond
        (START + timedelta(minutes=10), START),  # absolute expiry reached, the idle one not
        (START - timedelta(seconds=1), START + timedelta(hours=1)),
    ],
)
def test_a_session_is_over_the_instant_either_expiry_is_reached_and_is_deleted(clock, idle, absolute):
    token, _ = sessions.open_session(make_user())
    stored(token).update(
        actions=[SessionModel.idle_expires_at.set(idle), SessionModel.absolute_expires_at.set(absolute)]
    )
    assert refused(token) == EXPIRED
    assert list(SessionModel.scan()) == []


def test_a_session_just_before_both_expiries_still_works(clock):
    token, _ = sessions.open_session(make_user())
    clock.now_value = START + timedelta(minutes=30) - timedelta(microseconds=1)
    assert sessions.authenticate(token).user_id


@pytest.mark.parametrize("change", ["disable", "delete"])
def test_the_sessions_of_a_disabled_or_deleted_user_end(clock, change):
    user = make_user()
    token, _ = sessions.open_session(user)
    if change == "disable":
        user.update(actions=[UserModel.status.set("DISABLED")])
    else:
        user.delete()
    assert refused(token) == ENDED
    assert list(SessionModel.scan()) == []


@pytest.mark.parametrize("quiet_seconds, touched", [(59, False), (60, True), (29 * 60, True)])
def test_use_after_a_quiet_minute_moves_the_idle_expiry_on(clock, quiet_seconds, touched):
    token, _ = sessions.open_session(make_user())
    clock.now_value = START + timedelta(seconds=quiet_seconds)
    sessions.authenticate(token)
    used = clock.now_value if touched else START  # last_seen is written at most once a minute
    assert stored(token).last_seen_at == used and stored(token).idle_expires_at == used + timedelta(minutes=30)


def test_a_session_used_all_day_still_ends_at_its_absolute_expiry(clock):
    token, _ = sessions.open_session(make_user())
    last_used = START + timedelta(hours=11, minutes=30)  # as if used all day, the last time at 11:30 into it
    stored(token).update(
        actions=[
            SessionModel.last_seen_at.set(last_used),
            SessionModel.idle_expires_at.set(last_used + timedelta(minutes=30)),
        ]
    )
    clock.now_value = START + timedelta(hours=11, minutes=50)
    sessions.authenticate(token)
    assert stored(token).idle_expires_at == START + timedelta(hours=12)  # not 12:20
    clock.now_value = START + timedelta(hours=12)
    assert refused(token) == EXPIRED


def test_a_session_ended_while_a_request_is_in_flight_is_not_revived(clock, monkeypatch):
    token, _ = sessions.open_session(make_user())
    clock.now_value = START + timedelta(minutes=5)
    looked_up = sessions.get_user

    def logout_meanwhile(user_id):
        sessions.end_session(token_hash(token))  # a logout or password change lands between read and write
        return looked_up(user_id)

    monkeypatch.setattr(sessions, "get_user", logout_meanwhile)
    assert refused(token) == ENDED
    assert list(SessionModel.scan()) == []


def test_the_reads_that_decide_a_session_are_strongly_consistent(clock):
    token, _ = sessions.open_session(make_user())
    with record_aws_calls() as calls:
        sessions.authenticate(token)
    reads = [params for _tag, service, operation, params in calls if operation == "GetItem"]
    assert len(reads) == 2 and all(params.get("ConsistentRead") is True for params in reads)  # session, user


def test_a_temporary_password_user_is_refused_everywhere_but_the_account_routes(aws):
    import app  # noqa: F401  (registers the routes)

    token, _ = sessions.open_session(make_user(must_change_password=True))
    with pytest.raises(PasswordChangeRequired):
        sessions.authenticate(token)
    assert sessions.authenticate(token, allow_pending_password_change=True).must_change_password
    pending_ok = {(spec.method, spec.path) for spec in ROUTES if spec.pending_password_ok}
    assert pending_ok == OPEN_WITH_TEMPORARY_PASSWORD


def test_logout_ends_only_that_session(clock):
    user = make_user()
    kept, _ = sessions.open_session(user)
    ended, _ = sessions.open_session(user)
    sessions.end_session(sessions.authenticate(ended).session_hash)
    assert refused(ended) == UNKNOWN
    assert sessions.authenticate(kept).user_id == user.user_id


def test_ending_the_sessions_of_a_user_keeps_only_the_one_named(aws):
    user, other = make_user(), make_user(email="other@example.com")
    tokens = [sessions.open_session(user)[0] for _ in range(3)]
    bystander, _ = sessions.open_session(other)
    keep = sessions.authenticate(tokens[0]).session_hash
    assert sessions.end_sessions_of_user(user.user_id, keep=keep) == 2
    assert sessions.authenticate(tokens[0]).user_id == user.user_id
    assert sessions.authenticate(bystander).user_id == other.user_id
    for token in tokens[1:]:
        with pytest.raises(NotAuthenticated):
            sessions.authenticate(token)
    assert sessions.end_sessions_of_user(user.user_id) == 1
    assert refused(tokens[0]) == UNKNOWN
