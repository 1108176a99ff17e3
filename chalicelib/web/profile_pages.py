"""The own profile in the console: name, phone, language and the CSV preferences (saved as PATCH /me saves them),
the change of e-mail address (confirmed from the new address, as POST /me/email), and the recipient key of encrypted
key files (pasted or uploaded as a JWK, shown by its RFC 7638 thumbprint, removed after a confirmation)."""

import json
from typing import Any, Dict, Optional

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.http import validate
from chalicelib.errors import ValidationFailed, WrongPassword
from chalicelib.services.accounts import email_change, own_account
from chalicelib.services.keys.files import RecipientKeyInvalid, recipient_key_thumbprint
from chalicelib.web.catalogs import N_
from chalicelib.web.console import MAX_FIELD, PASSWORD_CHANGE, Visit, field_errors, page
from chalicelib.web.sign_in_pages import LANGUAGE_NAMES

PROFILE = "/console/profile"
EMAIL = PROFILE + "/email"
KEY = PROFILE + "/key"
KEY_REMOVE = KEY + "/remove"

# The choices of the select lists: a word for the form (a tab or a space would not survive a form's trimming),
# the character stored, its name and how three cells of a CSV line (or a number) look with it.
DELIMITERS = (
    ("semicolon", ";", N_("Semicolon"), "A;B;C"),
    ("comma", ",", N_("Comma"), "A,B,C"),
    ("tab", "\t", N_("Tab"), "A → B → C"),
    ("bar", "|", N_("Vertical bar"), "A|B|C"),
)
SEPARATORS = (
    ("none", "", N_("None"), "1234567"),
    ("dot", ".", N_("Full stop"), "1.234.567"),
    ("comma", ",", N_("Comma"), "1,234,567"),
    ("space", " ", N_("Space"), "1 234 567"),
    ("apostrophe", "'", N_("Apostrophe"), "1'234'567"),
)
NOTICES = {
    "saved": N_("Your profile has been saved."),
    "password": N_("Your password has been changed."),
    "email": N_(
        "We have sent a confirmation link to the new address. Your address changes when you open it; until then "
        "you sign in with the current one."
    ),
    "key": N_("Your key has been saved."),
    "key_removed": N_("Your key has been removed."),
}
CHECK_PHONE = N_("Give the phone number in international form, e.g. +4915123456789.")
CHECK_EMAIL = N_("Enter an e-mail address in the form name@example.com.")
CURRENT_EMAIL = N_("That is your current address.")
NOT_JSON = N_('This is not a JWK: a key in JSON, such as {"kty": "EC", "crv": "P-256", "x": "…", "y": "…"}.')
UNUSABLE_KEY = N_(
    "keyport cannot use this key. It must be a public key for encryption, without its private part: RSA with at "
    "least 3,072 bits, or EC on P-256 or P-384."
)


@page(PROFILE, ("GET",), area=N_("Profile"))
def profile_page(visit: Visit) -> Response:
    """The own profile, its forms filled with what is saved."""
    notice = NOTICES.get(visit.query.get("done", ""))
    return _profile(visit, notice=visit.gettext(notice) if notice else "")


@page(PROFILE, ("POST",))
def profile_form(visit: Visit) -> Response:
    """Save name, phone, language and CSV preferences through the same schema and service call as PATCH /me."""
    form = {name: visit.form.get(name, "").strip() for name in ("name", "phone", "language")}
    delimiter, separator = visit.form.get("csv_delimiter", ""), visit.form.get("csv_thousands_separator", "")
    changes: Dict[str, Any] = {
        "name": form["name"],
        "phone": form["phone"] or None,
        "language": form["language"],
        "csv_delimiter": _stored(DELIMITERS, delimiter),
        "csv_thousands_separator": _stored(SEPARATORS, separator),
    }
    kept = {**form, "csv_delimiter": delimiter, "csv_thousands_separator": separator}
    try:
        validate(schemas.PROFILE_PATCH, changes)
        own_account.update_me(visit.principal, changes)
    except ValidationFailed as error:
        errors = field_errors(error, visit.language)
        if "phone" in errors:
            errors["phone"] = visit.gettext(CHECK_PHONE)
        return _profile(visit, details=kept, errors=errors, status=422)
    return visit.redirect(PROFILE + "?done=saved")


@page(EMAIL, ("POST",))
def email_form(visit: Visit) -> Response:
    """Ask to change the own address, the current password given: the confirmation mail goes to the new address."""
    new_email = visit.form.get("new_email", "").strip()
    password = visit.form.get("current_password", "")
    errors: Dict[str, str] = {}
    if not new_email:
        errors["new_email"] = visit.gettext(N_("Enter the new e-mail address."))
    if not password:
        errors["current_password"] = visit.gettext(N_("Enter your current password."))
    if not errors:
        try:
            validate(schemas.EMAIL_CHANGE, {"new_email": new_email})
            email_change.request_email_change_with_password(visit.principal, password, new_email)
            return visit.redirect(PROFILE + "?done=email")
        except ValidationFailed as error:
            current = any(problem.get("problem") == "is the current address" for problem in error.details or [])
            errors = {"new_email": visit.gettext(CURRENT_EMAIL if current else CHECK_EMAIL)}
        except WrongPassword:
            errors = {"current_password": visit.gettext(N_("The current password is wrong."))}
    return _profile(visit, new_email=new_email, errors=errors, status=422)


@page(KEY, ("POST",))
def key_form(visit: Visit) -> Response:
    """Save the recipient key of encrypted key files, pasted or uploaded (the upload wins when both are given)."""
    pasted = visit.form.get("recipient_jwk", "").strip()
    uploaded = visit.files.get("recipient_jwk_file") or b""
    text, error = pasted, ""
    if uploaded:
        try:
            text = uploaded.decode("utf-8-sig").strip() if len(uploaded) <= MAX_FIELD else ""
        except UnicodeDecodeError:
            text = ""
        error = "" if text else visit.gettext(NOT_JSON)
    elif not pasted:
        error = visit.gettext(N_("Paste the key or choose its file."))
    if not error:
        try:
            jwk = json.loads(text)
            validate(schemas.PROFILE_PATCH, {"recipient_jwk": jwk})
            own_account.update_me(visit.principal, {"recipient_jwk": jwk})
            return visit.redirect(PROFILE + "?done=key")
        except (ValueError, RecursionError):  # not JSON (RecursionError: nested past the parser's stack)
            error = visit.gettext(NOT_JSON)
        except (ValidationFailed, RecipientKeyInvalid):
            error = visit.gettext(UNUSABLE_KEY)
    field = "recipient_jwk_file" if uploaded else "recipient_jwk"
    return _profile(visit, pasted_key=pasted, errors={field: error}, status=422)


@page(KEY_REMOVE, ("GET",))
def key_remove_page(visit: Visit) -> Response:
    """Ask before the key goes, and say what follows."""
    me = own_account.get_me(visit.principal)
    if not me.get("recipient_jwk"):
        return visit.redirect(PROFILE)
    return visit.show(
        "key_remove.html",
        title=visit.gettext(N_("Remove your key?")),
        thumbprint=recipient_key_thumbprint(me["recipient_jwk"]),
    )


@page(KEY_REMOVE, ("POST",))
def key_remove_form(visit: Visit) -> Response:
    """Remove the recipient key (as PATCH /me with recipient_jwk null)."""
    own_account.update_me(visit.principal, {"recipient_jwk": None})
    return visit.redirect(PROFILE + "?done=key_removed")


def _profile(
    visit: Visit,
    details: Optional[Dict[str, str]] = None,
    new_email: str = "",
    pasted_key: str = "",
    errors: Optional[Dict[str, str]] = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    me = own_account.get_me(visit.principal)
    shown = details or {
        "name": me["name"],
        "phone": me.get("phone") or "",
        "language": me["language"],
        "csv_delimiter": _word(DELIMITERS, me["csv_delimiter"]),
        "csv_thousands_separator": _word(SEPARATORS, me["csv_thousands_separator"]),
    }
    key = me.get("recipient_jwk")
    return visit.show(
        "profile.html",
        status=status,
        title=visit.gettext(N_("Your profile")),
        notice=notice,
        errors=errors or {},
        details=shown,
        email=me["email"],
        new_email=new_email,
        pasted_key=pasted_key,
        key={"thumbprint": recipient_key_thumbprint(key), "kind": _key_kind(key)} if key else None,
        language_names=LANGUAGE_NAMES,
        delimiters=[(word, f"{visit.gettext(name)} — {example}") for word, _, name, example in DELIMITERS],
        separators=[(word, f"{visit.gettext(name)} — {example}") for word, _, name, example in SEPARATORS],
        password_path=PASSWORD_CHANGE,
    )


def _stored(choices, word: str) -> Optional[str]:
    """The character a form's word stands for (None for a word of no choice: the schema refuses it)."""
    return next((stored for known, stored, _, _ in choices if known == word), None)


def _word(choices, stored: str) -> str:
    return next((word for word, known, _, _ in choices if known == stored), "")


def _key_kind(jwk: Dict[str, Any]) -> str:
    return f"EC {jwk.get('crv', '')}" if jwk.get("kty") == "EC" else "RSA"
