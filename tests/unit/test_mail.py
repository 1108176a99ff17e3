"""Mail: the 63 defaults, the sandbox, template lookup, sending through SES and the outbox."""

import email
import email.policy
import re

import pytest

from chalicelib import mail
from chalicelib.fields import LANGUAGES
from chalicelib.mail import (
    MailNotSent,
    TemplateInvalid,
    check_template,
    find_template,
    mail_values,
    render,
    sample_values,
    send_mail,
)
from chalicelib.mail_types import MAIL_TYPES
from chalicelib.models import TemplateSlotModel
from chalicelib.services.mail_templates.templates import _checked_defaults, sync_default_templates
from tests.conftest import aws_client
from tests.helpers import emitted_metrics, make_org

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
    sample = sample_values(mail_type, language)
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
    sample = {
        **sample_values(mail_type, language),
        "recipient_name": "X",
        "org_name": "X",
        "company_name": "X",
        "sender_org_name": "X",
        "installer_name": "X",
        "inviter_name": "X",
        "reason": "X",
    }
    text = render(parts["subject"], parts["html"], parts["text"], sample).text
    scores = {lang: sum(word in vocabulary for word in words(text)) for lang, vocabulary in WORDS.items()}
    assert max(scores, key=scores.get) == language, scores


@pytest.mark.parametrize(
    "mail_type, language, expected",
    [
        ("invite", "en", "valid for 7 days"),
        ("invite", "de", "7 Tage gültig"),
        ("password_reset", "fr", "valable 60 minutes"),
        ("confirm_email", "nl", "24 uur geldig"),
        ("activation", "sv", "giltig i 14 dagar"),
        ("invite", "it", "valido per 7 giorni"),
    ],
)
def test_link_lifetimes_are_stated_in_human_units(mail_type, language, expected):
    parts = _checked_defaults()[(mail_type, language)]
    assert expected in render(parts["subject"], parts["html"], parts["text"], sample_values(mail_type, language)).text


def test_a_lifetime_of_one_is_singular():
    parts = _checked_defaults()[("invite", "en")]
    values = mail_values("en", {**MAIL_TYPES["invite"].sample, "valid_days": 1})
    assert "valid for 1 day." in render(parts["subject"], parts["html"], parts["text"], values).text


VALID_TEXT = "Hello {{ recipient_name }}: {{ link }}"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ link.__class__.__base__.__subclasses__() }}",
        "{{ link['__class__'] }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ range(100000000) | list }}",
        "{{ 'x' * 100000000 }}",
        "{{ 9 ** (9 ** 9) }}",  # jinja2 reads 9 ** 9 ** 9 as (9 ** 9) ** 9, a small number
        "{% if false %}{{ link.__class__ }}{% endif %}",
    ],
)
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
    rendered = render(
        "Hi {{ recipient_name }}", "<p>{{ recipient_name }}</p>", "{{ recipient_name }}", {"recipient_name": hostile}
    )
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
    MailTemplateModel(
        template_id,
        owner=owner,
        sort_key=f"{mail_type}#{language}#{template_id}",
        mail_type=mail_type,
        language=language,
        name=marker,
        subject=marker,
        html="{{ link }}",
        text="{{ link }}",
        state="ACTIVE",
        created_at=now,
        updated_at=now,
    ).save()
    TemplateSlotModel(TemplateSlotModel.slot_of(owner, mail_type, language), template_id=template_id).save()


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
    TemplateSlotModel(TemplateSlotModel.slot_of("system", "invite", "sv")).delete()
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
    send_mail(
        "invite",
        "ada@example.com",
        "fr",
        None,
        {**MAIL_TYPES["invite"].sample, "link": "https://keyport.test/invite/T0KEN"},
    )
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
        send_mail(
            "invite",
            "ada@example.com",
            "en",
            None,
            {**MAIL_TYPES["invite"].sample, "link": "https://keyport.test/invite/S3CRET"},
        )
    assert "S3CRET" not in caplog.text and "MessageRejected" in caplog.text


def test_a_refused_mail_and_a_refused_text_message_each_count_one_failed_mail(defaults, monkeypatch, capsys):
    from chalicelib import observability

    observability.metrics().clear_metrics()
    monkeypatch.setattr(mail, "get_settings", lambda: _settings(mail_backend="ses"))  # sender never verified
    with pytest.raises(MailNotSent):
        send_mail("invite", "ada@example.com", "en", None, MAIL_TYPES["invite"].sample)
    monkeypatch.setattr(mail, "_sns", lambda: aws_client("sqs"))  # a client without publish(): the send fails
    with pytest.raises(MailNotSent):
        mail.send_sms("+4915123456789", "Your password: x")
    capsys.readouterr()
    observability.flush_metrics()
    assert emitted_metrics(capsys.readouterr().out) == [("keyport-test", {"service": "keyport"}, {"MailsFailed": 2})]


def test_a_mail_without_any_template_counts_as_failed(aws, capsys):
    from chalicelib import observability

    observability.metrics().clear_metrics()
    with pytest.raises(MailNotSent, match="sync-templates"):  # no template was ever synced
        send_mail("invite", "ada@example.com", "en", None, MAIL_TYPES["invite"].sample)
    capsys.readouterr()
    observability.flush_metrics()
    assert emitted_metrics(capsys.readouterr().out) == [("keyport-test", {"service": "keyport"}, {"MailsFailed": 1})]


@pytest.mark.parametrize(
    "sender_id, expected", [("Keyport", {"DataType": "String", "StringValue": "Keyport"}), (None, None)]
)
def test_a_text_message_names_the_configured_sender_id(aws, monkeypatch, sender_id, expected):
    monkeypatch.setattr(mail, "get_settings", lambda: _settings(mail_backend="ses", sms_sender_id=sender_id))
    sent = []
    client = mail._sns()
    capture = lambda params, **_: sent.append(params["MessageAttributes"])  # noqa: E731
    client.meta.events.register("provide-client-params.sns.Publish", capture)
    try:
        mail.send_sms("+4915123456789", "hello")
    finally:
        client.meta.events.unregister("provide-client-params.sns.Publish", capture)
    assert sent[0].get("AWS.SNS.SMS.SenderID") == expected
    assert sent[0]["AWS.SNS.SMS.SMSType"]["StringValue"] == "Transactional"


def test_the_outbox_keeps_an_eml_and_prints_its_links(defaults, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(mail, "get_settings", lambda: _settings(mail_backend="outbox", keyport_home=str(tmp_path)))
    send_mail(
        "password_reset",
        "ada@example.com",
        "de",
        None,
        {**MAIL_TYPES["password_reset"].sample, "link": "http://127.0.0.1:8000/reset/T0KEN"},
    )
    [eml] = list((tmp_path / "outbox").glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Passwort für keyport zurücksetzen"
    assert "http://127.0.0.1:8000/reset/T0KEN" in capsys.readouterr().out


def test_links_are_built_from_the_configured_base_url():
    assert mail.public_link("/invite/abc") == "https://keyport.test/invite/abc"


# Bounds on rendering (issue 17, item 4): each of these would hold the process or its memory without them.
TOO_COSTLY = {
    "an_integer_squared_past_the_bound": "{{ (10 ** 300) * (10 ** 300) }}",
    "a_power_past_the_bound": "{{ 10 ** 400 }}",
    "a_repeated_list": "{{ ([0] * 20000000) | length }}",
    "a_repeated_string": "{{ (link * 3000) | length }}",
    "string_concatenation_with_plus": "{{ (link * 2000 + link * 2000) | length }}",
    "string_concatenation_with_tilde": "{% set a = link * 1000 %}{% set b = a ~ a ~ a %}",
    "a_center_filter_width": "{{ 'x' | center(50000000) }}",
    "a_center_method_width": "{{ link.center(50000000) }}",
    "an_ljust_method_width": "{{ link.ljust(50000000) }}",
    "a_str_format_width": "{{ '{:>99999999}'.format(link) }}",
    "a_str_format_width_from_the_arguments": "{{ ('{0!r:>{1}}' | attr('format'))(link, 99999999) }}",
    "a_str_format_precision": "{{ '{:.99999999f}'.format(1.5) }}",
    "a_percent_format_filter_width": "{{ '%99999999s' | format(link) }}",
    "a_percent_operator_width": "{{ '%99999999s' % link }}",
    "a_percent_width_from_the_arguments": "{{ '%*s' % (99999999, link) }}",
    "a_percent_width_after_a_mapping_key": "{{ '%(a)99999999s' % {'a': link} }}",
    "an_indent_on_every_one_of_many_lines": "{{ ('a\\n' * 40000) | indent(100) }}",
    "a_translate_table_that_grows_each_character": "{{ (link * 2000).translate({104: link * 2000}) }}",
    "expanding_many_tabs": "{{ ('\\t' * 90000).expandtabs(1000) | length }}",
    "a_filter_mapped_over_many_copies": "{{ ([link * 2000] * 100000) | map('upper') | list | length }}",
    "chained_replace_filters": "{{ 'xxxxxxxxxx'" + " | replace('x', 'xxxxxxxxxx')" * 6 + " }}",
    "chained_replace_methods": "{{ 'xxxxxxxxxx'" + ".replace('x', 'xxxxxxxxxx')" * 6 + " }}",
    "a_join_past_the_bound": "{{ (link * 1000) | list | join(link * 100) }}",
    "a_range_past_the_bound": "{% for i in range(1001) %}{% endfor %}",
    "nested_loops_without_output": "{% set r = range(1000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}",
    "output_past_the_bound": "{% for i in range(1000) %}{{ link * 1000 }}{% endfor %}",
    "output_captured_by_a_set_block": "{% set x %}{% for i in range(1000) %}{{ link * 1000 }}{% endfor %}{% endset %}",
    "an_exponential_macro": (
        "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(40) }}"
    ),
}


@pytest.mark.parametrize("source", TOO_COSTLY.values(), ids=TOO_COSTLY.keys())
def test_a_template_too_costly_to_render_is_refused_naming_the_bound(source):
    with pytest.raises(TemplateInvalid, match="too costly"):
        check_template("invite", "Subject", VALID_TEXT, VALID_TEXT + source)


@pytest.mark.parametrize("name", ["namespace", "lipsum", "joiner", "cycler"])
def test_globals_a_mail_does_not_need_are_unknown(name):
    with pytest.raises(TemplateInvalid, match=f"unknown variable.*{name}"):
        check_template("invite", "Subject", VALID_TEXT, VALID_TEXT + "{{ " + name + "() }}")


@pytest.mark.parametrize(
    "source",
    [
        "{{ link | sum }}",
        "{{ link | wordwrap(5) }}",
        "{{ link | no_such_filter }}",
        "{% if link is no_such_test %}x{% endif %}",
    ],
)
def test_an_unknown_or_withdrawn_filter_or_test_is_refused(source):
    with pytest.raises(TemplateInvalid, match="no_such|No filter named|sum|wordwrap"):
        check_template("invite", "Subject", VALID_TEXT, source)


def test_modest_formatting_loops_and_arithmetic_still_render():
    source = (
        "{{ '{:>8}'.format(recipient_name) }}|{{ '%05.1f' | format(2.25) }}|{{ 'ab' | center(6) }}|"
        "{% for i in range(3) %}{{ i * 2 }}{% endfor %}|{{ recipient_name ~ '!' }}|{{ 2 ** 10 }}|"
        "{{ link | replace('https', 'http') }}|{{ ['a', 'b'] | join(', ') }}"
    )
    rendered = render("s", "x", source, {"recipient_name": "Ada", "link": "https://k.test"})
    assert rendered.text == "     Ada|002.2|  ab  |024|Ada!|1024|http://k.test|a, b"


def test_html_formatting_still_escapes_what_it_formats():
    rendered = render("s", "{{ '{}|{:>4}'.format(x, y) }}{{ '<i>' ~ x }}", "t", {"x": "<b>", "y": "<"})
    assert rendered.html == "&lt;b&gt;|   &lt;&lt;i&gt;&lt;b&gt;"


def stored_template(owner, mail_type, language, text):
    """An ACTIVE template saved without the save-time check, as an older release could have stored it."""
    from datetime import datetime, timezone

    from chalicelib.models import MailTemplateModel

    now = datetime.now(timezone.utc)
    template_id = f"tpl_{owner}_{mail_type}_{language}"
    MailTemplateModel(
        template_id,
        owner=owner,
        sort_key=f"{mail_type}#{language}#{template_id}",
        mail_type=mail_type,
        language=language,
        name="stored",
        subject="Hi",
        html="{{ link }}",
        text=text,
        state="ACTIVE",
        created_at=now,
        updated_at=now,
    ).save()
    TemplateSlotModel(TemplateSlotModel.slot_of(owner, mail_type, language), template_id=template_id).save()


def test_a_send_that_hits_a_bound_fails_that_mail_only(defaults, monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(mail, "get_settings", lambda: _settings(mail_backend="outbox", keyport_home=str(tmp_path)))
    make_org("org_costly")
    make_org("org_plain")
    stored_template("org_costly", "invite", "en", "{{ link }}{% for i in range(1000) %}{{ link * 1000 }}{% endfor %}")
    variables = {**MAIL_TYPES["invite"].sample, "link": "https://keyport.test/invite/S3CRET"}
    with pytest.raises(MailNotSent):
        send_mail("invite", "ada@example.com", "en", "org_costly", variables)
    assert "too costly" in caplog.text and "S3CRET" not in caplog.text
    send_mail("invite", "bob@example.com", "en", "org_plain", variables)
    [eml] = list((tmp_path / "outbox").glob("*.eml"))
    assert "bob@example.com" in eml.read_text()
