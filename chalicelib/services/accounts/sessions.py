"""Login sessions: opaque tokens, only their SHA-256 stored, idle and absolute expiry."""

from datetime import datetime, timedelta
from typing import Dict, Optional, Tuple

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.errors import NotAuthenticated, PasswordChangeRequired
from chalicelib.models import SessionModel, UserModel
from chalicelib.permissions import Principal
from chalicelib.security import new_token, token_hash
from chalicelib.services.tenants.users import get_user

# Writing last_seen on every request would double the writes; a minute of slack is harmless.
_TOUCH_AFTER = timedelta(seconds=60)


def open_session(user: UserModel) -> Tuple[str, SessionModel]:
    """Start a session for the user; answer the token (shown once) and the stored session."""
    settings = get_settings()
    now = clock.now()
    token = new_token()
    absolute = now + timedelta(hours=settings.session_absolute_hours)
    idle = min(now + timedelta(minutes=settings.session_idle_minutes), absolute)
    session = SessionModel(
        token_hash(token),
        user_id=user.user_id,
        created_at=now,
        last_seen_at=now,
        absolute_expires_at=absolute,
        idle_expires_at=idle,
        ttl=absolute,
    )
    session.save(condition=SessionModel.token_hash.does_not_exist())
    return token, session


def session_view(token: str, session: SessionModel) -> Dict[str, str]:
    """What a client needs to know of its new session."""
    return {
        "token": token,
        "expires_at": session.absolute_expires_at.isoformat(),
        "idle_expires_at": session.idle_expires_at.isoformat(),
    }


def authenticate(token: Optional[str], *, allow_pending_password_change: bool = False) -> Principal:
    """The principal behind a bearer token; NotAuthenticated when missing, unknown, expired or disabled."""
    session, user = live_session(token)
    principal = principal_of(user, session.token_hash)
    if principal.must_change_password and not allow_pending_password_change:
        raise PasswordChangeRequired()
    return principal


def live_session(token: Optional[str]) -> Tuple[SessionModel, UserModel]:
    """The live session of a token and its active user (the idle expiry moved on); NotAuthenticated otherwise."""
    if not token or len(token) > 200:
        raise NotAuthenticated()
    hashed = token_hash(token)
    try:
        session = SessionModel.get(hashed, consistent_read=True)
    except DoesNotExist:
        raise NotAuthenticated("The session is unknown or has ended; log in again.") from None
    now = clock.now()
    # TTL deletion runs late (up to days): expiry is decided here, not by the item's presence.
    if now >= session.idle_expires_at or now >= session.absolute_expires_at:
        session.delete()
        raise NotAuthenticated("The session has expired; log in again.")
    user = get_user(session.user_id)
    if user is None or user.status != "ACTIVE":
        session.delete()
        raise NotAuthenticated("The session has ended; log in again.")
    if now - session.last_seen_at >= _TOUCH_AFTER:
        _touch(session, now)
    return session, user


def principal_of(user: UserModel, session_hash: str = "") -> Principal:
    """The principal a user acts as now (roles, permissions and sites as stored)."""
    return Principal(
        user_id=user.user_id,
        org_id=user.org_id,
        roles=frozenset(user.roles),
        permissions=frozenset(user.permissions),
        site_ids=frozenset(user.site_ids),
        session_hash=session_hash,
        must_change_password=user.must_change_password,
    )


def _touch(session: SessionModel, now: datetime) -> None:
    settings = get_settings()
    idle = min(now + timedelta(minutes=settings.session_idle_minutes), session.absolute_expires_at)
    try:
        session.update(
            actions=[SessionModel.last_seen_at.set(now), SessionModel.idle_expires_at.set(idle)],
            condition=SessionModel.token_hash.exists(),
        )
    except UpdateError:  # ended (logout, password change) while this request was in flight
        raise NotAuthenticated("The session has ended; log in again.") from None


def set_acting_org(session_hash: str, org_id: Optional[str]) -> None:
    """Remember the organization a console session acts for (None: the user's own)."""
    action = SessionModel.acting_org_id.set(org_id) if org_id else SessionModel.acting_org_id.remove()
    try:
        SessionModel(session_hash).update(actions=[action], condition=SessionModel.token_hash.exists())
    except UpdateError:  # ended meanwhile
        raise NotAuthenticated("The session has ended; log in again.") from None


def end_session(session_hash: str) -> None:
    """End one session (logout)."""
    SessionModel(session_hash).delete()


def end_sessions_of_user(user_id: str, keep: Optional[str] = None) -> int:
    """End every session of a user but `keep` (a session hash); answer how many ended."""
    ended = 0
    with SessionModel.batch_write() as batch:
        for session in SessionModel.user_index.query(user_id):
            if session.token_hash != keep:
                batch.delete(session)
                ended += 1
    return ended
