"""The console pages that mails, API answers and the e-mailed-link pages send people to: built here alone, so
no link names a page that does not exist (tests/api/test_mailed_links.py follows every one of them)."""

from urllib.parse import quote, urlencode

SIGN_IN = "/console/login"
REGISTER = "/console/register"
PORTAL = "/console/portal"


def sign_in_path(email: str = "", language: str = "", done: str = "") -> str:
    """The sign-in page: the address filled in when it is known, in the reader's language (a mail's link is opened
    on whatever browser is at hand), with the notice of what was just done (see chalicelib/web/sign_in_pages.py)."""
    query = {name: value for name, value in (("email", email), ("lang", language), ("done", done)) if value}
    return f"{SIGN_IN}?{urlencode(query)}" if query else SIGN_IN


def batch_path(batch_id: str) -> str:
    """The page of one batch (its target's admins confirm or reject it there)."""
    return f"/console/batches/{quote(batch_id, safe='')}"
