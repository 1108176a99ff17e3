"""Password reset by e-mail: the same answer for every address, a one-hour single-use link."""

import logging
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.job_queue import enqueue_job
from chalicelib.mail import MailNotSent, public_link, send_mail
from chalicelib.models import UserModel
from chalicelib.security import check_password_policy, hash_password
from chalicelib.services.accounts import sessions
from chalicelib.services.accounts.mailed_tokens import TokenInvalid, issue_token, live_token, spend_in
from chalicelib.services.accounts.own_account import clear_login_failures
from chalicelib.services.audit.record import record_event
from chalicelib.services.tenants.users import find_user_by_email, get_user
from chalicelib.services.throttle import hit

PURPOSE = "password_reset"
LIFETIME = timedelta(hours=1)
REQUESTS_PER_HOUR = 5
log = logging.getLogger("keyport.password_reset")


def request_password_reset(email: str) -> None:
    """Queue a reset mail for the address; the caller says only "accepted", whether or not an account has it.

    Five requests an hour per address, counted for unknown addresses too, so being rate limited tells nothing. The
    lookup, token and mail happen in the worker (mail_password_reset): known and unknown addresses cost this request the
    same two writes, so its time tells nothing either.
    """
    hit("password_reset", email, limit=REQUESTS_PER_HOUR, window_seconds=3600)
    enqueue_job(PURPOSE, {"email": email})


def mail_password_reset(email: str) -> None:
    """The worker's part: mail a reset link to a known, active user; nothing for other addresses."""
    user = find_user_by_email(email)
    if user is None or user.status != "ACTIVE":
        return
    token = issue_token(PURPOSE, user.user_id, LIFETIME)
    try:
        send_mail(
            PURPOSE,
            user.email,
            user.language,
            user.org_id,
            {
                "recipient_name": user.name,
                "link": public_link(f"/reset-password/{token}"),
                "valid_minutes": int(LIFETIME.total_seconds() // 60),
            },
        )
    except MailNotSent:
        # Nobody waits for it: the failure is logged and audited; the person may ask again.
        record_event(user.user_id, "password_reset_mail_failed", user.org_id, target=user.user_id)
        return
    record_event(user.user_id, "password_reset_requested", user.org_id, target=user.user_id)


def reset_password(token: str, new_password: str) -> str:
    """Set a new password with a reset token: spent in the same transaction; every session of the user ends.
    Answers the account's address (the page after it leads to sign-in with it filled in)."""
    item = live_token(PURPOSE, token)
    check_password_policy(new_password)
    user = get_user(item.user_id)
    if user is None or user.status != "ACTIVE":
        raise TokenInvalid()
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            spend_in(transaction, item)
            transaction.update(
                user,
                actions=[
                    UserModel.password_hash.set(hash_password(new_password)),
                    UserModel.must_change_password.set(False),
                    UserModel.login_needs_reference.set(False),
                    UserModel.password_changed_at.set(clock.now()),
                ],
                condition=UserModel.user_id.exists(),
            )
    except TransactWriteError:
        raise TokenInvalid() from None
    sessions.end_sessions_of_user(user.user_id)
    clear_login_failures(user.email)
    record_event(user.user_id, "password_reset", user.org_id, target=user.user_id)
    return user.email


def reset_link_language(token: str) -> str:
    """The language of the user a live reset link belongs to (TokenInvalid for a dead link)."""
    user = get_user(live_token(PURPOSE, token).user_id)
    if user is None:
        raise TokenInvalid()
    return user.language
