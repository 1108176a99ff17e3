"""The words around a mail's numbers and moments: the right plural in every language, numbers and dates written as
the recipient's language writes them, in the default templates, in previews and in what is sent."""

import re
from datetime import datetime, timezone

import pytest

from chalicelib.fields import LANGUAGES
from chalicelib.mail import check_template, mail_values, render, sample_values, send_mail
from chalicelib.mail_types import MAIL_TYPES
from chalicelib.mail_words import COUNTED, SUFFIX, phrases
from chalicelib.models import TemplateSlotModel
from chalicelib.services.mail_templates.templates import _checked_defaults

NNBSP = "\u202f"
# (language, the sentence's words for one device, for 250 devices, the wrong singular of today's defaults)
DEVICES = [
    ("de", "1 Gerät zugewiesen", "250 Geräte zugewiesen", "1 Geräte"),
    ("en", "assigned 1 device to", "assigned 250 devices to", "1 devices"),
    ("es", "asignado 1 dispositivo a", "asignado 250 dispositivos a", "1 dispositivos"),
    ("fr", "attribué 1 appareil à", "attribué 250 appareils à", "1 appareils"),
    ("it", "assegnato 1 dispositivo a", "assegnato 250 dispositivi a", "1 dispositivi"),
    ("sv", "1 enhet med", "250 enheter med", "1 enheter"),
    ("nl", "1 apparaat aan", "250 apparaten aan", "1 apparaten"),
]


def new_batch_text(language, count):
    parts = _checked_defaults()[("new_batch", language)]
    values = mail_values(language, {**MAIL_TYPES["new_batch"].sample, "device_count": count})
    rendered = render(parts["subject"], parts["html"], parts["text"], values)
    return rendered.text, rendered.html


@pytest.mark.parametrize("language, one, many, wrong", DEVICES, ids=[row[0] for row in DEVICES])
def test_a_new_batch_of_one_device_says_device_in_the_singular_in_every_language(language, one, many, wrong):
    for part in new_batch_text(language, 1):
        assert one in part and wrong not in part
    for part in new_batch_text(language, 250):
        assert many in part


DAY = {"de": "1 Tag", "en": "1 day", "es": "1 día", "fr": "1 jour", "it": "1 giorno", "sv": "1 dag", "nl": "1 dag"}


@pytest.mark.parametrize("mail_type", ["invite", "activation"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_link_valid_for_one_day_says_day_in_the_singular_in_every_language(mail_type, language):
    parts = _checked_defaults()[(mail_type, language)]
    values = mail_values(language, {**MAIL_TYPES[mail_type].sample, "valid_days": 1})
    rendered = render(parts["subject"], parts["html"], parts["text"], values)
    for part in (rendered.text, rendered.html):
        assert re.search(rf"\b{DAY[language]}\b", part), part


def test_zero_takes_the_singular_in_french_and_the_plural_in_english():
    assert phrases("fr", {"device_count": 0}) == {"device_count_text": "0 appareil"}
    assert phrases("en", {"device_count": 0}) == {"device_count_text": "0 devices"}


def test_a_dutch_hour_has_no_plural_form():
    assert [phrases("nl", {"valid_hours": n})["valid_hours_text"] for n in (1, 24)] == ["1 uur", "24 uur"]


@pytest.mark.parametrize(
    "language, expected",
    [("de", "1.250 Geräte"), ("en", "1,250 devices"), ("fr", f"1{NNBSP}250 appareils"), ("it", "1.250 dispositivi")],
)
def test_a_large_count_is_grouped_as_the_language_groups_numbers(language, expected):
    assert phrases(language, {"device_count": 1250}) == {"device_count_text": expected}


def test_a_moment_among_the_variables_is_written_in_the_language_with_its_zone():
    moment = datetime(2026, 12, 3, 18, 5, tzinfo=timezone.utc)
    assert phrases("fr", {"valid_until": moment}) == {
        "valid_until_text": "3 déc. 2026, 19:05 (heure normale d’Europe centrale)"
    }


def test_other_values_get_no_phrase():
    assert phrases("de", {"recipient_name": "Ada", "requires_confirmation": True, "device_serial": "WM-1"}) == {}


def test_an_unknown_language_gets_english_phrases():
    assert phrases("pt", {"valid_days": 7}) == {"valid_days_text": "7 days"}


@pytest.mark.parametrize("mail_type", sorted(MAIL_TYPES))
def test_a_types_sample_declares_the_english_phrase_of_each_of_its_counts(mail_type):
    sample = MAIL_TYPES[mail_type].sample
    declared = {name: value for name, value in sample.items() if name.endswith(SUFFIX)}
    assert declared == phrases("en", sample)
    assert {name for name in sample if name in COUNTED} == {name.removesuffix(SUFFIX) for name in declared}


def test_the_sample_a_preview_shows_speaks_the_templates_language():
    assert sample_values("new_batch", "de")["device_count_text"] == "250 Geräte"
    assert sample_values("password_reset", "sv")["valid_minutes_text"] == "60 minuter"


def test_an_organizations_copy_written_before_the_phrases_still_renders_and_a_new_one_may_use_them():
    older = "{{ device_count }} {{ 'Gerät' if device_count == 1 else 'Geräte' }}: {{ link }}"
    check_template("new_batch", "Lieferung", older, older)
    newer = "{{ device_count_text }}: {{ link }}"
    check_template("new_batch", "Lieferung", newer, newer)
    assert render("s", older, newer, sample_values("new_batch", "de")).text.startswith("250 Geräte: https://")


def test_a_sent_new_batch_mail_says_the_count_in_the_recipients_language(mailbox):
    variables = {**MAIL_TYPES["new_batch"].sample, "device_count": 1}
    send_mail("new_batch", "ada@example.com", "de", None, variables)
    [message] = mailbox.messages(to="ada@example.com")
    assert "1 Gerät zugewiesen" in mailbox.text(message)


def test_a_recipient_whose_language_has_no_template_reads_the_english_one_with_english_phrases(mailbox):
    TemplateSlotModel(TemplateSlotModel.slot_of("system", "invite", "sv")).delete()
    send_mail("invite", "ada@example.com", "sv", None, {**MAIL_TYPES["invite"].sample, "valid_days": 1})
    [message] = mailbox.messages(to="ada@example.com")
    assert "The link is valid for 1 day." in mailbox.text(message)


def test_a_french_subject_keeps_its_no_break_space_and_still_loses_every_line_break():
    parts = _checked_defaults()[("new_batch", "fr")]
    subject = render(parts["subject"], parts["html"], parts["text"], sample_values("new_batch", "fr")).subject
    assert subject == "Nouveaux appareils pour Stadtwerke Musterstadt\u00a0: lot PO-2026-0042"
    broken = render("a\u00a0:\u2028b\u0085c\u202f!\r\nd  e", "x", "x", {}).subject
    assert broken == "a\u00a0: b c\u202f! d e"


def test_a_mail_groups_its_numbers_by_the_recipients_thousands_separator_when_the_caller_gives_it(mailbox):
    variables = {**MAIL_TYPES["new_batch"].sample, "device_count": 1250}
    send_mail("new_batch", "ada@example.com", "de", None, variables, thousands_separator="'")
    send_mail("new_batch", "bob@example.com", "de", None, variables)
    assert "1'250 Geräte" in mailbox.text(mailbox.messages(to="ada@example.com")[0])
    assert "1.250 Geräte" in mailbox.text(mailbox.messages(to="bob@example.com")[0])
