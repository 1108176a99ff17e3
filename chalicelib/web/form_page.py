"""The one skeleton of a page an e-mailed link opens: GET shows the link's form (or the dead-link page); POST
checks the repeated password, calls the service, and shows the outcome or what to correct."""

from dataclasses import dataclass
from typing import Any, Callable, Dict, Tuple, Type

from chalice import Blueprint, Response

from chalicelib.api.http import Call, endpoint
from chalicelib.errors import WeakPassword
from chalicelib.formats import format_datetime
from chalicelib.services.accounts.mailed_tokens import TokenInvalid
from chalicelib.web.catalogs import N_, password_rules, pick_language, translations
from chalicelib.web.render import render_page

Context = Dict[str, Any]
Link = Dict[str, Any]  # the service's view of a live link; always names its "language"
Form = Dict[str, str]

MISMATCH = N_("The two passwords differ.")
WEAK = N_("This password is too weak. It needs:")
INVALID = N_("Please check your entries.")
DEAD_TITLE = N_("This link no longer works")


@dataclass(frozen=True)
class FormPage:
    """What one link page is made of; the skeleton below does the rest."""

    template: str
    path: str  # e.g. "/invite/{token}"
    view: Callable[[str], Link]  # reads the link; raises TokenInvalid for a dead one
    context: Callable[[Link, Form], Context]  # the form's own fields (title, the values shown)
    act: Callable[[str, Link, Form], Context]  # submits; answers the outcome's fields
    # (error class, the fields it shows) in the order tried; a WeakPassword always names the broken rules
    refusals: Tuple[Tuple[Type[Exception], Callable[[Any, Link], Context]], ...] = ()
    asks_password: Callable[[Link], bool] = lambda link: True  # the form has a new password and its repetition
    # A link that dies between showing and submitting: the dead page speaks the link's language, else the browser's.
    late_dead_in_link_language: bool = True


def dead_page(accept_language: str) -> Context:
    """The page of a link that no longer works, in the first language of the reader's browser keyport speaks."""
    language = pick_language(accept_language)
    return {"outcome": "dead", "lang": language, "title": translations(language).gettext(DEAD_TITLE)}


def show(page: FormPage, token: str, accept_language: str = "") -> Context:
    """The page for a link: its form, or the dead-link page."""
    try:
        link = page.view(token)
    except TokenInvalid:
        return dead_page(accept_language)
    return _form(page, token, link, {})


def submit(page: FormPage, token: str, form: Form, accept_language: str = "") -> Context:
    """Submit the form: the page shows the outcome, or the form again with what to correct."""
    try:
        link = page.view(token)
    except TokenInvalid:
        return dead_page(accept_language)
    shown = _form(page, token, link, form)
    words = translations(link["language"])
    if page.asks_password(link) and form.get("password") != form.get("password_repeat"):
        return {**shown, "error": words.gettext(MISMATCH)}
    try:
        return {**shown, **page.act(token, link, form)}
    except TokenInvalid:
        return dead_page(link["language"] if page.late_dead_in_link_language else accept_language)
    except WeakPassword as error:
        problems = (error.details or {}).get("rules", [])
        return {**shown, "error": words.gettext(WEAK), "broken_rules": password_rules(problems, link["language"])}
    except tuple(kind for kind, _ in page.refusals) as error:
        return {**shown, **_refusal(page, error)(error, link)}


def add_routes(
    bp: Blueprint, page: FormPage, *, names: Tuple[str, str], summaries: Tuple[str, str], form: Dict[str, Any]
) -> None:
    """The page's GET (show) and POST (submit) routes, public, answering HTML, registered in that order."""

    def show_view(call: Call, token: str) -> Response:
        return render_page(page.template, show(page, token, call.accept_language))

    def submit_view(call: Call, token: str) -> Response:
        return render_page(page.template, submit(page, token, call.body, call.accept_language))

    show_view.__name__ = show_view.__qualname__ = names[0]  # Chalice's names of the views
    submit_view.__name__ = submit_view.__qualname__ = names[1]
    endpoint(bp, page.path, "GET", summary=summaries[0], public=True, media_type="text/html")(show_view)
    endpoint(bp, page.path, "POST", summary=summaries[1], public=True, media_type="text/html", form=form)(submit_view)


def valid_until(expires_at: str, language: str) -> str:
    """A link's expiry as the pages show it: in the link's language, to the minute, the time zone named."""
    return format_datetime(expires_at, language)


def _form(page: FormPage, token: str, link: Link, form: Form) -> Context:
    return {
        "outcome": "form",
        "lang": link["language"],
        "action": page.path.format(token=token),
        "error": None,
        "broken_rules": [],
        **page.context(link, form),
    }


def _refusal(page: FormPage, error: Exception) -> Callable[[Any, Link], Context]:
    return next(refusal for kind, refusal in page.refusals if isinstance(error, kind))
