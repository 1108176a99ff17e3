"""The console pages that mails, API answers and the e-mailed-link pages send people to: built here alone, so
no link names a page that does not exist (tests/api/test_mailed_links.py follows every one of them)."""

from urllib.parse import quote, urlencode

SIGN_IN = "/console/login"
REGISTER = "/console/register"
PORTAL = "/console/portal"


def sign_in_path(email: str = "") -> str:
    """The sign-in page, with the address filled in when it is known."""
    return f"{SIGN_IN}?{urlencode({'email': email})}" if email else SIGN_IN


def batch_path(batch_id: str) -> str:
    """The page of one batch (its target's admins confirm or reject it there)."""
    return f"/console/batches/{quote(batch_id, safe='')}"
