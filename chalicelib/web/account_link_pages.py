"""The pages the account mails link to: choose a new password, confirm a new e-mail address."""

from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.console_paths import sign_in_path
from chalicelib.errors import EmailTaken
from chalicelib.services.accounts import email_change, password_reset
from chalicelib.web.catalogs import N_, translations
from chalicelib.web.form_page import Context, Form, FormPage, Link, add_routes

bp = Blueprint(__name__)


def _reset_context(link: Link, form: Form) -> Context:
    return {"kind": "reset", "title": translations(link["language"]).gettext("Choose a new password"), "message": None}


def _reset(token: str, link: Link, form: Form) -> Context:
    email = password_reset.reset_password(token, form.get("password") or "")
    return {
        "outcome": "done",
        "sign_in": sign_in_path(email, link["language"], "password_reset"),
        "message": translations(link["language"]).gettext(
            "Your password has been changed. All your sessions have ended: log in with the new password."
        ),
    }


def _confirm_context(pending: Link, form: Form) -> Context:
    words = translations(pending["language"])
    return {
        "kind": "confirm",
        "title": words.gettext("Confirm your new e-mail address"),
        "message": words.gettext("Confirm %(email)s as the new address of your keyport account.")
        % {"email": pending["new_email"]},
        "new_email": pending["new_email"],
    }


def _confirm(token: str, pending: Link, form: Form) -> Context:
    email_change.confirm_email_change(token)
    return {
        "outcome": "done",
        "sign_in": sign_in_path(pending["new_email"], pending["language"]),
        "message": translations(pending["language"]).gettext("Done: your account now uses %(email)s.")
        % {"email": pending["new_email"]},
    }


def _taken(error: EmailTaken, pending: Link) -> Context:
    # The account keeps its old address, which this link does not know: sign-in with the field empty.
    return {
        "outcome": "done",
        "sign_in": sign_in_path(language=pending["language"]),
        "message": translations(pending["language"]).gettext(TAKEN),
    }


TAKEN = N_("This address belongs to another account by now; your address was not changed.")
RESET = FormPage(
    template="account_link.html",
    path="/reset-password/{token}",
    view=lambda token: {"language": password_reset.reset_link_language(token)},
    context=_reset_context,
    act=_reset,
    late_dead_in_link_language=False,
)
# A button, not the opening of the link, confirms: link scanners must not confirm by merely opening it.
CONFIRM = FormPage(
    template="account_link.html",
    path="/confirm-email/{token}",
    view=email_change.pending_email_change,
    context=_confirm_context,
    act=_confirm,
    refusals=((EmailTaken, _taken),),
    asks_password=lambda pending: False,
    late_dead_in_link_language=False,
)
add_routes(
    bp,
    RESET,
    names=("reset_page", "reset_form"),
    form=schemas.PASSWORD_FORM,
    summaries=("The page a password_reset mail links to", "The reset page's form"),
)
add_routes(
    bp,
    CONFIRM,
    names=("confirm_page", "confirm_form"),
    form=schemas.CONFIRM_FORM,
    summaries=("The page a confirm_email mail links to", "The confirmation page's button"),
)
