"""The console's self-registration page (/console/register) as a person uses it: the form of
POST /public/registrations in the page's language, its refusals beside their fields, the one answer for every
address, and the page that says what happens next."""

import re
from html import unescape

import pytest

from tests.conftest import run_queued_jobs
from tests.console_browser import Browser, text_of
from tests.helpers import make_user

FORM = {
    "kind": "installer",
    "name": "Ines Installer",
    "email": "ines@schmidt.example",
    "phone": "+49 151 2345-6789",  # as people write it; stored as E.164
    "company_name": "Schmidt Haustechnik",
    "company_address": "Hauptstr. 1, 24103 Kiel",
    "language": "de",
}
SENT = "/console/register/sent"


@pytest.fixture
def operator(login_as, mailbox):
    return login_as("OPERATOR", org_id="root")


def pending(api, operator):
    """The registrations the operator's review queue holds (after the worker's turn)."""
    run_queued_jobs()
    response = api.call("GET", "/registrations?state=PENDING", token=operator)
    assert response.status_code == 200, response.body
    return response.data["items"]


def error_beside(html, name):
    """The message shown beside a field (None when the field shows none)."""
    found = re.search(rf'<span class="field-error" id="{name}-error">([^<]*)</span>', html)
    return unescape(found.group(1)) if found else None


def value_of(html, name):
    """The value a text field of the page holds."""
    found = re.search(rf'<input type="[a-z]+" id="{name}" name="{name}" value="([^"]*)"', html)
    assert found, f"no field {name}"
    return unescape(found.group(1))


def register(api, form=FORM, language="en"):
    """Open the page in a language and send the form, following the redirect."""
    browser = Browser(api.client)
    browser.get(f"/console/register?lang={language}")
    return browser.post("/console/register", form)


@pytest.mark.parametrize(
    "language, title, button",
    [
        ("de", "Unternehmen registrieren", "Registrierung senden"),
        ("fr", "Inscrire votre entreprise", "Envoyer l'inscription"),
        ("it", "Registri la Sua azienda", "Invii la registrazione"),
        ("en", "Register your company", "Send registration"),
    ],
)
def test_the_page_speaks_the_language_chosen_and_offers_it_for_the_mails(api, language, title, button):
    page = Browser(api.client).get(f"/console/register?lang={language}")
    assert page.status_code == 200 and f'<html lang="{language}">' in page.text
    assert title in text_of(page.text) and button in text_of(page.text)
    assert f'<option value="{language}" lang="{language}" selected>' in page.text
    assert 'name="csrf"' in page.text and "keyport" in text_of(page.text)


def test_a_valid_registration_leads_to_what_happens_next_and_is_stored_as_the_json_route_stores_it(
    api, operator, mailbox
):
    page = register(api, language="de")
    assert page.status_code == 200 and page.path == SENT
    words = text_of(page.text)
    assert "Ihre Registrierung wurde gesendet" in words and "vorläufiges Passwort" in words
    assert 'href="/console/login"' in page.text
    json_twin = {**FORM, "email": "json@schmidt.example", "phone": "+4915123456789"}
    assert api.call("POST", "/public/registrations", json_twin).status_code == 202
    by_page, by_json = sorted(pending(api, operator), key=lambda item: item["email"] != FORM["email"])
    assert by_page["email"] == "ines@schmidt.example" and by_page["phone"] == "+4915123456789"
    same = ("kind", "state", "name", "phone", "company_name", "company_address", "language")
    assert {key: by_page[key] for key in same} == {key: by_json[key] for key in same}
    [message] = mailbox.messages(to="ines@schmidt.example")
    assert message["X-Keyport-Mail-Type"] == "registration_received"
    assert message["Subject"] == "Wir haben Ihre Registrierung erhalten"


def test_a_known_address_gets_the_same_answer_and_page_as_a_new_one(api, operator, mailbox):
    make_user(email="known@schmidt.example", roles=("VIEWER",))
    answers = []
    for email in ("new@schmidt.example", "known@schmidt.example"):
        browser = Browser(api.client)
        browser.get("/console/register?lang=en")
        sent = browser.post("/console/register", {**FORM, "email": email}, follow=False)
        answers.append((sent.status_code, sent.headers.get("Location"), sent.text, text_of(browser.get(SENT).text)))
    assert answers[0] == answers[1] and answers[0][:2] == (303, SENT)
    assert [item["email"] for item in pending(api, operator)] == ["new@schmidt.example"]
    [message] = mailbox.messages(to="known@schmidt.example")
    assert "bereits ein Konto" in mailbox.text(message)  # the known address learns it in its own inbox only


@pytest.mark.parametrize(
    "changed, shown_beside",
    [
        ({"kind": ""}, {"kind": "Choose what your company does."}),
        ({"kind": "plumber"}, {"kind": "Choose what your company does."}),
        ({"email": "ines@"}, {"email": "Enter an e-mail address like name@example.com."}),
        (
            {"phone": "0431 12345"},
            {"phone": "Enter the phone number with + and the country code, like +49 151 23456789."},
        ),
        (
            {"name": "  ", "company_name": ""},
            {"name": "Enter your name.", "company_name": "Enter the name of your company."},
        ),
        ({"company_name": "S" * 201}, {"company_name": "This is too long."}),
        ({"language": "pl"}, {"language": "Check this entry."}),
    ],
)
def test_a_refused_field_is_shown_beside_it_with_422_the_values_kept_and_nothing_stored(
    api, operator, mailbox, changed, shown_beside
):
    page = register(api, {**FORM, **changed})
    assert page.status_code == 422 and page.path == "/console/register"
    for name in FORM:
        assert error_beside(page.text, name) == shown_beside.get(name)
    for name, message in shown_beside.items():
        assert f'<a href="#{name}">{message}</a>' in unescape(page.text)  # the summary leads to the field
    for name in ("name", "email", "phone", "company_name", "company_address"):
        assert value_of(page.text, name) == {**FORM, **changed}[name].strip()
    assert pending(api, operator) == [] and mailbox.messages() == []


@pytest.mark.parametrize(
    "token, origin",
    [(None, None), ("forged", None), ("page", "https://elsewhere.example")],
    ids=["no token", "a wrong token", "another site"],
)
def test_a_registration_without_the_page_s_form_token_or_from_another_site_is_refused_and_nothing_stored(
    api, operator, mailbox, token, origin
):
    browser = Browser(api.client, origin=origin)
    browser.get("/console/register")
    refused = browser.post("/console/register", FORM, csrf=token)
    assert refused.status_code == 403 and "This form has expired" in text_of(refused.text)
    assert pending(api, operator) == [] and mailbox.messages() == []


def test_a_fourth_registration_of_one_address_within_the_hour_is_refused_beside_it_as_the_api_refuses(
    api, operator, mailbox
):
    for _ in range(3):
        assert register(api).path == SENT
    page = register(api)
    assert page.status_code == 429 and page.path == "/console/register"
    assert error_beside(page.text, "email").startswith("Too many registrations for this address")
    assert value_of(page.text, "email") == "ines@schmidt.example"
