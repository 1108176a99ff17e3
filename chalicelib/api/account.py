"""Routes of the own account: login, logout, profile, password."""

from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.api.http import endpoint
from chalicelib.services.accounts import email_change, password_reset
from chalicelib.services.accounts import own_account as accounts

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/auth/login",
    "POST",
    summary="Log in with e-mail and password",
    public=True,
    body=schemas.LOGIN,
    response=schemas.SESSION,
    errors=(401, 429),
)
def login(call):
    return accounts.log_in(
        call.body["email"], call.body["password"], call.body.get("org_reference"), source_ip=call.source_ip
    )


@endpoint(bp, "/auth/logout", "POST", summary="End the current session", status=204, pending_password_ok=True)
def logout(call):
    accounts.log_out(call.principal)


@endpoint(bp, "/me", "GET", summary="The own user", response=schemas.USER, pending_password_ok=True)
def get_me(call):
    return accounts.get_me(call.principal)


@endpoint(
    bp,
    "/me",
    "PATCH",
    summary="Change the own profile",
    body=schemas.PROFILE_PATCH,
    response=schemas.USER,
    pending_password_ok=True,
)
def patch_me(call):
    return accounts.update_me(call.principal, call.body)


@endpoint(
    bp,
    "/me/password",
    "POST",
    summary="Change the own password",
    status=204,
    body=schemas.PASSWORD_CHANGE,
    pending_password_ok=True,
)
def change_password(call):
    accounts.change_password(call.principal, call.body["current_password"], call.body["new_password"])


@endpoint(
    bp,
    "/me/email",
    "POST",
    summary="Ask to change the own e-mail (a confirm_email mail goes to the new one)",
    status=202,
    body=schemas.EMAIL_CHANGE,
    errors=(502,),
)
def change_email(call):
    email_change.request_email_change(call.principal, call.body["new_email"])


@endpoint(
    bp,
    "/public/email-confirmations/{token}",
    "POST",
    summary="Confirm a new e-mail address",
    status=204,
    public=True,
    errors=(409, 410),
)
def confirm_email(call, token):
    email_change.confirm_email_change(token)


@endpoint(
    bp,
    "/public/password-resets",
    "POST",
    summary="Ask for a password reset mail (same answer for any e-mail)",
    status=202,
    public=True,
    body=schemas.RESET_REQUEST,
    errors=(429,),
)
def request_password_reset(call):
    password_reset.request_password_reset(call.body["email"])


@endpoint(
    bp,
    "/public/password-resets/{token}",
    "POST",
    summary="Set a new password with a reset token",
    status=204,
    public=True,
    body=schemas.NEW_PASSWORD,
    errors=(410,),
)
def reset_password(call, token):
    password_reset.reset_password(token, call.body["new_password"])
