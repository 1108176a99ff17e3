"""What the invitation page (the e-mailed link) shows: the invitation, a form, and the outcome of sending it."""
from datetime import datetime
from typing import Any, Dict, Optional

from chalicelib.errors import EmailTaken, ValidationFailed, WeakPassword
from chalicelib.page_texts import dead_link_page, role_names, rules, texts
from chalicelib.services.accounts.mailed_tokens import TokenInvalid
from chalicelib.services.tenants import invitations
from chalicelib.services.throttle import TooManyRequests


def show(token: str, accept_language: str = "") -> Dict[str, Any]:
    """The page for a link: the invitation and its form, or the dead-link message."""
    try:
        invitation = invitations.view_invitation(token)
    except TokenInvalid:
        return dead_link_page(accept_language)
    return _form(invitation, token)


def submit(token: str, form: Dict[str, str], accept_language: str = "") -> Dict[str, Any]:
    """Accept the invitation with the form's fields; the page shows success or what to correct."""
    try:
        invitation = invitations.view_invitation(token)
    except TokenInvalid:
        return dead_link_page(accept_language)
    page = _form(invitation, token, form)
    t = page["t"]
    if form.get("password") != form.get("password_repeat"):
        return {**page, "error": t["mismatch"]}
    try:
        user = invitations.accept_invitation(token, {"name": form.get("name"), "email": form.get("email"),
                                                      "password": form.get("password") or ""})
    except TokenInvalid:
        return dead_link_page(invitation["language"])
    except WeakPassword as error:
        problems = (error.details or {}).get("rules", [])
        return {**page, "error": t["weak"], "broken_rules": rules(problems, invitation["language"])}
    except EmailTaken:
        return {**page, "error": t["taken"]}
    except TooManyRequests:
        return {**page, "error": t["too_many"]}
    except ValidationFailed:
        return {**page, "error": t["invalid"]}
    return {**page, "outcome": "accepted", "email": user["email"]}


def _form(invitation: Dict[str, Any], token: str, form: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    language = invitation["language"]
    t = texts(language)
    return {"outcome": "form", "lang": language, "t": t, "title": t["title"].format(org=invitation["org_name"]),
            "invitation": invitation, "roles": role_names(invitation["roles"], language),
            "valid_until": datetime.fromisoformat(invitation["expires_at"]).strftime("%Y-%m-%d %H:%M"),
            "form": {key: value for key, value in (form or {}).items() if key in ("name", "email")},
            "action": f"/invite/{token}", "error": None, "broken_rules": []}

