"""What the activation page (the e-mailed link) shows: the installation, the customer's data, the outcome."""
from datetime import datetime
from typing import Any, Dict, Optional

from chalicelib.errors import ValidationFailed, WeakPassword
from chalicelib.page_texts import dead_link_page, rules, texts
from chalicelib.services.accounts.mailed_tokens import TokenInvalid
from chalicelib.services.installers import activations

FORM_FIELDS = ("name", "phone", "address")


def show(token: str, accept_language: str = "") -> Dict[str, Any]:
    """The page for a link: the installation and the form, or the dead-link message."""
    try:
        activation = activations.view_activation(token)
    except TokenInvalid:
        return dead_link_page(accept_language)
    return _form(activation, token)


def submit(token: str, form: Dict[str, str], accept_language: str = "") -> Dict[str, Any]:
    """Activate with the form's data; the page shows success or what to correct."""
    try:
        activation = activations.view_activation(token)
    except TokenInvalid:
        return dead_link_page(accept_language)
    page = _form(activation, token, form)
    t = page["t"]
    if activation["password_required"] and form.get("password") != form.get("password_repeat"):
        return {**page, "error": t["mismatch"]}
    fields = {key: form[key] for key in FORM_FIELDS if form.get(key, "").strip()}
    if activation["password_required"]:
        fields["password"] = form.get("password") or ""
    try:
        result = activations.activate_installation(token, fields)
    except TokenInvalid:
        return dead_link_page(activation["language"])
    except WeakPassword as error:
        problems = (error.details or {}).get("rules", [])
        return {**page, "error": t["weak"], "broken_rules": rules(problems, activation["language"])}
    except ValidationFailed as error:
        phone = any(detail.get("field") == "phone" for detail in error.details or [])
        return {**page, "error": t["act_phone_invalid"] if phone else t["invalid"]}
    return {**page, "outcome": "activated", "email": result["user"]["email"]}


def _form(activation: Dict[str, Any], token: str, form: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    language = activation["language"]
    t = texts(language)
    entered = {key: value for key, value in (form or {}).items() if key in FORM_FIELDS}
    return {"outcome": "form", "lang": language, "t": t, "title": t["act_title"].format(serial=activation["serial"]),
            "activation": activation, "values": {**activation["customer"], **entered},
            "valid_until": datetime.fromisoformat(activation["expires_at"]).strftime("%Y-%m-%d %H:%M"),
            "action": f"/activate/{token}", "error": None, "broken_rules": []}

