"""The operator's review of self-registrations: the list by state, one registration, and its decision once
(approve below a chosen parent organization, or reject with a reason), each after a question page and through the
services of the JSON routes (POST /registrations/{id}/approve and /reject)."""

from typing import Any, Dict, Optional
from urllib.parse import urlencode

from chalice import Response

from chalicelib.api import installer_schemas
from chalicelib.api.http import validate
from chalicelib.errors import ValidationFailed
from chalicelib.permissions import OPERATOR
from chalicelib.services.installers import registrations
from chalicelib.services.installers.registrations import RegistrationDecided
from chalicelib.services.tenants.orgs import OrgNotFound
from chalicelib.web.catalogs import N_
from chalicelib.web.console import Visit, field_errors, page
from chalicelib.web.sign_in_pages import LANGUAGE_NAMES

LIST = "/console/registrations"
ONE = LIST + "/{registration_id}"
OPERATORS = frozenset({OPERATOR})
PAGE_SIZE = 50
TABS = (
    ("PENDING", N_("Awaiting review")),
    ("APPROVED", N_("Approved")),
    ("REJECTED", N_("Rejected")),
    ("all", N_("All")),
)
STATES = {state: label for state, label in TABS if state != "all"}
KINDS = {"installer": N_("Installer"), "system_manager": N_("System manager")}
NOTICES = {
    "approved": N_(
        "You approved the registration: the company's organization and first account exist, and the "
        "applicant has been sent the sign-in details."
    ),
    "rejected": N_("You rejected the registration: the applicant has been sent your reason."),
}
DECIDED = N_("This registration was approved or rejected already. Nothing was changed and no e-mail was sent.")


@page(LIST, ("GET",), roles=OPERATORS, area=N_("Registrations"))
def registrations_page(visit: Visit) -> Response:
    """One state's registrations (awaiting review unless another tab is chosen), a page at a time."""
    state = visit.query.get("state", "PENDING")
    state = state if state in STATES or state == "all" else "PENDING"
    listed = registrations.list_registrations(
        visit.principal,
        state=None if state == "all" else state,
        limit=PAGE_SIZE,
        cursor=visit.query.get("cursor") or None,
    )
    items = [_shown(visit, item) for item in listed["items"]]
    next_cursor = listed["next_cursor"]
    return visit.show(
        "registrations.html",
        title=visit.gettext(N_("Registrations")),
        tabs=[{"state": each, "label": visit.gettext(label), "current": each == state} for each, label in TABS],
        state=state,
        registrations=items,
        showing=visit.ngettext("Showing %(num)s registration", "Showing %(num)s registrations", len(items)),
        next_path=f"{LIST}?{urlencode({'state': state, 'cursor': next_cursor})}" if next_cursor else "",
        first_path=f"{LIST}?{urlencode({'state': state})}",
        paged=bool(visit.query.get("cursor")),
    )


@page(ONE, ("GET",), roles=OPERATORS)
def registration_page(visit: Visit, registration_id: str) -> Response:
    """Everything the applicant sent, the state, and Approve / Reject while it awaits review."""
    registration = registrations.read_registration(visit.principal, registration_id)
    notice = NOTICES.get(visit.query.get("done", ""))
    return visit.show(
        "registration.html",
        **_one(visit, registration),
        notice=visit.gettext(notice) if notice else "",
    )


@page(ONE + "/approve", ("GET",), roles=OPERATORS)
def approve_page(visit: Visit, registration_id: str) -> Response:
    """The question before an approval: below which organization, and what follows."""
    return _approve_form(visit, registration_id, visit.query.get("parent_id", ""), {})


@page(ONE + "/approve", ("POST",), roles=OPERATORS)
def approve_form(visit: Visit, registration_id: str) -> Response:
    """Approve: the company's organization below the chosen parent, its first account, the mail (once only)."""
    parent_id = visit.form.get("parent_id", "").strip()
    if not parent_id:
        return _approve_form(visit, registration_id, parent_id, {"parent_id": N_("Choose the parent organization.")})
    try:
        validate(installer_schemas.APPROVAL, {"parent_id": parent_id})
        registrations.approve_registration(visit.principal, registration_id, {"parent_id": parent_id})
    except (ValidationFailed, OrgNotFound):
        return _approve_form(
            visit, registration_id, parent_id, {"parent_id": N_("Choose an organization from the list.")}
        )
    except RegistrationDecided:
        return _decided(visit, registration_id)
    return visit.redirect(_path(registration_id) + "?done=approved")


@page(ONE + "/reject", ("GET",), roles=OPERATORS)
def reject_page(visit: Visit, registration_id: str) -> Response:
    """The question before a rejection: the reason the applicant will read, and what follows."""
    registration = registrations.read_registration(visit.principal, registration_id)
    if registration["state"] != "PENDING":
        return visit.redirect(_path(registration_id))  # decided meanwhile: its page says how
    return visit.show("registration_reject.html", **_one(visit, registration), values={}, errors={})


@page(ONE + "/reject", ("POST",), roles=OPERATORS)
def reject_form(visit: Visit, registration_id: str) -> Response:
    """Reject with the reason (mailed to the applicant, once only)."""
    reason = visit.form.get("reason", "").strip()
    try:
        validate(installer_schemas.REJECTION, {"reason": reason})
        registrations.reject_registration(visit.principal, registration_id, reason)
    except ValidationFailed as error:
        errors = field_errors(error, visit.language)
        if not reason:
            errors["reason"] = visit.gettext(N_("Enter the reason. The applicant reads it in the e-mail."))
        registration = registrations.read_registration(visit.principal, registration_id)
        return visit.show(
            "registration_reject.html",
            status=422,
            **_one(visit, registration),
            values={"reason": reason},
            errors={"reason": errors.get("reason", "")},
        )
    except RegistrationDecided:
        return _decided(visit, registration_id)
    return visit.redirect(_path(registration_id) + "?done=rejected")


def _approve_form(visit: Visit, registration_id: str, parent_id: str, errors: Dict[str, str]) -> Response:
    find = visit.query.get("find", "").strip()[:100]
    choices = registrations.approval_choices(visit.principal, registration_id, find or None)
    registration = choices["registration"]
    if registration["state"] != "PENDING":
        return visit.redirect(_path(registration_id))  # decided meanwhile: its page says how
    return visit.show(
        "registration_approve.html",
        status=422 if errors else 200,
        **_one(visit, registration),
        parents=choices["parents"],
        more=choices["more"],
        find=find,
        chosen=parent_id,
        errors={name: visit.gettext(message) for name, message in errors.items()},
    )


def _decided(visit: Visit, registration_id: str) -> Response:
    """A second decision: the 409 page that says so (the service changed nothing and mailed nobody)."""
    return visit.show(
        "error.html",
        status=409,
        title=visit.gettext(N_("This registration has been decided already")),
        message=visit.gettext(DECIDED),
    )


def _path(registration_id: str) -> str:
    return ONE.format(registration_id=registration_id)


def _one(visit: Visit, registration: Dict[str, Any]) -> Dict[str, Any]:
    shown = _shown(visit, registration)
    return {
        "title": visit.gettext(N_("Registration of %(company)s"), company=registration["company_name"]),
        "registration": shown,
        "path": _path(registration["id"]),
    }


def _shown(visit: Visit, registration: Dict[str, Any]) -> Dict[str, Any]:
    languages = dict(LANGUAGE_NAMES)
    decided: Optional[str] = registration.get("decided_at")
    return {
        **registration,
        "path": _path(registration["id"]),
        "state_label": visit.gettext(STATES.get(registration["state"], registration["state"])),
        "kind_label": visit.gettext(KINDS.get(registration["kind"], registration["kind"])),
        "language_name": languages.get(registration["language"], registration["language"]),
        "received": visit.when(registration["created_at"]),
        "decided": visit.when(decided) if decided else "",
    }
