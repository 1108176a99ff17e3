"""The account routes: login, lockout, logout, profile, own password, sessions."""

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.models import AuditEventModel, SessionModel
from chalicelib.security import token_hash
from tests.helpers import STRONG_PASSWORD, make_device, make_user

NEW_PASSWORD = "Another-Str0ng-Passphrase"


def audit_actions():
    return [event.action for event in AuditEventModel.scan()]


def test_login_with_the_right_password_answers_a_token_and_the_user(api):
    make_user(email="ada@example.com", roles=("ORG_ADMIN",))
    response = api.call("POST", "/auth/login", {"email": "Ada@Example.com ", "password": STRONG_PASSWORD})
    assert response.status_code == 200
    assert len(response.data["token"]) >= 43  # 256 bits, URL-safe base64
    assert response.data["user"]["email"] == "ada@example.com"
    assert response.data["user"]["roles"] == ["ORG_ADMIN"]
    assert "password_hash" not in response.data["user"]
    assert response.data["must_change_password"] is False
    assert "login" in audit_actions()


def test_only_the_sha256_of_a_session_token_is_stored(api):
    make_user(email="ada@example.com")
    token = api.login("ada@example.com")
    stored = [session.token_hash for session in SessionModel.scan()]
    assert stored == [token_hash(token)]
    assert token not in stored


def test_wrong_password_and_unknown_email_answer_the_same_401(api):
    make_user(email="ada@example.com")
    wrong = api.call("POST", "/auth/login", {"email": "ada@example.com", "password": "Wrong-Passw0rd!"})
    unknown = api.call("POST", "/auth/login", {"email": "nobody@example.com", "password": "Wrong-Passw0rd!"})
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.data
        == unknown.data
        == {"error": {"code": "invalid_credentials", "message": "E-mail or password is wrong."}}
    )
    assert audit_actions().count("login_failed") == 2


@pytest.mark.parametrize(
    "email, status, code",
    [
        ("\t", 422, "validation_failed"),  # no text field holds a tab or a control character (alike for everyone)
        (" ", 401, "invalid_credentials"),
        ("\u00a0", 401, "invalid_credentials"),
    ],
)
def test_a_blank_email_answers_401_like_any_unknown_one(api, email, status, code):
    # Found by schemathesis: "\t" normalized to "" reached DynamoDB as an empty key (500).
    response = api.call("POST", "/auth/login", {"email": email, "password": "Wrong-Passw0rd!"})
    assert response.status_code == status and response.data["error"]["code"] == code


@pytest.mark.parametrize("known", [True, False], ids=["known e-mail", "unknown e-mail"])
def test_ten_failed_logins_lock_the_account_even_for_the_right_password(api, known):
    if known:
        make_user(email="ada@example.com")
    statuses = [
        api.call("POST", "/auth/login", {"email": "ada@example.com", "password": "Wrong-Passw0rd!"}).status_code
        for _ in range(10)
    ]
    assert statuses == [401] * 9 + [429]
    right = api.call("POST", "/auth/login", {"email": "ada@example.com", "password": STRONG_PASSWORD})
    assert right.status_code == 429
    assert right.data["error"]["code"] == "account_locked"


def lock_out(api, email="ada@example.com"):
    """Ten wrong passwords for the address (the lockout threshold); answer the responses."""
    return [api.call("POST", "/auth/login", {"email": email, "password": "Wrong-Passw0rd!"}) for _ in range(10)]


def set_lock_end(seconds_from_now):
    """Move every stored lock's end (a test cannot wait 15 minutes)."""
    from chalicelib.models import LoginAttemptModel

    for record in LoginAttemptModel.scan():
        record.update(
            actions=[
                LoginAttemptModel.locked_until.set(datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now))
            ]
        )


def test_the_lock_ends_after_its_time(api):
    make_user(email="ada@example.com")
    lock_out(api)
    set_lock_end(-1)
    assert api.call("POST", "/auth/login", {"email": "ada@example.com", "password": STRONG_PASSWORD}).status_code == 200


def test_a_locked_login_answers_429_with_the_seconds_until_the_lock_ends(api):
    make_user(email="ada@example.com")
    statuses = lock_out(api)
    assert int(statuses[-1].headers["Retry-After"]) == 15 * 60
    set_lock_end(100)  # the lock has 100 s left
    locked = api.call("POST", "/auth/login", {"email": "ada@example.com", "password": STRONG_PASSWORD})
    assert locked.status_code == 429 and locked.data["error"]["code"] == "account_locked"
    assert 90 <= int(locked.headers["Retry-After"]) <= 100


def test_after_a_lock_ends_the_count_starts_again(api):
    make_user(email="ada@example.com")
    lock_out(api)
    set_lock_end(-1)
    statuses = [
        api.call("POST", "/auth/login", {"email": "ada@example.com", "password": "Wrong-Passw0rd!"}).status_code
        for _ in range(10)
    ]
    assert statuses == [401] * 9 + [429]


def test_a_count_at_the_threshold_without_a_lock_end_does_not_lock_forever(api):
    from chalicelib.models import LoginAttemptModel
    from chalicelib.services.accounts.own_account import _attempts_key

    make_user(email="ada@example.com")
    LoginAttemptModel(
        _attempts_key("ada@example.com"),
        failures=10,  # as a crash of the former code left it
        ttl=datetime.now(timezone.utc) + timedelta(days=1),
    ).save()
    assert api.call("POST", "/auth/login", {"email": "ada@example.com", "password": STRONG_PASSWORD}).status_code == 200


def test_a_successful_login_restarts_the_count_of_failures(api):
    make_user(email="ada@example.com")
    for _ in range(9):
        api.call("POST", "/auth/login", {"email": "ada@example.com", "password": "Wrong-Passw0rd!"})
    api.login("ada@example.com")
    for _ in range(9):
        assert (
            api.call("POST", "/auth/login", {"email": "ada@example.com", "password": "Wrong-Passw0rd!"}).status_code
            == 401
        )
    api.login("ada@example.com")


def test_a_disabled_user_cannot_log_in(api):
    user = make_user(email="ada@example.com")
    user.update(actions=[user.__class__.status.set("DISABLED")])
    assert api.call("POST", "/auth/login", {"email": "ada@example.com", "password": STRONG_PASSWORD}).status_code == 401


def test_logout_ends_the_session(api, login_as):
    token = login_as("VIEWER")
    assert api.call("GET", "/me", token=token).status_code == 200
    assert api.call("POST", "/auth/logout", token=token).status_code == 204
    after = api.call("GET", "/me", token=token)
    assert after.status_code == 401
    assert after.data["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwdw==", "Bearer " + "x" * 5000])
def test_me_without_a_valid_token_answers_401(api, header):
    response = api.call("GET", "/me", headers={"Authorization": header} if header else None)
    assert response.status_code == 401
    assert response.data["error"]["code"] == "not_authenticated"


def test_me_answers_the_own_user(api, login_as):
    token = login_as("KEY_MANAGER", email="kim@example.com")
    response = api.call("GET", "/me", token=token)
    assert response.status_code == 200
    assert response.data["email"] == "kim@example.com"
    assert response.data["csv_delimiter"] == ";"
    assert "password_hash" not in response.data


def test_patch_me_changes_the_profile(api, login_as):
    token = login_as("VIEWER")
    changes = {"name": "Kim Meter", "language": "de", "csv_delimiter": ",", "csv_thousands_separator": "."}
    response = api.call("PATCH", "/me", changes, token=token)
    assert response.status_code == 200
    assert {key: response.data[key] for key in changes} == changes
    assert {key: api.call("GET", "/me", token=token).data[key] for key in changes} == changes
    assert "profile_changed" in audit_actions()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"language": "xx"}, "language"),
        ({"csv_delimiter": "x"}, "csv_delimiter"),
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"roles": ["OPERATOR"]}, "roles"),
        ({"email": "new@example.com"}, "email"),
    ],
)
def test_patch_me_refuses_bad_or_foreign_fields_with_422(api, login_as, body, field):
    token = login_as("VIEWER")
    response = api.call("PATCH", "/me", body, token=token)
    assert response.status_code == 422
    assert response.data["error"]["code"] == "validation_failed"
    assert [problem["field"] for problem in response.data["error"]["details"]] == [field]
    assert api.call("GET", "/me", token=token).data["roles"] == ["VIEWER"]


def test_password_change_needs_the_current_password(api, login_as):
    token = login_as("VIEWER")
    response = api.call(
        "POST", "/me/password", {"current_password": "Not-The-Passw0rd", "new_password": NEW_PASSWORD}, token=token
    )
    assert response.status_code == 422
    assert response.data["error"]["code"] == "wrong_password"


@pytest.mark.parametrize(
    "weak, rule",
    [
        ("Short-1a", "at least 12 characters"),
        ("alllowercase-123", "an upper-case letter"),
        ("ALLUPPERCASE-123", "a lower-case letter"),
        ("No-Digits-Anywhere", "a digit"),
        ("NoSpecials12345", "a special character"),
        ("Password1234!", "not a common password"),
        (STRONG_PASSWORD, "different from the current password"),
    ],
)
def test_a_weak_new_password_is_refused_naming_the_rule(api, login_as, weak, rule):
    token = login_as("VIEWER")
    response = api.call(
        "POST", "/me/password", {"current_password": STRONG_PASSWORD, "new_password": weak}, token=token
    )
    assert response.status_code == 422
    assert response.data["error"]["code"] == "weak_password"
    assert rule in response.data["error"]["details"]["rules"]


def test_password_change_keeps_this_session_and_ends_the_others(api, login_as):
    token = login_as("VIEWER", email="ada@example.com")
    other = api.login("ada@example.com")
    response = api.call(
        "POST", "/me/password", {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}, token=token
    )
    assert response.status_code == 204
    assert api.call("GET", "/me", token=token).status_code == 200
    assert api.call("GET", "/me", token=other).status_code == 401
    assert api.call("POST", "/auth/login", {"email": "ada@example.com", "password": STRONG_PASSWORD}).status_code == 401
    api.login("ada@example.com", NEW_PASSWORD)
    assert "password_changed" in audit_actions()


def test_a_temporary_password_must_be_changed_before_anything_else(api, login_as):
    make_device("SN-TMP-1", owner_org_id="root")
    token = login_as("ORG_ADMIN", email="tmp@example.com", must_change_password=True)
    me = api.call("GET", "/me", token=token)
    assert me.status_code == 200 and me.data["must_change_password"] is True
    # A read, a list, a write and a key download: every kind of route is closed until the password changes.
    gated = [
        ("GET", "/orgs/root", None),
        ("GET", "/users", None),
        ("POST", "/orgs", {"name": "Blocked Org"}),
        ("GET", "/devices/SN-TMP-1/keys", None),
    ]
    for method, path, body in gated:
        response = api.call(method, path, body, token=token)
        assert (response.status_code, (response.data or {}).get("error", {}).get("code")) == (
            403,
            "password_change_required",
        ), (method, path, response.body)
    changed = api.call(
        "POST", "/me/password", {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}, token=token
    )
    assert changed.status_code == 204
    assert api.call("GET", "/me", token=token).data["must_change_password"] is False
    for method, path, body in gated:
        response = api.call(method, path, body, token=token)
        assert response.status_code != 403, (method, path, response.body)


@pytest.mark.parametrize("field", ["idle_expires_at", "absolute_expires_at"])
def test_an_expired_session_answers_401_while_its_item_still_exists(api, login_as, field):
    token = login_as("VIEWER")
    session = SessionModel.get(token_hash(token))
    session.update(actions=[getattr(SessionModel, field).set(datetime.now(timezone.utc) - timedelta(seconds=1))])
    response = api.call("GET", "/me", token=token)
    assert response.status_code == 401
    assert "expired" in response.data["error"]["message"]


def test_use_of_a_session_slides_its_idle_expiry(api, login_as):
    token = login_as("VIEWER")
    session = SessionModel.get(token_hash(token))
    long_ago = datetime.now(timezone.utc) - timedelta(minutes=20)
    session.update(
        actions=[
            SessionModel.last_seen_at.set(long_ago),
            SessionModel.idle_expires_at.set(long_ago + timedelta(minutes=30)),
        ]
    )
    assert api.call("GET", "/me", token=token).status_code == 200
    renewed = SessionModel.get(token_hash(token)).idle_expires_at
    assert renewed > datetime.now(timezone.utc) + timedelta(minutes=29)


def test_a_session_of_a_disabled_user_stops_working(api, login_as):
    from chalicelib.services.tenants.users import find_user_by_email

    token = login_as("VIEWER", email="ada@example.com")
    user = find_user_by_email("ada@example.com")
    user.update(actions=[user.__class__.status.set("DISABLED")])
    assert api.call("GET", "/me", token=token).status_code == 401


def login_events(org_id):
    """(actor is the user, action, target, detail) of the login audit events of an organization, oldest first."""
    return [
        (event.actor_id, event.action, event.target, event.detail)
        for event in AuditEventModel.query(org_id)
        if event.action.startswith(("login", "account_locked"))
    ]


def test_logins_failures_and_the_lock_are_audited_in_the_users_organization(api):
    user = make_user(email="ada@example.com")
    api.login("ada@example.com")
    lock_out(api)
    api.call("POST", "/auth/login", {"email": "ada@example.com", "password": STRONG_PASSWORD})
    events = login_events(user.org_id)
    source = events[0][3]
    assert set(source) == {"source_ip"}  # the caller's address as API Gateway saw it
    assert events == (
        [(user.user_id, "login", user.user_id, source)]
        + [(user.user_id, "login_failed", "ada@example.com", source)] * 10
        + [
            (user.user_id, "account_locked", "ada@example.com", {"minutes": 15}),
            (user.user_id, "login_refused_locked", "ada@example.com", source),
        ]
    )


def test_failures_for_an_unknown_address_are_audited_as_anonymous_and_in_no_organization(api):
    from chalicelib.services.audit.record import SYSTEM_ORG as NO_ORG

    api.call("POST", "/auth/login", {"email": "nobody@example.com", "password": "Wrong-Passw0rd!"})
    failed = [event for event in AuditEventModel.scan() if event.action == "login_failed"]
    assert [(event.actor_id, event.target, event.org_id) for event in failed] == [
        ("anonymous", "nobody@example.com", NO_ORG)
    ]
