"""What the pages of the account links show: password reset and e-mail confirmation (the e-mailed links)."""
from typing import Any, Dict

from chalicelib.errors import EmailTaken, WeakPassword
from chalicelib.page_texts import pick_language, rules, texts
from chalicelib.services.accounts import email_change, password_reset
from chalicelib.services.accounts.mailed_tokens import TokenInvalid


def _page(language: str, kind: str, outcome: str, token: str, **extra: Any) -> Dict[str, Any]:
    t = texts(language)
    return {"lang": language, "t": t, "kind": kind, "outcome": outcome, "title": t[f"{kind}_title"],
            "action": f"/{'reset-password' if kind == 'reset' else 'confirm-email'}/{token}", "error": None,
            "broken_rules": [], "message": None, **extra}


def _dead(kind: str, accept_language: str) -> Dict[str, Any]:
    language = pick_language(accept_language)
    return {**_page(language, kind, "dead", ""), "title": texts(language)["dead_title"]}


def show_reset(token: str, accept_language: str = "") -> Dict[str, Any]:
    """The reset page: a form for the new password, or the dead-link message."""
    try:
        return _page(password_reset.reset_link_language(token), "reset", "form", token)
    except TokenInvalid:
        return _dead("reset", accept_language)


def submit_reset(token: str, form: Dict[str, str], accept_language: str = "") -> Dict[str, Any]:
    """Set the new password from the form; the page says what happened."""
    page = show_reset(token, accept_language)
    if page["outcome"] == "dead":
        return page
    t, language = page["t"], page["lang"]
    if form.get("password") != form.get("password_repeat"):
        return {**page, "error": t["mismatch"]}
    try:
        password_reset.reset_password(token, form.get("password") or "")
    except TokenInvalid:
        return _dead("reset", accept_language)
    except WeakPassword as error:
        return {**page, "error": t["weak"], "broken_rules": rules((error.details or {}).get("rules", []), language)}
    return {**page, "outcome": "done", "message": t["reset_done"]}


def show_confirm(token: str, accept_language: str = "") -> Dict[str, Any]:
    """The confirmation page: a button (link scanners must not confirm by merely opening the link)."""
    try:
        pending = email_change.pending_email_change(token)
    except TokenInvalid:
        return _dead("confirm", accept_language)
    t = texts(pending["language"])
    return _page(pending["language"], "confirm", "form", token, message=t["confirm_intro"].format(
        email=pending["new_email"]), new_email=pending["new_email"])


def submit_confirm(token: str, accept_language: str = "") -> Dict[str, Any]:
    """Confirm the new address; the page says what happened."""
    page = show_confirm(token, accept_language)
    if page["outcome"] == "dead":
        return page
    try:
        email_change.confirm_email_change(token)
    except TokenInvalid:
        return _dead("confirm", accept_language)
    except EmailTaken:
        return {**page, "outcome": "done", "message": page["t"]["confirm_taken"]}
    return {**page, "outcome": "done", "message": page["t"]["confirm_done"].format(email=page["new_email"])}
