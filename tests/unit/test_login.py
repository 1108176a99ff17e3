"""Login and its lockout, at the service: the session, the audit trail, the metrics and the stored count."""

from datetime import datetime, timedelta, timezone

import pytest

import chalicelib.clock
from chalicelib import observability
from chalicelib.errors import AccountLocked, InvalidCredentials
from chalicelib.models import AuditEventModel, LoginAttemptModel, OrganizationModel, SessionModel
from chalicelib.security import token_hash
from chalicelib.services.accounts import own_account as accounts
from chalicelib.services.accounts.own_account import clear_login_failures, log_in
from chalicelib.services.audit.record import SYSTEM_ORG
from tests.aws_calls import record_aws_calls
from tests.helpers import STRONG_PASSWORD, emitted_metrics, make_org, make_user

WRONG = "Wrong-Passw0rd!"
SOURCE = "203.0.113.7"


@pytest.fixture
def ada(aws):
    make_org("acme", reference="INV-2026-0042")
    return make_user(email="ada@example.com", org_id="acme", roles=("KEY_MANAGER",))


@pytest.fixture
def metrics(capsys):
    """The login metrics counted from here on, as the invocation's EMF line would carry them."""
    observability.metrics().clear_metrics()

    def counted():
        capsys.readouterr()
        observability.flush_metrics()
        return {
            name: value for _, _, names in emitted_metrics(capsys.readouterr().out) for name, value in names.items()
        }

    return counted


def events(*actions):
    """(actor, action, organization, target, detail) of the audit events of these actions, oldest first."""
    found = sorted(AuditEventModel.scan(), key=lambda event: event.event_key)
    return [
        (event.actor_id, event.action, event.org_id, event.target, event.detail)
        for event in found
        if event.action in actions
    ]


def attempts():
    """The stored count of attempts of ada's address (None after a success)."""
    records = list(LoginAttemptModel.scan())
    return records[0] if records else None


def fail(email="ada@example.com", times=1, password=WRONG):
    """Failed logins; answer the errors raised."""
    raised = []
    for _ in range(times):
        with pytest.raises((InvalidCredentials, AccountLocked)) as error:
            log_in(email, password, source_ip=SOURCE)
        raised.append(error.value)
    return raised


def test_a_login_answers_a_session_and_the_user_and_is_audited_and_counted(ada, metrics):
    answer = log_in(" Ada@Example.COM ", STRONG_PASSWORD, source_ip=SOURCE)
    session = SessionModel.get(token_hash(answer["token"]))
    assert session.user_id == ada.user_id
    assert answer["expires_at"] == session.absolute_expires_at.isoformat()
    assert answer["idle_expires_at"] == session.idle_expires_at.isoformat()
    assert (answer["user"]["id"], answer["user"]["roles"], answer["must_change_password"]) == (
        ada.user_id,
        ["KEY_MANAGER"],
        False,
    )
    assert events("login") == [(ada.user_id, "login", "acme", ada.user_id, {"source_ip": SOURCE})]
    assert metrics() == {"LoginSucceeded": 1}


def test_a_temporary_password_is_announced_at_login(aws):
    make_user(email="tmp@example.com", must_change_password=True)
    assert log_in("tmp@example.com", STRONG_PASSWORD)["must_change_password"] is True


@pytest.mark.parametrize(
    "email, password",
    [("ada@example.com", WRONG), ("nobody@example.com", STRONG_PASSWORD)],
    ids=["wrong password", "unknown address"],
)
def test_a_failed_login_is_audited_counted_and_answers_alike(ada, metrics, email, password):
    [error] = fail(email, password=password)
    assert type(error) is InvalidCredentials
    known = email == "ada@example.com"
    assert events("login_failed") == [
        (
            ada.user_id if known else "anonymous",
            "login_failed",
            "acme" if known else SYSTEM_ORG,
            email,
            {"source_ip": SOURCE},
        )
    ]
    assert metrics() == {"LoginFailed": 1}
    assert attempts().failures == 1


def test_a_disabled_user_gets_no_session_even_with_the_right_password(ada):
    ada.update(actions=[ada.__class__.status.set("DISABLED")])
    fail(password=STRONG_PASSWORD)
    assert SessionModel.count() == 0 and events("login") == []


@pytest.mark.parametrize(
    "stored, given, accepted",
    [
        ("INV-2026-0042", " inv-2026-0042 ", True),
        ("INV-2026-0042", "INV-2026-0042", True),
        (" Inv-7 ", "INV-7", True),  # the API keeps a reference as it was typed
        ("INV-2026-0042", "INV-2026-0043", False),
        ("INV-2026-0042", None, False),
        ("INV-2026-0042", "", False),
        ("XXXX", None, False),
        ("None", None, False),
    ],
    ids=[
        "case and spaces aside",
        "exact",
        "stored with spaces",
        "another",
        "missing",
        "blank",
        "missing for a placeholder-like reference",
        "missing for the reference None",
    ],
)
def test_a_split_delivery_account_also_needs_its_organizations_reference(ada, stored, given, accepted):
    OrganizationModel("acme").update(actions=[OrganizationModel.reference.set(stored)])
    ada.update(actions=[ada.__class__.login_needs_reference.set(True)])
    if accepted:
        assert log_in("ada@example.com", STRONG_PASSWORD, org_reference=given)["user"]["id"] == ada.user_id
    else:
        with pytest.raises(InvalidCredentials):
            log_in("ada@example.com", STRONG_PASSWORD, org_reference=given)


def test_the_right_reference_does_not_make_up_for_a_wrong_password(ada):
    ada.update(actions=[ada.__class__.login_needs_reference.set(True)])
    with pytest.raises(InvalidCredentials):
        log_in("ada@example.com", WRONG, org_reference="INV-2026-0042")


@pytest.mark.parametrize("reference", [None, ""], ids=["no reference", "a blank reference"])
def test_an_organization_without_a_reference_lets_no_split_delivery_login_through(aws, reference):
    make_org("bare", reference=reference)
    make_user(email="bea@example.com", org_id="bare", login_needs_reference=True)
    for given in (None, "", " ", "None", "XXXX"):
        with pytest.raises(InvalidCredentials):
            log_in("bea@example.com", STRONG_PASSWORD, org_reference=given)


def test_a_split_delivery_account_of_a_vanished_organization_cannot_log_in(aws):
    make_user(email="gus@example.com", org_id="gone", login_needs_reference=True)
    with pytest.raises(InvalidCredentials):
        log_in("gus@example.com", STRONG_PASSWORD, org_reference="anything")


def test_the_tenth_failure_locks_the_address_for_fifteen_minutes_and_says_so(ada, metrics):
    before = datetime.now(timezone.utc)
    raised = fail(times=10)
    assert [type(error) for error in raised] == [InvalidCredentials] * 9 + [AccountLocked]
    assert raised[-1].retry_after == 15 * 60
    assert events("account_locked") == [(ada.user_id, "account_locked", "acme", "ada@example.com", {"minutes": 15})]
    assert metrics() == {"LoginFailed": 10}
    record = attempts()
    assert record.failures == 10
    assert before + timedelta(minutes=15) <= record.locked_until <= datetime.now(timezone.utc) + timedelta(minutes=15)
    # The count outlives its lock by a day, then the table's TTL removes it.
    assert timedelta(days=1, seconds=-1) < record.ttl - record.locked_until <= timedelta(days=1)


@pytest.mark.parametrize("known", [True, False], ids=["known address", "unknown address"])
def test_a_locked_address_is_refused_before_its_password_is_checked(ada, metrics, known):
    email = "ada@example.com" if known else "nobody@example.com"
    fail(email, times=10)
    metrics()
    [refused] = fail(email, password=STRONG_PASSWORD)
    assert type(refused) is AccountLocked and 15 * 60 - 5 <= refused.retry_after <= 15 * 60
    assert events("login_refused_locked") == [
        (
            ada.user_id if known else "anonymous",
            "login_refused_locked",
            "acme" if known else SYSTEM_ORG,
            email,
            {"source_ip": SOURCE},
        )
    ]
    assert metrics() == {"LoginFailed": 1}
    assert events("login") == [] and attempts().failures == 10


def set_lock_end(seconds_from_now):
    record = attempts()
    record.update(
        actions=[LoginAttemptModel.locked_until.set(datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now))]
    )


def test_a_refusal_names_the_seconds_left_of_the_lock(ada):
    fail(times=10)
    set_lock_end(100)
    [refused] = fail(password=STRONG_PASSWORD)
    assert 95 <= refused.retry_after <= 100


def test_after_the_lock_the_count_starts_again_from_one(ada):
    fail(times=10)
    set_lock_end(-1)
    raised = fail(times=10)
    assert [type(error) for error in raised] == [InvalidCredentials] * 9 + [AccountLocked]


def test_a_lock_whose_end_was_lost_ends_at_the_next_attempt(ada):
    fail(times=10)
    attempts().update(actions=[LoginAttemptModel.locked_until.remove()])  # as a crash of the former code left it
    assert log_in("ada@example.com", STRONG_PASSWORD)["user"]["id"] == ada.user_id


class Frozen(datetime):
    """The accounts service's clock, stopped at one instant."""

    at = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)

    @classmethod
    def now(cls, tz=None):
        return cls.at


def test_a_lock_ends_at_the_instant_it_names(ada, monkeypatch):
    fail(times=10)
    monkeypatch.setattr(chalicelib.clock, "now", Frozen.now)
    attempts().update(actions=[LoginAttemptModel.locked_until.set(Frozen.at)])
    assert log_in("ada@example.com", STRONG_PASSWORD)["user"]["id"] == ada.user_id


def test_the_first_failure_after_a_lock_starts_a_new_lock_period(ada):
    fail(times=10)
    set_lock_end(-1)
    before = datetime.now(timezone.utc)
    fail()
    record = attempts()
    assert record.failures == 1 and record.locked_until >= before + timedelta(minutes=15)
    assert timedelta(days=1, seconds=-1) < record.ttl - record.locked_until <= timedelta(days=1)


def races(monkeypatch, relocks):
    """Whenever a login re-reads a locked count: a reset lifts the lock just before, and (while `relocks` says
    so) ten other failures take it again just after, as concurrent requests could."""
    real, pending = accounts._get_attempts, list(relocks)

    def read(key):
        if not pending:
            return real(key)
        relock = pending.pop(0)
        LoginAttemptModel(key).delete()
        current = real(key)
        if relock:
            end = datetime.now(timezone.utc) + timedelta(minutes=15)
            LoginAttemptModel(key, failures=10, locked_until=end, ttl=end + timedelta(days=1)).save()
        return current

    monkeypatch.setattr(accounts, "_get_attempts", read)


def test_a_login_looks_again_when_a_lock_is_lifted_under_it(ada, monkeypatch):
    fail(times=10)
    races(monkeypatch, [True, False])
    assert log_in("ada@example.com", STRONG_PASSWORD)["user"]["id"] == ada.user_id


def test_a_login_gives_up_after_looking_three_times_and_refuses_for_a_whole_lock(ada, monkeypatch):
    fail(times=10)
    races(monkeypatch, [True, True, False])
    [refused] = fail(password=STRONG_PASSWORD)
    assert type(refused) is AccountLocked and refused.retry_after == 15 * 60
    assert events("login") == []


def test_a_locked_count_is_read_strongly_consistent(ada):
    # A lock taken a moment ago by another request must be seen: an eventually consistent read could miss it.
    fail(times=10)
    with record_aws_calls() as calls:
        fail(password=STRONG_PASSWORD)
    reads = [
        params
        for _, _, operation, params in calls
        if operation == "GetItem" and params["TableName"].endswith("login_attempts")
    ]
    assert reads and all(read.get("ConsistentRead") is True for read in reads)


def test_a_success_forgets_the_failures_of_the_address_however_it_is_written(ada):
    fail("ADA@example.com", times=9)
    log_in("ada@example.com ", STRONG_PASSWORD)
    assert attempts() is None
    assert [type(error) for error in fail(times=10)] == [InvalidCredentials] * 9 + [AccountLocked]


def test_clearing_the_failures_of_an_address_unlocks_it(ada):
    fail(times=10)
    clear_login_failures(" Ada@Example.com")
    assert log_in("ada@example.com", STRONG_PASSWORD)["user"]["id"] == ada.user_id


def test_addresses_are_counted_apart(ada):
    fail("nobody@example.com", times=10)
    assert log_in("ada@example.com", STRONG_PASSWORD)["user"]["id"] == ada.user_id


@pytest.fixture
def five_minute_locks(monkeypatch):
    """A stage whose locks last five minutes instead of the default fifteen."""
    import dataclasses

    settings = dataclasses.replace(accounts.get_settings(), lockout_minutes=5)
    monkeypatch.setattr(accounts, "get_settings", lambda: settings)


def test_a_lock_says_how_long_the_stage_locks_for(ada, five_minute_locks):
    # The error's own default wait is fifteen minutes, the default lock: a stage with shorter locks must say so.
    assert fail(times=10)[-1].retry_after == 5 * 60


def test_a_login_that_gives_up_looking_waits_for_the_stage_lock(ada, five_minute_locks, monkeypatch):
    fail(times=10)
    races(monkeypatch, [True, True, False])
    [refused] = fail(password=STRONG_PASSWORD)
    assert type(refused) is AccountLocked and refused.retry_after == 5 * 60
