"""The page an activation mail links to: the installation, the customer's data to confirm, and the outcome."""

from chalice import Blueprint

from chalicelib.api import installer_schemas
from chalicelib.console_paths import sign_in_path
from chalicelib.errors import ValidationFailed
from chalicelib.services.installers import activations
from chalicelib.web.catalogs import translations
from chalicelib.web.form_page import INVALID, Context, Form, FormPage, Link, add_routes, valid_until

bp = Blueprint(__name__)
FORM_FIELDS = ("name", "phone", "address")


def _context(activation: Link, form: Form) -> Context:
    words = translations(activation["language"])
    entered = {key: value for key, value in form.items() if key in FORM_FIELDS}
    return {
        "title": words.gettext("Activate your device %(serial)s") % {"serial": activation["serial"]},
        "activation": activation,
        "values": {**activation["customer"], **entered},
        "valid_until": valid_until(activation["expires_at"], activation["language"]),
    }


def _activate(token: str, activation: Link, form: Form) -> Context:
    fields = {key: form[key] for key in FORM_FIELDS if form.get(key, "").strip()}
    if activation["password_required"]:
        fields["password"] = form.get("password") or ""
    result = activations.activate_installation(token, fields)
    email = result["user"]["email"]
    return {"outcome": "activated", "email": email, "sign_in": sign_in_path(email, activation["language"])}


def _invalid(error: ValidationFailed, activation: Link) -> Context:
    words = translations(activation["language"])
    if any(detail.get("field") == "phone" for detail in error.details or []):
        return {"error": words.gettext("Give the phone number in international form, e.g. +4915123456789.")}
    return {"error": words.gettext(INVALID)}


PAGE = FormPage(
    template="activate.html",
    path="/activate/{token}",
    view=activations.view_activation,
    context=_context,
    act=_activate,
    refusals=((ValidationFailed, _invalid),),
    asks_password=lambda activation: activation["password_required"],
)
add_routes(
    bp,
    PAGE,
    names=("activation_page_view", "activation_form"),
    form=installer_schemas.ACTIVATION_FORM,
    summaries=("The page an activation mail links to", "The activation page's form"),
)
