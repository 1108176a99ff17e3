"""Signing in and out of the console: the sign-in page (with the organization reference of a first sign-in by split
delivery, and the language links) and sign-out."""

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.http import validate
from chalicelib.errors import AccountLocked, InvalidCredentials, ValidationFailed
from chalicelib.services.accounts import console_visits
from chalicelib.services.throttle import TooManyRequests
from chalicelib.web.catalogs import N_
from chalicelib.web.console import (
    HOME,
    LANGUAGE_COOKIE,
    LOGIN,
    PASSWORD_CHANGE,
    SESSION_COOKIE,
    Visit,
    field_errors,
    page,
    safe_next,
)

# Each language names itself, so a reader finds theirs whatever the page's language.
LANGUAGE_NAMES = (
    ("de", "Deutsch"),
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("it", "Italiano"),
    ("nl", "Nederlands"),
    ("sv", "Svenska"),
)
WRONG = N_("The e-mail address or the password is wrong (or the organization reference, at a first sign-in).")
LOCKED = N_("Too many attempts. Try again in %(minutes)s minutes.")
NOTICES = {
    "signed_out": N_("You have signed out."),
    "expired": N_("Your session has ended. Please sign in again."),
    "password_reset": N_("Your new password is set. Sign in with it."),
    "accepted": N_("Your account is ready. Sign in with your new password."),
}


@page(LOGIN, ("GET",), public=True)
def login_page(visit: Visit) -> Response:
    """The sign-in form; a signed-in person goes on at once."""
    if visit.visitor is not None and not visit.principal.must_change_password:
        return visit.redirect(safe_next(visit.query.get("next")))
    if visit.query.get("lang"):
        visit.set_cookie(LANGUAGE_COOKIE, visit.language, max_age=365 * 24 * 3600)
    notice = NOTICES.get(visit.query.get("done", ""))
    return _form(visit, visit.query.get("email", ""), "", {}, notice=visit.gettext(notice) if notice else "")


@page(LOGIN, ("POST",), public=True)
def login_form(visit: Visit) -> Response:
    """Check the address and password (the API's lockout and throttles); open a session and its cookie."""
    form = {name: visit.form.get(name, "").strip() for name in ("email", "password", "org_reference")}
    form["password"] = visit.form.get("password", "")  # a password is taken as typed
    email, reference = form["email"], form["org_reference"]
    errors = {}
    if not email:
        errors["email"] = visit.gettext(N_("Enter your e-mail address."))
    if not form["password"]:
        errors["password"] = visit.gettext(N_("Enter your password."))
    if errors:
        return _form(visit, email, reference, errors, status=422)
    try:
        validate(schemas.LOGIN, {name: value for name, value in form.items() if value})
        signed_in = console_visits.sign_in(
            email, form["password"], reference, visit.source_ip, replacing=visit.principal if visit.visitor else None
        )
    except ValidationFailed as error:
        return _form(visit, email, reference, field_errors(error, visit.language), status=422)
    except InvalidCredentials:
        return _form(visit, email, reference, {"email": visit.gettext(WRONG)}, status=401)
    except (AccountLocked, TooManyRequests) as error:
        minutes = max(1, -(-(error.retry_after or 60) // 60))
        return _form(visit, email, reference, {"email": visit.gettext(LOCKED, minutes=minutes)}, status=429)
    visit.set_cookie(SESSION_COOKIE, signed_in["token"])
    if signed_in["must_change_password"]:
        return visit.redirect(PASSWORD_CHANGE)
    return visit.redirect(safe_next(visit.query.get("next")))


@page("/console/logout", ("POST",), pending_password_ok=True)
def logout_form(visit: Visit) -> Response:
    """End the session at once and forget the cookie."""
    console_visits.sign_out(visit.principal)
    visit.set_cookie(SESSION_COOKIE, "", max_age=0)
    return visit.redirect(LOGIN + "?done=signed_out")


def _form(visit: Visit, email: str, reference: str, errors: dict, status: int = 200, notice: str = "") -> Response:
    next_path = safe_next(visit.query.get("next"))
    return visit.show(
        "login.html",
        status=status,
        title=visit.gettext(N_("Sign in")),
        email=email,
        org_reference=reference,
        errors=errors,
        notice=notice,
        next_path=next_path if next_path != HOME else "",
        language_names=LANGUAGE_NAMES,
    )
