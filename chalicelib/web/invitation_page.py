"""The page an invitation mail links to: the invitation, a form to create the account, and the outcome."""

from typing import Callable

from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.console_paths import sign_in_path
from chalicelib.errors import EmailTaken, ValidationFailed
from chalicelib.services.tenants import invitations
from chalicelib.services.throttle import TooManyRequests
from chalicelib.web.catalogs import N_, role_names, translations
from chalicelib.web.form_page import INVALID, Context, Form, FormPage, Link, add_routes, valid_until

bp = Blueprint(__name__)


def _context(invitation: Link, form: Form) -> Context:
    words = translations(invitation["language"])
    return {
        "title": words.gettext("Invitation to %(org)s") % {"org": invitation["org_name"]},
        "invitation": invitation,
        "roles": role_names(invitation["roles"], invitation["language"]),
        "valid_until": valid_until(invitation["expires_at"], invitation["language"]),
        "form": {key: value for key, value in form.items() if key in ("name", "email")},
    }


def _accept(token: str, invitation: Link, form: Form) -> Context:
    user = invitations.accept_invitation(
        token, {"name": form.get("name"), "email": form.get("email"), "password": form.get("password") or ""}
    )
    return {
        "outcome": "accepted",
        "email": user["email"],
        "sign_in": sign_in_path(user["email"], invitation["language"], "accepted"),
    }


def _says(message: str) -> Callable[[Exception, Link], Context]:
    return lambda error, invitation: {"error": translations(invitation["language"]).gettext(message)}


PAGE = FormPage(
    template="invite.html",
    path="/invite/{token}",
    view=invitations.view_invitation,
    context=_context,
    act=_accept,
    refusals=(
        (
            EmailTaken,
            _says(N_("An account with this e-mail address exists already: log in with it, or reset its password.")),
        ),
        (TooManyRequests, _says(N_("Too many attempts with this link; try again in an hour."))),
        (ValidationFailed, _says(INVALID)),
    ),
)
add_routes(
    bp,
    PAGE,
    names=("invite_page", "invite_form"),
    form=schemas.INVITE_FORM,
    summaries=("The page an invitation mail links to", "The invitation page's form"),
)
