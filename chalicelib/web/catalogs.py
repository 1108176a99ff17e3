"""The words of the pages in keyport's languages: one gettext catalog per language
(locale/<language>/LC_MESSAGES/messages.po, English msgids), compiled in memory once per language; role names and
password rules as the pages say them.

After changing a message in a template or presenter, refresh the catalogs (see locale/README.md);
tests/unit/test_web_catalogs.py fails on a message missing or empty in any catalog and on a stale one."""

import functools
import os
from typing import List

from chalicelib.fields import LANGUAGES
from chalicelib.gettext_catalogs import compile_catalog

LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")
DOMAIN = "messages"
FALLBACK = "en"


def N_(message: str) -> str:
    """Mark a message for extraction where it is named; it is translated where it is shown."""
    return message


# The password policy's rules as chalicelib.security.password_problems names them.
PASSWORD_RULES = (
    N_("at least 12 characters"),
    N_("at most 128 characters"),
    N_("an upper-case letter"),
    N_("a lower-case letter"),
    N_("a digit"),
    N_("a special character"),
    N_("not a common password"),
)


def spoken(language: str) -> str:
    """The language itself if keyport speaks it, else English."""
    return language if language in LANGUAGES else FALLBACK


def catalog_path(language: str) -> str:
    """Where the catalog (.po) of a language lives."""
    return os.path.join(LOCALE_DIR, language, "LC_MESSAGES", DOMAIN + ".po")


def translations(language: str):
    """The babel Translations of a language (English for one keyport does not speak)."""
    return _compiled(spoken(language))


@functools.lru_cache(maxsize=None)
def _compiled(language: str):
    # Compiled once per language, in memory.
    return compile_catalog(catalog_path(language), language, DOMAIN)


def pick_language(accept_language: str) -> str:
    """The first language of an Accept-Language header that keyport speaks ("en" otherwise)."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return FALLBACK


def role_names(roles: List[str], language: str) -> str:
    """Roles as words of the language, joined."""
    words = translations(language)
    names = {
        "OPERATOR": words.pgettext("role", "operator"),
        "ORG_ADMIN": words.pgettext("role", "administrator"),
        "KEY_MANAGER": words.pgettext("role", "key manager"),
        "INSTALLER": words.pgettext("role", "installer"),
        "SITE_ADMIN": words.pgettext("role", "site administrator"),
        "VIEWER": words.pgettext("role", "viewer"),
        "CUSTOMER": words.pgettext("role", "customer"),
    }
    return ", ".join(names.get(role, role) for role in roles)


def password_rules(problems: List[str], language: str) -> List[str]:
    """The broken password rules in the language (a rule without a translation as security names it)."""
    words = translations(language)
    return [words.gettext(problem) for problem in problems]
