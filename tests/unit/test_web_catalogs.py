"""The web pages' words and the mails' phrases: one gettext catalog per language and domain, each translating exactly
the messages that the templates, presenters and mail code use (found as `pybabel extract` finds them, through
babel.cfg for the pages and babel-mail.cfg for the mails)."""

import functools
import os

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from chalicelib import mail_words
from chalicelib.fields import LANGUAGES
from chalicelib.local import PROJECT_DIR
from chalicelib.security import password_problems
from chalicelib.web import catalogs
from tests.unit.test_cold_start import PROBE, probe


@functools.lru_cache(maxsize=None)
def used_messages(config_file="babel.cfg"):
    """(context, msgid) of every message the pages use (or the mails, with babel-mail.cfg)."""
    with open(os.path.join(PROJECT_DIR, config_file)) as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(PROJECT_DIR, method_map, options_map)
    return frozenset((context, message) for _, _, message, _, context in found)


def catalog(language, path=catalogs.catalog_path):
    with open(path(language), "rb") as source:
        return read_po(source, locale=language)


def entries(language, path=catalogs.catalog_path):
    return {(message.context, message.id): message for message in catalog(language, path) if message.id}


def test_every_language_of_keyport_has_a_catalog_and_no_other_does():
    assert sorted(os.listdir(catalogs.LOCALE_DIR)) == sorted(LANGUAGES + ("README.md",))
    assert len(used_messages()) > 40  # the extraction found the templates and the presenters


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_catalog_translates_every_message_the_pages_use_and_holds_no_stale_one(language):
    found = entries(language)
    assert sorted(used_messages() - set(found), key=str) == [], "missing: refresh the catalogs (locale/README.md)"
    assert sorted(set(found) - used_messages(), key=str) == [], "stale: no template or presenter uses these"
    assert [key for key, message in found.items() if not message.string or message.fuzzy] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_translation_keeps_the_placeholders_of_its_message(language):
    problems = [(message.id, [str(error) for error in errors]) for message, errors in catalog(language).check()]
    assert problems == []


def test_english_pages_say_their_messages_as_written():
    assert [key for key, message in entries("en").items() if message.string != message.id] == []


def test_every_rule_the_password_policy_names_has_a_message():
    named = {rule for candidate in ("", "a" * 200, "password", "Aa1!") for rule in password_problems(candidate)}
    assert named == set(catalogs.PASSWORD_RULES)


def test_a_role_or_rule_without_a_translation_is_shown_as_named():
    assert catalogs.role_names(["KEY_MANAGER", "NEW_ROLE"], "de") == "Schlüsselverwalter, NEW_ROLE"
    assert catalogs.password_rules(["a digit", "a new rule"], "fr") == ["un chiffre", "a new rule"]


def test_an_unknown_language_reads_english():
    assert catalogs.translations("xx").gettext("Password") == "Password"
    assert catalogs.translations("de").gettext("Password") == "Passwort"


def test_babel_loads_with_the_first_page_not_at_import():
    assert "babel" not in probe(PROBE)["loaded"]


def test_every_language_of_keyport_has_a_mail_catalog_and_no_other_does():
    assert sorted(os.listdir(mail_words.LOCALE_DIR)) == sorted(LANGUAGES + ("README.md",))
    assert len(used_messages("babel-mail.cfg")) == len(mail_words.COUNTED)  # one phrase per counted number


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_mail_catalog_translates_every_phrase_the_mails_use_and_holds_no_stale_one(language):
    found, used = entries(language, mail_words.catalog_path), used_messages("babel-mail.cfg")
    assert sorted(used - set(found), key=str) == [], "missing: refresh the catalogs (chalicelib/locale/README.md)"
    assert sorted(set(found) - used, key=str) == [], "stale: no mail code uses these"
    incomplete = [key for key, message in found.items() if not all(message.string) or message.fuzzy]
    assert incomplete == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_mail_translation_keeps_the_placeholders_and_the_plural_rule_of_its_language(language):
    from babel.messages.plurals import get_plural

    mails = catalog(language, mail_words.catalog_path)
    assert [(message.id, [str(error) for error in errors]) for message, errors in mails.check()] == []
    assert mails.plural_expr == get_plural(language).plural_expr


def test_english_mails_say_their_phrases_as_written():
    found = entries("en", mail_words.catalog_path)
    assert [key for key, message in found.items() if tuple(message.string) != message.id] == []
