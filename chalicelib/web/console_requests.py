"""What a console request carries, checked: the form (urlencoded or multipart) only from a page of ours with its
synchronizer token, and the cookies, read leniently."""

from email import policy as mime_policy
from email.parser import BytesParser
from typing import Dict, List, Tuple
from urllib.parse import parse_qsl, urlsplit

from chalicelib.config import get_settings
from chalicelib.errors import Forbidden, ValidationFailed
from chalicelib.fields import text_problem
from chalicelib.security import same_secret

MAX_FIELD = 10_000  # no console field is longer; a longer one is refused beside its field


def checked_form(request, expected_csrf: str, public: bool) -> Tuple[Dict[str, str], Dict[str, bytes]]:
    """The form's fields and uploaded files, once it is known to come from a page of ours with its token; FormRefused
    otherwise, ValidationFailed for a value that is no text."""
    if not _same_origin(request, public):
        raise FormRefused()
    content_type = request.headers.get("content-type") or ""
    body = request.raw_body or b""
    files: Dict[str, bytes] = {}
    try:
        if content_type.lower().startswith("multipart/form-data"):
            pairs, files = _multipart(content_type, body)
        else:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeError, ValueError):
        raise FormRefused() from None
    form = {name: value for name, value in pairs}
    if not same_secret(form.pop("csrf", ""), expected_csrf):
        raise FormRefused()
    # Every value is text (no control characters); a page validates its fields by its JSON twin's schema.
    bad = [name for name, value in form.items() if len(value) > MAX_FIELD or text_problem(value, multiline=True)]
    if bad:
        raise ValidationFailed(details=[{"field": name, "problem": "is not valid"} for name in bad])
    return form, files


def _multipart(content_type: str, body: bytes) -> Tuple[List[Tuple[str, str]], Dict[str, bytes]]:
    """A multipart/form-data body (a form with a file upload): its text fields, and its files' bytes by field name
    (an empty file field, as browsers send one nobody chose, is there with no bytes)."""
    header = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    message = BytesParser(policy=mime_policy.HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise ValueError("not a multipart body")
    pairs: List[Tuple[str, str]] = []
    files: Dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            files[name] = data
        else:
            pairs.append((name, data.decode("utf-8")))
    return pairs, files


class FormRefused(Forbidden):
    """A console form without its valid CSRF token, or posted from another origin."""

    code, message = "form_refused", "The form has expired or was sent from another site."


def _same_origin(request, public: bool) -> bool:
    """The form was sent by a page of ours: Fetch metadata where the browser sends it, else Origin, else Referer.
    A public form (sign-in, register) needs one of them: its token is derived from a cookie that a sibling host
    could plant, so the origin is what stops a login CSRF there."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site:
        return fetch_site == "same-origin"
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed:
        return not public  # old browsers and tools: on a signed-in page the session's token alone guards the form
    if claimed == "null":
        return False  # an opaque origin (a sandboxed frame, a data: page) is never ours
    try:
        parts = urlsplit(claimed)
        origin = f"{parts.scheme}://{parts.netloc}"
        public_url = urlsplit(get_settings().public_base_url)
    except ValueError:  # e.g. "http://[::1": no origin of ours
        return False
    allowed = {f"{public_url.scheme}://{public_url.netloc}"}
    host = request.headers.get("host")
    if host:  # the address the browser used to reach us (behind API Gateway: its domain)
        allowed |= {f"https://{host}", f"http://{host}"} if get_settings().is_local else {f"https://{host}"}
    return origin in allowed


def request_cookies(request) -> Dict[str, str]:
    """The request's cookies, parsed leniently (one malformed cookie of another app must not hide ours); a name
    sent twice counts as absent: a sibling host tossing in its own session or form secret gains nothing."""
    found: Dict[str, str] = {}
    repeated = set()
    for pair in (request.headers.get("cookie") or "").split(";"):
        name, separator, value = pair.strip().partition("=")
        if not separator or not name:
            continue
        if name in found:
            repeated.add(name)
        found[name] = value.strip().strip('"')
    return {name: value for name, value in found.items() if name not in repeated}
