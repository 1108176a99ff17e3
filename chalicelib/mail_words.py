"""The words a mail's code gives its template: each number with its noun in the mail's language ("1 device",
"250 Geräte", plural rules of the language) and each moment as the language writes it, as `<name>_text` variables.

Their catalog is the "mail" domain (locale/<language>/LC_MESSAGES/mail.po next to this file; locale/README.md
says how to refresh it), apart from the pages' catalogs: a mail is sent by services that know nothing of the web.
A template keeps the raw values too (`device_count`), so an organization's older copy still renders."""

import functools
import os
from datetime import datetime
from typing import Any, Callable, Dict, Optional

from chalicelib.fields import LANGUAGES
from chalicelib.formats import format_datetime, format_number
from chalicelib.gettext_catalogs import compile_catalog

LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")
DOMAIN = "mail"
FALLBACK = "en"
SUFFIX = "_text"

# The counted numbers mails carry, each with its phrase: ngettext picks the form the language's plural rule
# asks for the count, the count itself is written as the language writes numbers.
COUNTED: Dict[str, Callable[[Any, float], str]] = {
    "device_count": lambda words, n: words.ngettext("%(count)s device", "%(count)s devices", n),
    "valid_days": lambda words, n: words.ngettext("%(count)s day", "%(count)s days", n),
    "valid_hours": lambda words, n: words.ngettext("%(count)s hour", "%(count)s hours", n),
    "valid_minutes": lambda words, n: words.ngettext("%(count)s minute", "%(count)s minutes", n),
}


def catalog_path(language: str) -> str:
    """Where the mail catalog (.po) of a language lives."""
    return os.path.join(LOCALE_DIR, language, "LC_MESSAGES", DOMAIN + ".po")


def translations(language: str) -> Any:
    """The babel Translations of the mails in a language (English for one keyport does not speak)."""
    return _compiled(language if language in LANGUAGES else FALLBACK)


def phrases(language: str, variables: Dict[str, Any], thousands_separator: Optional[str] = None) -> Dict[str, str]:
    """`<name>_text` for every counted number and every moment among the variables, in the language (numbers
    grouped by the recipient's thousands separator where the caller knows it)."""
    words = None
    said: Dict[str, str] = {}
    for name, value in variables.items():
        if name in COUNTED and isinstance(value, (int, float)) and not isinstance(value, bool):
            words = words or translations(language)
            said[name + SUFFIX] = COUNTED[name](words, value) % {
                "count": format_number(value, language, thousands_separator)
            }
        elif isinstance(value, datetime):
            said[name + SUFFIX] = format_datetime(value, language)
    return said


@functools.lru_cache(maxsize=None)
def _compiled(language: str) -> Any:
    # Compiled once per language, in memory.
    return compile_catalog(catalog_path(language), language, DOMAIN)
