"""Self-registration of installers and system managers in the console: the form of `POST /public/registrations`
(its schema, its one answer for every address, its throttles) and the page that says what happens next."""

import re
from typing import Dict

from chalice import Response

from chalicelib.api import installer_schemas
from chalicelib.api.http import validate
from chalicelib.errors import ValidationFailed
from chalicelib.services.installers import registrations
from chalicelib.services.throttle import TooManyRequests
from chalicelib.web.catalogs import N_
from chalicelib.web.console import LANGUAGE_COOKIE, Visit, field_errors, page
from chalicelib.web.sign_in_pages import LANGUAGE_NAMES

REGISTER = "/console/register"
SENT = "/console/register/sent"
FIELDS = ("kind", "name", "email", "phone", "company_name", "company_address", "language")
# People write phone numbers with spaces and dashes; the schema takes E.164 digits only.
PHONE_SEPARATORS = re.compile(r"[\s\-./()]")

MISSING = {
    "kind": N_("Choose what your company does."),
    "name": N_("Enter your name."),
    "email": N_("Enter your e-mail address."),
    "company_name": N_("Enter the name of your company."),
}
MALFORMED = {
    "kind": MISSING["kind"],
    "email": N_("Enter an e-mail address like name@example.com."),
    "phone": N_("Enter the phone number with + and the country code, like +49 151 23456789."),
}


@page(REGISTER, ("GET",), public=True)
def register_page(visit: Visit) -> Response:
    """The empty registration form, its language the page's."""
    if visit.query.get("lang"):
        visit.set_cookie(LANGUAGE_COOKIE, visit.language, max_age=365 * 24 * 3600)
    return _form(visit, {"language": visit.language}, {})


@page(REGISTER, ("POST",), public=True)
def register_form(visit: Visit) -> Response:
    """Check the form by the JSON route's schema and queue the registration; every address gets the same answer."""
    values = {name: visit.form.get(name, "").strip() for name in FIELDS}
    body = {name: value for name, value in values.items() if value}  # an empty optional field is no field
    if "phone" in body:
        body["phone"] = PHONE_SEPARATORS.sub("", body["phone"])
    try:
        validate(installer_schemas.REGISTRATION_CREATE, body)
        registrations.register(body, visit.source_ip)
    except ValidationFailed as error:
        return _form(visit, values, _errors(error, visit), status=422)
    except TooManyRequests as error:
        minutes = max(1, -(-(error.retry_after or 60) // 60))
        wait = visit.ngettext(
            "Too many registrations for this address or from this network. Try again in %(num)s minute.",
            "Too many registrations for this address or from this network. Try again in %(num)s minutes.",
            minutes,
        )
        return _form(visit, values, {"email": wait}, status=429)
    return visit.redirect(SENT)


@page(SENT, ("GET",), public=True)
def sent_page(visit: Visit) -> Response:
    """What happens after a registration: the receipt mail, the operator's review, the decision mail, sign-in."""
    return visit.show("register_sent.html", title=visit.gettext(N_("Your registration has been sent")))


def _errors(error: ValidationFailed, visit: Visit) -> Dict[str, str]:
    """The schema's refusals, each said for its field where a plainer message exists."""
    found = field_errors(error, visit.language)
    for problem in error.details or []:
        name = (problem.get("field") or "").split(".")[0]
        text = problem.get("problem", "")
        if text == "is required" and name in MISSING:
            found[name] = visit.gettext(MISSING[name])
        elif name in MALFORMED and not text.startswith("must be at most"):
            found[name] = visit.gettext(MALFORMED[name])
    return {name: found[name] for name in FIELDS if name in found}  # in the order of the form


def _form(visit: Visit, values: Dict[str, str], errors: Dict[str, str], status: int = 200) -> Response:
    return visit.show(
        "register.html",
        status=status,
        title=visit.gettext(N_("Register your company")),
        values=values,
        errors=errors,
        language_names=LANGUAGE_NAMES,
    )
