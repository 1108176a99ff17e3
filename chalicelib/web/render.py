"""The renderer of the pages: jinja2 templates under templates/pages, autoescaped, their words from the page
language's catalog (jinja2.ext.i18n), answered under a strict CSP."""

import functools
import os
import secrets
from typing import Any, Dict

from chalice import Response

from chalicelib.formats import format_date, format_datetime, format_number
from chalicelib.web.catalogs import spoken, translations

# templates/ stays at the top level (next to app.py in the Lambda zip too): DESIGN.md's layout.
PAGES_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "templates", "pages"
)


@functools.lru_cache(maxsize=None)
def _environment(language: str):
    # jinja2 loads on the first page, not at `import app`. One environment per language: the catalog is installed
    # once, and a render never switches the words of another one in flight.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(PAGES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    # Old-style gettext: a translation is text, escaped like any value (newstyle would take it as markup).
    # The i18n extension adds this method at run time; jinja2's types do not declare it.
    environment.install_gettext_translations(translations(language), newstyle=False)  # type: ignore[attr-defined]
    # Dates and numbers as the page's language writes them: {{ expires_at|datetime }} names the time zone,
    # {{ count|number(person.csv_thousands_separator) }} honours a person's separator.
    environment.filters.update(
        datetime=lambda value, time_zone=None: format_datetime(value, language, time_zone),
        date=lambda value, time_zone=None: format_date(value, language, time_zone),
        number=lambda value, thousands_separator=None: format_number(value, language, thousands_separator),
    )
    return environment


# The console's pages load their stylesheet and script from /console/assets (content-hashed, same origin) and
# never inline either; the e-mailed-link pages are self-contained (inline style under a per-response nonce).
CONSOLE_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def render_page(template: str, context: Dict[str, Any], status: int = 200, policy: str = "link") -> Response:
    """An HTML response in the context's language ("lang") under a strict CSP: a link page's inline style only by
    a per-response nonce, a console page's assets only from our origin."""
    nonce = secrets.token_urlsafe(16)
    html = _environment(spoken(context["lang"])).get_template(template).render(**context, nonce=nonce)
    return Response(
        body=html,
        status_code=status,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": CONSOLE_POLICY
            if policy == "console"
            else (
                f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; "
                "frame-ancestors 'none'; base-uri 'none'"
            ),
            # A console form must carry its origin (Chromium sends "Origin: null" under no-referrer); a link page's
            # token-bearing address must never leave in a Referer.
            "Referrer-Policy": "same-origin" if policy == "console" else "no-referrer",
        },
    )
