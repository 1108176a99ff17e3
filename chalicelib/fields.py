"""Shared vocabularies and JSON schemas of fields: one definition for validation and OpenAPI."""
import re
from datetime import datetime
from typing import Optional

LANGUAGES = ("de", "en", "es", "fr", "it", "sv", "nl")
CSV_DELIMITERS = (";", ",", "\t", "|")
CSV_THOUSANDS_SEPARATORS = ("", ".", ",", " ", "'")
USER_STATUSES = ("ACTIVE", "DISABLED")

# RFC 5322 dot-atom local part in ASCII (SES speaks no SMTPUTF8) and a host name of letters, digits and
# hyphens under a TLD of letters.
_ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
EMAIL_PATTERN = (rf"^(?=[^@]{{1,64}}@){_ATEXT}+(?:\.{_ATEXT}+)*@"
                 r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_EMAIL_RE = re.compile(EMAIL_PATTERN)

EMAIL = {"type": "string", "format": "email", "pattern": EMAIL_PATTERN, "minLength": 3, "maxLength": 254}
PASSWORD = {"type": "string", "minLength": 1, "maxLength": 128}
NAME = {"type": "string", "minLength": 1, "maxLength": 200}
LANGUAGE = {"type": "string", "enum": list(LANGUAGES)}
TIMESTAMP = {"type": "string", "format": "date-time"}  # answers only
INSTANT = {"type": "string", "maxLength": 40, "description": "ISO 8601 time such as 2026-11-01T00:00:00Z",
           "pattern": r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$"}
ID = {"type": "string", "minLength": 1, "maxLength": 100}
PHONE_PATTERN = r"^\+[1-9][0-9]{7,14}$"


def iso_time(value: Optional[datetime]) -> Optional[str]:
    """A timestamp as answers carry it (ISO 8601), or None."""
    return value.isoformat() if value else None


def normalize_email(email: str) -> str:
    """The canonical form under which an e-mail address is stored and looked up."""
    return email.strip().lower()


def is_email(value: str) -> bool:
    """True for something shaped like an e-mail address."""
    return bool(_EMAIL_RE.match(value)) and len(value) <= 254
