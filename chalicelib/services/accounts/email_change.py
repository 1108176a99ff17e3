"""Changing the own e-mail address: confirmed from the new address before it takes effect."""

from datetime import timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import models
from chalicelib.errors import EmailTaken, NotAuthenticated, ValidationFailed, WrongPassword
from chalicelib.fields import normalize_email
from chalicelib.mail import public_link, send_mail
from chalicelib.models import UserEmailModel, UserModel
from chalicelib.permissions import Principal
from chalicelib.security import verify_password
from chalicelib.services.accounts.mailed_tokens import TokenInvalid, issue_token, live_token, spend_in
from chalicelib.services.audit.record import record_event
from chalicelib.services.tenants.users import failed_conditions, find_user_by_email, get_user

PURPOSE = "confirm_email"
LIFETIME = timedelta(hours=24)


def request_email_change(principal: Principal, new_email: str) -> None:
    """Send a confirm_email mail to the new address; the account keeps its address until confirmed.

    An address that already has an account gets no mail and the same answer (no account lookup by proxy).
    """
    user = get_user(principal.user_id)
    if user is None:  # deleted between authentication and now
        raise NotAuthenticated()
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise ValidationFailed(
            "new_email: that is your current address.",
            details=[{"field": "new_email", "problem": "is the current address"}],
        )
    if find_user_by_email(new_email) is not None:
        record_event(principal.user_id, "email_change_refused_taken", principal.org_id, target=principal.user_id)
        return
    token = issue_token(PURPOSE, user.user_id, LIFETIME, new_email=new_email)
    send_mail(
        PURPOSE,
        new_email,
        user.language,
        user.org_id,
        {
            "recipient_name": user.name,
            "new_email": new_email,
            "link": public_link(f"/confirm-email/{token}"),
            "valid_hours": int(LIFETIME.total_seconds() // 3600),
        },
    )
    record_event(principal.user_id, "email_change_requested", principal.org_id, target=principal.user_id)


def request_email_change_with_password(principal: Principal, current_password: str, new_email: str) -> None:
    """As request_email_change, once the current password is given (the console asks for it: a session left open on
    a shared computer must not be enough to move the account to another address); WrongPassword otherwise."""
    user = get_user(principal.user_id)
    if user is None:
        raise NotAuthenticated()
    if not verify_password(user.password_hash, current_password):
        record_event(principal.user_id, "email_change_refused_password", principal.org_id, target=principal.user_id)
        raise WrongPassword()
    request_email_change(principal, new_email)


def confirm_email_change(token: str) -> None:
    """Switch the account to the confirmed address: token, both e-mail claims and the user in one transaction."""
    item = live_token(PURPOSE, token)
    user = get_user(item.user_id)
    if user is None or user.status != "ACTIVE":
        raise TokenInvalid()
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.delete(UserEmailModel(user.email), condition=UserEmailModel.user_id == user.user_id)
            transaction.save(
                UserEmailModel(item.new_email, user_id=user.user_id), condition=UserEmailModel.email.does_not_exist()
            )
            spend_in(transaction, item)
            transaction.update(
                user, actions=[UserModel.email.set(item.new_email)], condition=UserModel.email == user.email
            )
    except TransactWriteError as error:
        if 1 in failed_conditions(error):  # the new address's claim (order: deletes, then puts, then updates)
            raise EmailTaken() from None
        raise TokenInvalid() from None
    record_event(user.user_id, "email_changed", user.org_id, target=user.user_id)


def pending_email_change(token: str) -> dict:
    """The address a live confirmation link would switch to, and its user's language (TokenInvalid if dead)."""
    item = live_token(PURPOSE, token)
    user = get_user(item.user_id)
    if user is None:
        raise TokenInvalid()
    return {"new_email": item.new_email, "language": user.language}
