"""HTML pages for e-mailed links: jinja2 templates under templates/pages, autoescaped, with a strict CSP."""
import functools
import os
import secrets
from typing import Any, Dict

from chalice import Response

PAGES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates", "pages")


@functools.lru_cache(maxsize=1)
def _environment():
    # jinja2 loads on the first page, not at `import app`.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(loader=FileSystemLoader(PAGES_DIR), autoescape=select_autoescape(["html"]),
                       undefined=StrictUndefined)


def render_page(template: str, context: Dict[str, Any], status: int = 200) -> Response:
    """An HTML response: no external assets, inline style allowed only by a per-response nonce."""
    nonce = secrets.token_urlsafe(16)
    html = _environment().get_template(template).render(**context, nonce=nonce)
    return Response(body=html, status_code=status, headers={
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": (f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; "
                                    "frame-ancestors 'none'; base-uri 'none'"),
        "Referrer-Policy": "no-referrer",
    })
