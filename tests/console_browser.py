"""A browser for console pages over the Chalice test client: it keeps cookies, sends forms with the CSRF token
of the page they came from, and follows redirects when asked."""

import re
from html import unescape
from typing import Dict, Optional
from urllib.parse import urlencode, urlsplit

from chalicelib.config import get_settings
from tests.helpers import STRONG_PASSWORD

FORM = "application/x-www-form-urlencoded"


class Browser:
    """One person's browser: a cookie jar and the last page seen."""

    def __init__(self, client, origin: Optional[str] = None):
        self.client = client
        self.origin = origin  # the stage's public address unless given (a page of another site sends its own)
        self.cookies: Dict[str, str] = {}
        self.page = None  # the last answer seen

    def get(self, path: str, headers: Optional[dict] = None, follow: bool = True):
        """GET a path (following redirects unless told not to); answer the last response with .text."""
        return self._send("GET", path, None, headers or {}, follow)

    def post(self, path: str, form: Dict[str, str], csrf: Optional[str] = "page", headers=None, follow=True):
        """POST a form; csrf="page" takes the token of the last page seen, None sends none, a string sends it."""
        fields = dict(form)
        if csrf == "page":
            csrf = self.csrf()
        if csrf is not None:
            fields["csrf"] = csrf
        sent = {"Content-Type": FORM, "Origin": self.origin_of(), **(headers or {})}
        sent = {name: value for name, value in sent.items() if value != ""}  # "" leaves a header out
        return self._send("POST", path, urlencode(fields), sent, follow)

    def origin_of(self) -> str:
        """The Origin this browser's forms carry."""
        return self.origin or get_settings().public_base_url

    def csrf(self) -> str:
        """The CSRF token of the last page's forms."""
        found = re.search(r'name="csrf" value="([^"]+)"', self.page.text)
        assert found, "the last page has no form"
        return found.group(1)

    def sign_in(self, email: str, password: str = STRONG_PASSWORD, **more: str):
        """Open the sign-in page and sign in; answer the page reached."""
        self.get("/console/login")
        return self.post("/console/login", {"email": email, "password": password, **more})

    def _send(self, method: str, path: str, body, headers: dict, follow: bool):
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items() if value)
        sent = {**headers, **({"Cookie": cookie} if cookie else {})}
        response = getattr(self.client.http, method.lower())(path, headers=sent, body=body)
        response.text = response.body.decode("utf-8") if isinstance(response.body, bytes) else (response.body or "")
        response.path = path
        self._keep_cookies(response)
        self.page = response
        location = response.headers.get("Location")
        if follow and response.status_code in (301, 302, 303) and location:
            target = urlsplit(location)
            return self._send("GET", target.path + (f"?{target.query}" if target.query else ""), None, {}, True)
        return response

    def _keep_cookies(self, response) -> None:
        values = response.headers.get("Set-Cookie") or []
        for value in [values] if isinstance(values, str) else values:
            name, _, rest = value.partition("=")
            content = rest.split(";")[0]
            if "Max-Age=0" in value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = content


def text_of(html: str) -> str:
    """The visible words of a page, tags dropped, whitespace squeezed (for assertions on what a person reads)."""
    without_tags = re.sub(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(without_tags)).strip()
