"""The customer portal in the console (/console/portal, the link a portal access answers): a customer enters the
access code (and, for one installation, its token) and reads the devices and installations of that scope.

The portal session is not a person's session: it lives in its own cookie, read-only, and ends after 8 hours, with
a new code, or when the customer leaves."""

from typing import Any, Dict, Optional
from urllib.parse import urlencode

from chalice import Response

from chalicelib.api.http import validate
from chalicelib.api.installer_schemas import PORTAL_LOGIN
from chalicelib.console_paths import PORTAL
from chalicelib.errors import NotAuthenticated, ValidationFailed
from chalicelib.services.portal import sessions as portal
from chalicelib.services.throttle import TooManyRequests
from chalicelib.web.catalogs import N_
from chalicelib.web.console import Visit, page

PORTAL_COOKIE = "kp_portal"
SESSION_SECONDS = portal.SESSION_HOURS * 3600
WRONG = N_("This access code (and token) does not open the portal. Check it and try again.")
LOCKED = N_("Too many attempts. Try again in %(minutes)s minutes.")
ENDED = N_("Your portal session has ended. Enter the access code again.")
DEVICE_STATES = {
    "CLAIMED": N_("Registered"),
    "PENDING": N_("Awaiting activation"),
    "UNCLAIMED": N_("Not registered"),
}
INSTALLATION_STATES = {
    "PENDING": N_("Awaiting activation"),
    "ACTIVE": N_("Active"),
    "CANCELLED": N_("Cancelled"),
    "EXPIRED": N_("Expired"),
}


@page(PORTAL, ("GET",), public=True)
def portal_page(visit: Visit) -> Response:
    """The scope of the browser's portal session, or the form that opens one."""
    token = visit.cookie(PORTAL_COOKIE)
    if not token:
        return _form(visit, {}, {})
    try:
        shown = portal.portal_overview(
            token, visit.query.get("devices_after") or None, visit.query.get("installations_after") or None
        )
    except NotAuthenticated:  # ended (8 hours, a new code, revoked): say so, and forget the cookie
        visit.set_cookie(PORTAL_COOKIE, "", max_age=0)
        return _form(visit, {}, {}, notice=visit.gettext(ENDED))
    return visit.show("portal.html", title=shown["scope"]["name"], **_overview(visit, shown))


@page(PORTAL, ("POST",), public=True)
def portal_form(visit: Visit) -> Response:
    """Open a portal session with the code (and token): the API's login, its throttles included."""
    fields = {name: visit.form.get(name, "").strip() for name in ("code", "token")}
    if not fields["code"]:
        return _form(visit, fields, {"code": visit.gettext(N_("Enter the access code."))}, status=422)
    try:
        validate(PORTAL_LOGIN, {name: value for name, value in fields.items() if value})
        opened = portal.open_portal_session(fields, visit.source_ip)
    except ValidationFailed:
        return _form(visit, fields, {"code": visit.gettext(WRONG)}, status=422)
    except NotAuthenticated:  # one message for a wrong code, a wrong token, a revoked access
        return _form(visit, fields, {"code": visit.gettext(WRONG)}, status=401)
    except TooManyRequests as error:
        minutes = max(1, -(-(error.retry_after or 60) // 60))
        return _form(visit, fields, {"code": visit.gettext(LOCKED, minutes=minutes)}, status=429)
    visit.set_cookie(PORTAL_COOKIE, opened["token"], max_age=SESSION_SECONDS)
    return visit.redirect(PORTAL)


@page(PORTAL + "/leave", ("POST",), public=True)
def leave_form(visit: Visit) -> Response:
    """Leave the portal: the session ends at once and the cookie is forgotten."""
    portal.end_portal_session(visit.cookie(PORTAL_COOKIE))
    visit.set_cookie(PORTAL_COOKIE, "", max_age=0)
    return visit.redirect(PORTAL)


def _form(
    visit: Visit, fields: Dict[str, str], errors: Dict[str, str], status: int = 200, notice: str = ""
) -> Response:
    # The token is a secret: it is never written back into the page.
    return visit.show(
        "portal_login.html",
        status=status,
        title=visit.gettext(N_("Customer portal")),
        code=fields.get("code", ""),
        errors=errors,
        notice=notice,
    )


def _overview(visit: Visit, shown: Dict[str, Any]) -> Dict[str, Any]:
    devices, installations = shown["devices"], shown["installations"]
    return {
        "scope": shown["scope"],
        "devices": [
            {
                **device,
                "state": visit.gettext(DEVICE_STATES.get(device["claim_status"], device["claim_status"])),
                "since": visit.when(device["claimed_at"]) if device["claimed_at"] else "",
            }
            for device in devices["items"]
        ],
        "installations": [
            {
                **item,
                "state_name": visit.gettext(INSTALLATION_STATES.get(item["state"], item["state"])),
                "created": visit.when(item["created_at"]),
                "activated": visit.when(item["activated_at"]) if item["activated_at"] else "",
            }
            for item in installations["items"]
        ],
        "more_devices": _more(visit, "devices_after", devices["next_cursor"]),
        "more_installations": _more(visit, "installations_after", installations["next_cursor"]),
    }


def _more(visit: Visit, name: str, cursor: Optional[str]) -> str:
    """The link to the next page of one list, the other list's place kept."""
    if not cursor:
        return ""
    kept = {key: value for key, value in visit.query.items() if key in ("devices_after", "installations_after")}
    return f"{PORTAL}?{urlencode({**kept, name: cursor})}"
