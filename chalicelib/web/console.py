"""The console's one skeleton: a page is registered with `page(...)`, gets a `Visit` (the signed-in person, the
language, the checked form), calls one service function and answers `visit.show(...)` or `visit.redirect(...)`.

Here and only here: the session cookie (HttpOnly, SameSite=Lax, path /console, Secure except on the local stage),
the synchronizer CSRF token of every form plus the Origin check, sign-in redirects, the forced password change,
404 for pages outside the person's roles, and domain errors turned into pages with their status."""

import functools
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Tuple, Union
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.api.http import ACCEPTED_CONTENT_TYPES
from chalicelib.api.statuses import status_of
from chalicelib.config import get_settings
from chalicelib.errors import DomainError, InternalError, NotAuthenticated, NotFound, ValidationFailed
from chalicelib.fields import LANGUAGES
from chalicelib.formats import format_datetime, format_number
from chalicelib.security import form_token, new_token
from chalicelib.services.accounts.console_visits import Visitor, visitor_of
from chalicelib.web.catalogs import N_, pick_language, spoken, translations
from chalicelib.web.console_assets import asset_url
from chalicelib.web.console_requests import MAX_FIELD, checked_form, request_cookies
from chalicelib.web.render import render_page

log = logging.getLogger("keyport.console")
bp = Blueprint(__name__)

SESSION_COOKIE = "kp_session"
FORM_COOKIE = "kp_form"  # the pre-session secret behind the CSRF token of public forms (sign-in, register, ...)
LANGUAGE_COOKIE = "kp_lang"  # the language chosen on the sign-in page, for visitors not signed in
HOME = "/console/"
LOGIN = "/console/login"
PASSWORD_CHANGE = "/console/password"

TRY_AGAIN = N_("Nothing was done. Please try again in a moment.")
UNREADABLE_FORM = N_(
    "A field holds characters that cannot be taken (such as control characters). Go back and correct it."
)
EXPIRED_FORM = N_("This form has expired or was sent from another site. Please open the page again and resend it.")


@dataclass(frozen=True)
class PageSpec:
    """One console page route: who may open it, and where it appears in the navigation."""

    path: str
    method: str
    public: bool = False
    roles: Optional[FrozenSet[str]] = None  # None: every signed-in person
    area: Optional[str] = None  # the navigation label (N_-marked) of a page that opens an area
    pending_password_ok: bool = False  # open while a temporary password awaits its change


PAGES: List[PageSpec] = []


@dataclass
class Visit:
    """A parsed page request: who (if signed in), in which language, the checked form and the query."""

    path: str
    method: str
    visitor: Optional[Visitor]
    language: str
    form: Dict[str, str] = field(default_factory=dict)
    files: Dict[str, bytes] = field(default_factory=dict)  # a multipart form's uploads by field name (not checked)
    query: Dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    source_ip: Optional[str] = None
    accept_language: str = ""
    cookies: List[str] = field(default_factory=list)  # Set-Cookie values the answer carries
    sent_cookies: Dict[str, str] = field(default_factory=dict)  # the request's cookies (a name sent twice: absent)

    @property
    def principal(self):
        """The signed-in person's principal (a page that is not public always has one)."""
        assert self.visitor is not None
        return self.visitor.principal

    def gettext(self, message: str, **values: Any) -> str:
        """A message in the visit's language, its %(name)s placeholders filled."""
        text = translations(self.language).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, count: int, **values: Any) -> str:
        """A counted message in the visit's language; %(num)s is the count as the person writes numbers."""
        text = translations(self.language).ngettext(singular, plural, count)
        return text % {"num": self.number(count), **values}

    def number(self, value: Union[int, float]) -> str:
        """A number in the visit's language, grouped with the person's thousands separator (else the language's)."""
        return format_number(value, self.language, self.visitor.thousands_separator if self.visitor else None)

    def when(self, moment: Any, name_zone: bool = True) -> str:
        """A date and time in the visit's language, its time zone named (unless the page names it once)."""
        return format_datetime(moment, self.language, name_zone=name_zone)

    def show(self, template: str, status: int = 200, **context: Any) -> Response:
        """The page from templates/pages/console/<template>, inside the console layout."""
        response = render_page(
            "console/" + template,
            {**self.layout(), **context},
            status=status,
            policy="console",
        )
        return self._with_cookies(response)

    def redirect(self, location: str) -> Response:
        """POST-redirect-GET (303) to a console path."""
        return self._with_cookies(Response(body="", status_code=303, headers={"Location": location}))

    def cookie(self, name: str) -> Optional[str]:
        """A cookie the browser sent (None when absent or empty)."""
        return self.sent_cookies.get(name) or None

    def set_cookie(self, name: str, value: str, max_age: Optional[int] = None) -> None:
        """Send a console cookie with the answer."""
        self.cookies.append(cookie(name, value, max_age))

    def layout(self) -> Dict[str, Any]:
        """What the layout shows around every page: the person, the areas they may open, the language links."""
        return {
            "lang": self.language,
            "languages": LANGUAGES,
            "visitor": self.visitor,
            "navigation": navigation(self.visitor, self.language) if self.visitor else [],
            "current_path": self.path,
            "csrf": self.csrf,
            "stylesheet": asset_url("console.css"),
            "script": asset_url("console.js"),
        }

    def _with_cookies(self, response: Response) -> Response:
        if self.cookies:
            response.headers["Set-Cookie"] = self.cookies if len(self.cookies) > 1 else self.cookies[0]
        return response


def cookie(name: str, value: str, max_age: Optional[int] = None) -> str:
    """A console cookie's Set-Cookie value: HttpOnly, SameSite=Lax, path /console, Secure except on the laptop."""
    parts = [f"{name}={value}", "Path=/console", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if not get_settings().is_local:
        parts.append("Secure")
    return "; ".join(parts)


def page(
    path: str,
    methods: Tuple[str, ...] = ("GET",),
    *,
    public: bool = False,
    roles: Optional[FrozenSet[str]] = None,
    area: Optional[str] = None,
    pending_password_ok: bool = False,
) -> Callable:
    """Register a console page; the view takes (visit, **path_params) and answers a Response."""

    def decorator(view: Callable) -> Callable:
        for method in methods:
            spec = PageSpec(path, method, public, roles, area if method == "GET" else None, pending_password_ok)
            PAGES.append(spec)

        @functools.wraps(view)
        def handler(**path_params: str) -> Response:
            request = bp.current_request
            try:
                visit = _visit(request, public, pending_password_ok, path_params)
                if isinstance(visit, Response):
                    return visit
                if roles is not None and not public and not visit.principal.has_role(*roles):
                    raise NotFound()  # a page outside the person's roles is no page for them
                return view(visit, **path_params)
            except DomainError as error:
                return error_page(error, _language_of(request))
            except Exception:  # the one place an unexpected failure becomes a page, not a traceback
                log.exception("unhandled error in %s %s", request.method, path)
                return error_page(InternalError(), _language_of(request))

        # API Gateway (and Chalice's local server) drop a trailing slash before matching: /console/ is /console.
        route = path.rstrip("/") or "/"
        bp.route(route, methods=list(methods), content_types=ACCEPTED_CONTENT_TYPES)(handler)
        return view

    return decorator


def navigation(visitor: Visitor, language: str) -> List[Dict[str, str]]:
    """The areas the person's roles open, as the layout and the home page list them (only pages that exist)."""
    words = translations(language)
    return [
        {"path": spec.path, "label": words.gettext(spec.area)}
        for spec in PAGES
        if spec.area and (spec.roles is None or visitor.principal.has_role(*spec.roles))
    ]


def error_page(error: DomainError, language: str, status: Optional[int] = None) -> Response:
    """A domain error as a page with its kind's status (404 for anything outside the person's scope)."""
    code = status or status_of(error)
    titles = {
        400: N_("This request cannot be handled"),
        403: N_("This form has expired"),
        404: N_("Page not found"),
        409: N_("This changed meanwhile"),
        422: N_("Please check your entries"),
        429: N_("Too many attempts"),
        502: N_("A service keyport relies on did not answer"),
    }
    words = translations(language)
    title = words.gettext(titles.get(code, N_("Something went wrong")))
    messages = {403: EXPIRED_FORM, 422: UNREADABLE_FORM, 502: TRY_AGAIN}
    message = words.gettext(messages[code]) if code in messages else ""
    visit = Visit(path="", method="GET", visitor=None, language=language)
    return render_page(
        "console/error.html",
        {**visit.layout(), "title": title, "message": message, "status": code},
        status=code,
        policy="console",
    )


def field_errors(error: ValidationFailed, language: str) -> Dict[str, str]:
    """A schema's refusal as one message per field, in the page's language (the form shows each beside its field)."""
    words = translations(language)
    found: Dict[str, str] = {}
    for problem in error.details or []:
        name = (problem.get("field") or "").split(".")[0]
        text = problem.get("problem", "")
        if text == "is required" or text.startswith("must be at least 1 "):
            message = words.gettext(N_("Enter this."))
        elif text.startswith("must be at most"):
            message = words.gettext(N_("This is too long."))
        else:
            message = words.gettext(N_("Check this entry."))
        found.setdefault(name, message)
    return found


def safe_next(target: Optional[str]) -> str:
    """Where to go after signing in: a console path of ours, never another site (an open redirect) nor a header
    broken by control characters."""
    if (
        target
        and target.startswith("/console/")
        and not target.startswith("//")
        and "\\" not in target
        and all(" " < character < "\x7f" for character in target)
    ):
        return target
    return HOME


def _visit(request, public: bool, pending_password_ok: bool, path_params: Dict[str, str]) -> Any:
    cookies = request_cookies(request)
    visitor = None
    token = cookies.get(SESSION_COOKIE)
    if token:
        try:
            visitor = visitor_of(token)
        except NotAuthenticated:
            visitor = None
    path = _path_of(request, path_params)
    if visitor is None and not public:
        location = f"{LOGIN}?next={quote(path, safe='/')}"
        if not token:
            return Response(body="", status_code=303, headers={"Location": location})
        # A cookie whose session ended (idle, sign-out elsewhere, password changed): say so, and forget it.
        headers: Dict[str, Union[str, List[str]]] = {
            "Location": location + "&done=expired",
            "Set-Cookie": cookie(SESSION_COOKIE, "", max_age=0),
        }
        return Response(body="", status_code=303, headers=headers)
    if visitor is not None and visitor.principal.must_change_password and not (public or pending_password_ok):
        return Response(body="", status_code=303, headers={"Location": PASSWORD_CHANGE})
    language = spoken(visitor.language) if visitor else _anonymous_language(request, cookies)
    visit = Visit(
        path=path,
        method=request.method,
        visitor=visitor,
        language=language,
        query={name: value[:MAX_FIELD] for name, value in (request.query_params or {}).items()},
        source_ip=((request.context or {}).get("identity") or {}).get("sourceIp"),
        accept_language=(request.headers.get("accept-language") or "")[:200],
        sent_cookies=cookies,
    )
    # Signed-in pages' forms carry a token derived from the session; public forms one derived from a pre-session
    # cookie this answer sets when missing (so the sign-in form itself cannot be posted from another site).
    secret = token if (visitor is not None and token and not public) else cookies.get(FORM_COOKIE)
    if not secret:
        secret = new_token()
        visit.set_cookie(FORM_COOKIE, secret)
    visit.csrf = form_token(secret)
    if request.method == "POST":
        visit.form, visit.files = checked_form(request, visit.csrf, public)
    return visit


def _path_of(request, path_params: Dict[str, str]) -> str:
    template = (request.context or {}).get("resourcePath") or ""
    path = template.format(**path_params) if path_params else template
    return HOME if path + "/" == HOME else path


def _anonymous_language(request, cookies: Dict[str, str]) -> str:
    chosen = (request.query_params or {}).get("lang") or cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return pick_language(request.headers.get("accept-language") or "")


def _language_of(request) -> str:
    try:
        return _anonymous_language(request, request_cookies(request))
    except Exception:  # an error page must render whatever the request
        return "en"
