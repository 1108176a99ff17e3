"""The account of the person logged in: login with lockout, logout, profile, own password."""

import math
from datetime import timedelta
from typing import Any, Dict, List, Optional

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.config import Settings, get_settings
from chalicelib.errors import AccountLocked, InvalidCredentials, NotAuthenticated, WeakPassword, WrongPassword
from chalicelib.fields import normalize_email
from chalicelib.models import LoginAttemptModel, OrganizationModel, UserModel
from chalicelib.observability import count_metric
from chalicelib.permissions import Principal
from chalicelib.security import (
    check_password_policy,
    dummy_password_hash,
    hash_password,
    same_secret,
    token_hash,
    verify_password,
)
from chalicelib.services.accounts import sessions
from chalicelib.services.audit.record import record_event
from chalicelib.services.tenants.users import find_user_by_email, get_user, user_view

PROFILE_FIELDS = ("name", "phone", "language", "csv_delimiter", "csv_thousands_separator", "recipient_jwk")


def _attempts_key(email: str) -> str:
    return token_hash("login:" + normalize_email(email))


def clear_login_failures(email: str) -> None:
    """Forget failed logins and any lock of an e-mail (after a successful login or a new password)."""
    LoginAttemptModel(_attempts_key(email)).delete()


def log_in(
    email: str, password: str, org_reference: Optional[str] = None, source_ip: Optional[str] = None
) -> Dict[str, Any]:
    """Check e-mail and password (and, for split-delivery accounts, the organization's reference); answer a
    new session. Unknown e-mail, wrong password and wrong reference get the same answer."""
    settings = get_settings()
    email = normalize_email(email)
    attempts_key = _attempts_key(email)
    user = find_user_by_email(email)
    org_id = user.org_id if user else None
    actor = user.user_id if user else "anonymous"
    # The attempt is counted before the password is checked: concurrent guesses cannot outrun the lock.
    try:
        failures = _reserve_attempt(attempts_key, settings)
    except AccountLocked:
        record_event(actor, "login_refused_locked", org_id, target=email, detail={"source_ip": source_ip})
        count_metric("LoginFailed")
        raise
    # Verify against a dummy hash for unknown addresses, so timing tells nothing about the account.
    password_ok = verify_password(user.password_hash if user else dummy_password_hash(), password)
    if password_ok and user is not None and user.login_needs_reference:
        password_ok = _reference_matches(user.org_id, org_reference)
    if not password_ok or user is None or user.status != "ACTIVE":
        record_event(actor, "login_failed", org_id, target=email, detail={"source_ip": source_ip})
        count_metric("LoginFailed")
        if failures >= settings.lockout_threshold:
            record_event(actor, "account_locked", org_id, target=email, detail={"minutes": settings.lockout_minutes})
            raise AccountLocked(retry_after=settings.lockout_minutes * 60)
        raise InvalidCredentials()
    clear_login_failures(email)
    token, session = sessions.open_session(user)
    record_event(user.user_id, "login", user.org_id, target=user.user_id, detail={"source_ip": source_ip})
    count_metric("LoginSucceeded")
    return {
        **sessions.session_view(token, session),
        "user": user_view(user),
        "must_change_password": user.must_change_password,
    }


def _reference_matches(org_id: str, given: Optional[str]) -> bool:
    try:
        expected = OrganizationModel.get(org_id).reference or ""
    except DoesNotExist:
        return False
    return bool(expected) and same_secret((given or "").strip().casefold(), expected.strip().casefold())


def _reserve_attempt(key: str, settings: Settings) -> int:
    """Count one login attempt atomically, before its password is checked; answer the attempts counted so far.

    The counter only rises while it is below the threshold, so at most `threshold` passwords are ever checked
    per lock period, however many requests race. Every attempt moves locked_until to the end the lock would
    have if this attempt were the last one admitted: the lock is held by the count and ends at that time (a
    crash between counting and checking cannot leave a lock without an end). A success deletes the record.
    """
    lock_end = clock.now() + timedelta(minutes=settings.lockout_minutes)
    threshold = settings.lockout_threshold
    counted: List[Action] = [
        LoginAttemptModel.failures.add(1),
        LoginAttemptModel.locked_until.set(lock_end),
        LoginAttemptModel.ttl.set(lock_end + timedelta(days=1)),
    ]
    for _ in range(3):  # a lock ending or cleared under us: look again (bounded)
        record = LoginAttemptModel(key)
        try:
            record.update(
                actions=counted,
                condition=LoginAttemptModel.failures.does_not_exist() | (LoginAttemptModel.failures < threshold),
            )
            return int(record.failures)
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        now = clock.now()
        try:  # the lock has ended: this attempt starts a new count (one racer wins, the others look again)
            record.update(
                actions=[LoginAttemptModel.failures.set(1), *counted[1:]],
                condition=(LoginAttemptModel.failures >= threshold)
                & (LoginAttemptModel.locked_until.does_not_exist() | (LoginAttemptModel.locked_until <= now)),
            )
            return int(record.failures)
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        current = _get_attempts(key)
        if current is not None and current.failures >= threshold and (current.locked_until or now) > now:
            raise AccountLocked(retry_after=math.ceil((current.locked_until - now).total_seconds()))
    raise AccountLocked(retry_after=settings.lockout_minutes * 60)


def _get_attempts(key: str) -> Optional[LoginAttemptModel]:
    try:
        return LoginAttemptModel.get(key, consistent_read=True)
    except DoesNotExist:
        return None


def log_out(principal: Principal) -> None:
    """End the session the principal acts through."""
    sessions.end_session(principal.session_hash)
    record_event(principal.user_id, "logout", principal.org_id, target=principal.user_id)


def get_me(principal: Principal) -> Dict[str, Any]:
    """The principal's own user."""
    return user_view(_own_user(principal))


def update_me(principal: Principal, changes: Dict[str, Any]) -> Dict[str, Any]:
    """Change the principal's own profile fields (name, language, CSV preferences, jwe recipient key)."""
    user = _own_user(principal)
    if changes.get("recipient_jwk") is not None:
        from chalicelib.services.keys.files import recipient_key

        changes = {**changes, "recipient_jwk": recipient_key(changes["recipient_jwk"])}
    actions = [
        getattr(UserModel, name).set(value) if value is not None else getattr(UserModel, name).remove()
        for name, value in changes.items()
        if name in PROFILE_FIELDS
    ]
    if changes.get("name"):  # the user list filters on it
        actions.append(UserModel.name_lower.set(changes["name"].lower()))
    if actions:
        user.update(actions=actions, condition=UserModel.user_id.exists())
        record_event(
            principal.user_id,
            "profile_changed",
            principal.org_id,
            target=principal.user_id,
            detail={"fields": sorted(name for name in changes if name in PROFILE_FIELDS)},
        )
    return user_view(user)


def change_password(principal: Principal, current_password: str, new_password: str) -> None:
    """Replace the own password after checking the current one; ends the user's other sessions."""
    user = _own_user(principal)
    if not verify_password(user.password_hash, current_password):
        record_event(principal.user_id, "password_change_failed", principal.org_id, target=principal.user_id)
        raise WrongPassword()
    check_password_policy(new_password)
    if verify_password(user.password_hash, new_password):
        raise WeakPassword(
            "The new password must differ from the current one.",
            details={"rules": ["different from the current password"]},
        )
    user.update(
        actions=[
            UserModel.password_hash.set(hash_password(new_password)),
            UserModel.must_change_password.set(False),
            UserModel.login_needs_reference.set(False),
            UserModel.password_changed_at.set(clock.now()),
        ]
    )
    ended = sessions.end_sessions_of_user(user.user_id, keep=principal.session_hash)
    record_event(
        principal.user_id,
        "password_changed",
        principal.org_id,
        target=principal.user_id,
        detail={"other_sessions_ended": ended},
    )


def _own_user(principal: Principal) -> UserModel:
    user = get_user(principal.user_id)
    if user is None:  # deleted between authentication and now
        raise NotAuthenticated()
    return user
