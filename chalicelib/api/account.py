"""Routes of the own account: login, logout, profile, password."""
from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.api.http import endpoint
from chalicelib.services import accounts

bp = Blueprint(__name__)


@endpoint(bp, "/auth/login", "POST", summary="Log in with e-mail and password", public=True,
          body=schemas.LOGIN, response=schemas.SESSION, errors=(401, 429))
def login(call):
    return accounts.log_in(call.body["email"], call.body["password"], source_ip=call.source_ip)


@endpoint(bp, "/auth/logout", "POST", summary="End the current session", status=204, pending_password_ok=True)
def logout(call):
    accounts.log_out(call.principal)


@endpoint(bp, "/me", "GET", summary="The own user", response=schemas.USER, pending_password_ok=True)
def get_me(call):
    return accounts.get_me(call.principal)


@endpoint(bp, "/me", "PATCH", summary="Change the own profile", body=schemas.PROFILE_PATCH,
          response=schemas.USER, pending_password_ok=True)
def patch_me(call):
    return accounts.update_me(call.principal, call.body)


@endpoint(bp, "/me/password", "POST", summary="Change the own password", status=204,
          body=schemas.PASSWORD_CHANGE, pending_password_ok=True)
def change_password(call):
    accounts.change_password(call.principal, call.body["current_password"], call.body["new_password"])
