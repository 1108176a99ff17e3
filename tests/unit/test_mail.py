"""Mail: the 63 defaults, the sandbox, template lookup, sending through SES and the outbox."""
import email
import email.policy
import re

import pytest

from chalicelib import mail
from chalicelib.mail import MailNotSent, TemplateInvalid, check_template, find_template, render, send_mail
from chalicelib.mail_types import LANGUAGES, MAIL_TYPES
from chalicelib.models import TemplateSlotModel
from chalicelib.services.templates import _checked_defaults, sync_default_templates
from tests.helpers import make_org
from tests.conftest import aws_client

# Small words that occur in running text of one language and hardly in the others.
WORDS = {
    "en": {"the", "your", "you", "and", "to", "has", "here", "is", "for", "with", "this"},
    "de": {"der", "die", "das", "und", "sie", "ihr", "ihre", "ist", "hier", "wir", "bei", "mit", "nicht"},
    "es": {"el", "la", "los", "las", "su", "de", "que", "para", "con", "aquí", "ha", "en", "y"},
    "fr": {"le", "la", "les", "vous", "votre", "de", "et", "pour", "est", "ici", "sur", "à", "un"},
    "it": {"il", "la", "lo", "di", "per", "è", "suo", "sua", "qui", "su", "e", "con", "ha"},
    "sv": {"och", "att", "din", "ditt", "för", "är", "här", "har", "du", "dig", "till", "med", "det"},
    "nl": {"de", "het", "een", "uw", "u", "en", "van", "is", "hier", "op", "voor", "met", "bij"},
}
ALL = [(mail_type, language) for mail_type in MAIL_TYPES for language in LANGUAGES]


def words(text):
    return re.findall(r"[^\W\d_]+", text.lower())


@pytest.mark.parametrize("mail_type, language", ALL, ids=lambda v: v)
def test_every_default_renders_its_sample_in_text_and_html_with_the_link(mail_type, language):
    parts = _checked_defaults()[(mail_type, language)]
    sample = MAIL_TYPES[mail_type].sample
    rendered = render(parts["subject"], parts["html"], parts["text"], sample)
    for part in (rendered.subject, rendered.html, rendered.text):
        assert "{{" not in part and "{%" not in part and "}}" not in part
    assert sample["link"] in rendered.text and f'href="{sample["link"]}"' in rendered.html
    for required in MAIL_TYPES[mail_type].required - {"link"}:
        assert str(sample[required]) in rendered.text and str(sample[required]) in rendered.html
    assert f'<html lang="{language}">' in rendered.html


@pytest.mark.parametrize("mail_type, language", ALL, ids=lambda v: v)
def test_every_default_is_written_in_the_language_it_claims(mail_type, language):
    parts = _checked_defaults()[(mail_type, language)]
    sample = {**MAIL_TYPES[mail_type].sample, "recipient_name": "X", "org_name": "X", "company_name": "X",
              "sender_org_name": "X", "installer_name": "X", "inviter_name": "X", "reason": "X"}
    text = render(parts["subject"], parts["html"], parts["text"], sample).text
    scores = {lang: sum(word in vocabulary for word in words(text)) for lang, vocabulary in WORDS.items()}
    assert max(scores, key=scores.get) == language, scores


@pytest.mark.parametrize("mail_type, language, expected", [
    ("invite", "en", "valid for 7 days"), ("invite", "de", "7 Tage gültig"),
    ("password_reset", "fr", "valable 60 minutes"), ("confirm_email", "nl", "24 uur geldig"),
    ("activation", "sv", "giltig i 14 dagar"), ("invite", "it", "valido per 7 giorni"),
])
def test_link_lifetimes_are_stated_in_human_units(mail_type, language, expected):
    parts = _checked_defaults()[(mail_type, language)]
    assert expected in render(parts["subject"], parts["html"], parts["text"], MAIL_TYPES[mail_type].sample).text


def test_a_lifetime_of_one_is_singular():
    parts = _checked_defaults()[("invite", "en")]
    text = render(parts["subject"], parts["html"], parts["text"], {**MAIL_TYPES["invite"].sample, "valid_days": 1}).text
    assert "valid for 1 day." in text


VALID_TEXT = "Hello {{ recipient_name }}: {{ link }}"


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ link.__class__.__base__.__subclasses__() }}",
    "{{ link['__class__'] }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ range(100000000) | list }}",
    "{{ 'x' * 100000000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{% if false %}{{ link.__class__ }}{% endif %}",
])
def test_sandbox_escapes_are_refused_when_saved(source):
    with pytest.raises(TemplateInvalid):
        check_template("invite", "Subject", VALID_TEXT, VALID_TEXT + source)


def test_a_syntax_error_is_refused_naming_the_line():
    with pytest.raises(TemplateInvalid, match="line 2"):
        check_template("invite", "Subject", VALID_TEXT, VALID_TEXT + "\n{% if %}")


def test_a_variable_the_type_does_not_have_is_refused_naming_it():
    with pytest.raises(TemplateInvalid, match="temporary_password"):
        check_template("invite", "Subject", VALID_TEXT, VALID_TEXT + "{{ temporary_password }}")


def test_a_template_without_its_link_is_refused():
    with pytest.raises(TemplateInvalid, match="link"):
        check_template("invite", "Subject", "Hello", VALID_TEXT)


def test_a_credentials_template_must_show_the_temporary_password():
    with pytest.raises(TemplateInvalid, match="temporary_password"):
        check_template("credentials", "Subject", VALID_TEXT + "{{ email }}", VALID_TEXT + "{{ email }}")


def test_html_escapes_variables_and_text_keeps_them():
    hostile = "<script>alert('x')</script>"
    rendered = render("Hi {{ recipient_name }}", "<p>{{ recipient_name }}</p>", "{{ recipient_name }}",
                      {"recipient_name": hostile})
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert rendered.text == hostile


def test_a_subject_never_carries_a_line_break_into_the_headers():
    rendered = render("Hi {{ recipient_name }}", "x", "x", {"recipient_name": "a\r\nBcc: victim@example.com"})
    assert "\n" not in rendered.subject and "\r" not in rendered.subject


@pytest.fixture
def defaults(aws):
    sync_default_templates()


def custom_template(owner, mail_type, language, marker):
    from datetime import datetime, timezone

    from chalicelib.models import MailTemplateModel

    now = datetime.now(timezone.utc)
    template_id = f"tpl_{owner}_{mail_type}_{language}"
    MailTemplateModel(template_id, owner=owner, sort_key=f"{mail_type}#{language}#{template_id}", mail_type=mail_type,
                      language=language, name=marker, subject=marker, html="{{ link }}", text="{{ link }}",
                      state="ACTIVE", created_at=now, updated_at=now).save()
    TemplateSlotModel(mail.slot_key(owner, mail_type, language), template_id=template_id).save()


def test_lookup_prefers_the_organization_then_its_parents_then_system(defaults):
    make_org("org_parent")
    make_org("org_child", parent_id="org_parent")
    make_org("org_other")
    custom_template("org_parent", "invite", "de", "parent-de")
    assert find_template("invite", "de", "org_child").subject == "parent-de"
    custom_template("org_child", "invite", "de", "child-de")
    assert find_template("invite", "de", "org_child").subject == "child-de"
    assert find_template("invite", "de", "org_other").is_default
    assert find_template("invite", "de", None).template_id == "tpl_system_invite_de"


def test_english_is_the_fallback_only_when_no_level_has_the_language(defaults):
    make_org("org_a")
    custom_template("org_a", "invite", "en", "org-en")
    assert find_template("invite", "sv", "org_a").template_id == "tpl_system_invite_sv"
    TemplateSlotModel(mail.slot_key("system", "invite", "sv")).delete()
    assert find_template("invite", "sv", "org_a").subject == "org-en"


def ses_messages():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"].sent_messages


@pytest.fixture
def ses(defaults, monkeypatch):
    monkeypatch.setattr(mail, "get_settings", lambda: _settings(mail_backend="ses"))
    aws_client("ses").verify_email_identity(EmailAddress="no-reply@keyport.local")


def _settings(**changes):
    import dataclasses

    from chalicelib.config import get_settings

    return dataclasses.replace(get_settings(), **changes)


def test_send_mail_sends_text_and_html_through_ses(ses):
    send_mail("invite", "ada@example.com", "fr", None, {**MAIL_TYPES["invite"].sample,
                                                        "link": "https://keyport.test/invite/T0KEN"})
    [sent] = ses_messages()
    raw = sent.raw_data.encode() if isinstance(sent.raw_data, str) else sent.raw_data
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == "ada@example.com" and message["Subject"].startswith("Invitation à rejoindre")
    parts = {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "https://keyport.test/invite/T0KEN" in parts["text/plain"] and "T0KEN" in parts["text/html"]


def test_a_refused_send_raises_mail_not_sent_and_logs_no_link(defaults, monkeypatch, caplog):
    monkeypatch.setattr(mail, "get_settings", lambda: _settings(mail_backend="ses"))  # sender never verified
    with pytest.raises(MailNotSent):
        send_mail("invite", "ada@example.com", "en", None, {**MAIL_TYPES["invite"].sample,
                                                            "link": "https://keyport.test/invite/S3CRET"})
    assert "S3CRET" not in caplog.text and "MessageRejected" in caplog.text


def test_the_outbox_keeps_an_eml_and_prints_its_links(defaults, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(mail, "get_settings", lambda: _settings(mail_backend="outbox", keyport_home=str(tmp_path)))
    send_mail("password_reset", "ada@example.com", "de", None, {**MAIL_TYPES["password_reset"].sample,
                                                                 "link": "http://127.0.0.1:8000/reset/T0KEN"})
    [eml] = list((tmp_path / "outbox").glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Passwort für keyport zurücksetzen"
    assert "http://127.0.0.1:8000/reset/T0KEN" in capsys.readouterr().out


def test_links_are_built_from_the_configured_base_url():
    assert mail.public_link("/invite/abc") == "https://keyport.test/invite/abc"
