"""The own password in the console: changing it (also the forced change of a first sign-in with a temporary
password) and asking for a reset link when it is forgotten (the mailed /reset-password/{token} page finishes it)."""

from typing import Dict, List

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.http import validate
from chalicelib.errors import ValidationFailed, WeakPassword, WrongPassword
from chalicelib.services.accounts import own_account, password_reset
from chalicelib.services.throttle import TooManyRequests
from chalicelib.web.catalogs import N_, password_rules
from chalicelib.web.console import HOME, PASSWORD_CHANGE, Visit, field_errors, page

FORGOT = "/console/forgot"
PROFILE = "/console/profile"

MISMATCH = N_("The two passwords differ.")
WEAK = N_("This password is too weak. It needs:")
WRONG_CURRENT = N_("The current password is wrong.")
# The service's own rule beyond the policy's (chalicelib.security names the others; catalogs.PASSWORD_RULES).
N_("different from the current password")
TOO_MANY = N_("Too many attempts. Try again in %(minutes)s minutes.")


@page(PASSWORD_CHANGE, ("GET",), pending_password_ok=True)
def password_page(visit: Visit) -> Response:
    """The password form; while a temporary password is pending it says that this change comes first."""
    return _password_form(visit, {}, [])


@page(PASSWORD_CHANGE, ("POST",), pending_password_ok=True)
def password_form(visit: Visit) -> Response:
    """Change the own password (this session stays, the others end); after a forced change go on to the start."""
    current, new = visit.form.get("current_password", ""), visit.form.get("new_password", "")
    errors: Dict[str, str] = {}
    if not current:
        errors["current_password"] = visit.gettext(N_("Enter your current password."))
    if not new:
        errors["new_password"] = visit.gettext(N_("Enter a new password."))
    elif new != visit.form.get("password_repeat", ""):
        errors["password_repeat"] = visit.gettext(MISMATCH)
    if errors:
        return _password_form(visit, errors, [], status=422)
    forced = visit.principal.must_change_password
    try:
        validate(schemas.PASSWORD_CHANGE, {"current_password": current, "new_password": new})
        own_account.change_password(visit.principal, current, new)
    except ValidationFailed as error:
        return _password_form(visit, field_errors(error, visit.language), [], status=422)
    except WrongPassword:
        return _password_form(visit, {"current_password": visit.gettext(WRONG_CURRENT)}, [], status=422)
    except WeakPassword as error:
        rules = password_rules((error.details or {}).get("rules", []), visit.language)
        return _password_form(visit, {"new_password": visit.gettext(WEAK)}, rules, status=422)
    return visit.redirect(HOME + "?done=password" if forced else PROFILE + "?done=password")


@page(FORGOT, ("GET",), public=True)
def forgot_page(visit: Visit) -> Response:
    """Ask for a reset link by address; after sending, the one confirmation whatever the address."""
    if visit.query.get("sent"):
        minutes = int(password_reset.LIFETIME.total_seconds() // 60)
        return visit.show(
            "forgot_sent.html",
            title=visit.gettext(N_("Check your e-mail")),
            message=visit.gettext(
                N_(
                    "If an account exists for this address, a link to choose a new password is on its way. "
                    "The link works for %(minutes)s minutes."
                ),
                minutes=minutes,
            ),
        )
    return _forgot_form(visit, visit.query.get("email", ""), {})


@page(FORGOT, ("POST",), public=True)
def forgot_form(visit: Visit) -> Response:
    """Queue the reset mail as POST /public/password-resets does (same throttle); the same answer for any address."""
    email = visit.form.get("email", "").strip()
    if not email:
        return _forgot_form(visit, email, {"email": visit.gettext(N_("Enter your e-mail address."))}, status=422)
    try:
        validate(schemas.RESET_REQUEST, {"email": email})
        password_reset.request_password_reset(email)
    except ValidationFailed as error:
        return _forgot_form(visit, email, field_errors(error, visit.language), status=422)
    except TooManyRequests as error:
        minutes = max(1, -(-(error.retry_after or 60) // 60))
        return _forgot_form(visit, email, {"email": visit.gettext(TOO_MANY, minutes=minutes)}, status=429)
    return visit.redirect(FORGOT + "?sent=1")


def _password_form(visit: Visit, errors: Dict[str, str], broken_rules: List[str], status: int = 200) -> Response:
    forced = visit.principal.must_change_password
    return visit.show(
        "password.html",
        status=status,
        title=visit.gettext(N_("Choose your own password") if forced else N_("Change your password")),
        forced=forced,
        errors=errors,
        broken_rules=broken_rules,
        # The summary at the top names the broken rules too: "It needs:" must not end there.
        summary={
            name: f"{message} {', '.join(broken_rules)}" if name == "new_password" and broken_rules else message
            for name, message in errors.items()
        },
    )


def _forgot_form(visit: Visit, email: str, errors: Dict[str, str], status: int = 200) -> Response:
    return visit.show(
        "forgot.html",
        status=status,
        title=visit.gettext(N_("Forgot your password?")),
        email=email,
        errors=errors,
    )
