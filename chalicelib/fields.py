"""Shared vocabularies and JSON schemas of fields: one definition for validation and OpenAPI."""

import re
from datetime import datetime
from typing import Optional

LANGUAGES = ("de", "en", "es", "fr", "it", "sv", "nl")  # of the product: pages, mails, templates
CSV_DELIMITERS = (";", ",", "\t", "|")
CSV_THOUSANDS_SEPARATORS = ("", ".", ",", " ", "'")
USER_STATUSES = ("ACTIVE", "DISABLED")

# RFC 5322 dot-atom local part in ASCII (SES speaks no SMTPUTF8) and a host name of letters, digits and
# hyphens under a TLD of letters.
_ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
EMAIL_PATTERN = (
    rf"^(?=[^@]{{1,64}}@){_ATEXT}+(?:\.{_ATEXT}+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_EMAIL_RE = re.compile(EMAIL_PATTERN)

EMAIL = {"type": "string", "format": "email", "pattern": EMAIL_PATTERN, "minLength": 3, "maxLength": 254}
PASSWORD = {"type": "string", "minLength": 1, "maxLength": 128}
NAME = {"type": "string", "minLength": 1, "maxLength": 200}
LANGUAGE = {"type": "string", "enum": list(LANGUAGES)}
TIMESTAMP = {"type": "string", "format": "date-time"}  # answers only
INSTANT = {
    "type": "string",
    "maxLength": 40,
    "description": "ISO 8601 time such as 2026-11-01T00:00:00Z",
    "pattern": r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$",
}
ID = {"type": "string", "minLength": 1, "maxLength": 100}
PHONE_PATTERN = r"^\+[1-9][0-9]{7,14}$"

# Text is what a person reads and every file format can hold: no control characters (C0, DEL, C1) and no
# unpaired UTF-16 surrogate (JSON's "\ud800" decodes to one; UTF-8 cannot encode it, so a CSV of it fails).
# Tab and line breaks only in multi-line text: a string schema marked with MULTILINE (mail bodies, reasons).
MULTILINE_KEYWORD = "x-multiline"
MULTILINE = {MULTILINE_KEYWORD: True}
_UNPAIRED_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK_OR_TAB = re.compile("[\t\n\r]")


def text_problem(value: str, multiline: bool = False) -> Optional[str]:
    """Why the string is not acceptable text (never quoting it), or None when it is."""
    if _UNPAIRED_SURROGATE.search(value):
        return "must be text: it holds an unpaired UTF-16 surrogate"
    if _CONTROL.search(value):
        return "must not contain control characters"
    if not multiline and _LINE_BREAK_OR_TAB.search(value):
        return "must be one line: no tabs or line breaks"
    return None


def iso_time(value: Optional[datetime]) -> Optional[str]:
    """A timestamp as answers carry it (ISO 8601), or None."""
    return value.isoformat() if value else None


def normalize_email(email: str) -> str:
    """The canonical form under which an e-mail address is stored and looked up."""
    return email.strip().lower()


def is_email(value: str) -> bool:
    """True for something shaped like an e-mail address."""
    return bool(_EMAIL_RE.match(value)) and len(value) <= 254
