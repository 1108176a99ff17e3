"""No dead link: every mail type goes out through the real flows, and every link in it (HTML and text parts) opens
an HTML page in the recipient's language for an anonymous browser, never JSON or a refusal; a spent link opens the
dead-link page; the page after a finished link leads to sign-in with the address filled; every link an API answer
returns opens a page too."""

import html
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from chalicelib import clock, console_paths
from chalicelib.mail_types import MAIL_TYPES
from tests.conftest import run_queued_jobs
from tests.helpers import make_device, make_org, make_user

BASE = "https://keyport.test"  # KEYPORT_PUBLIC_BASE_URL of the tests
PASSWORD = "Linked-Passw0rd-2026"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
APPLICANT = {
    "kind": "installer",
    "name": "Ines Installer",
    "phone": "+4915123456789",
    "company_name": "Schmidt Haustechnik",
    "company_address": "Hauptstr. 1, 24103 Kiel",
}


@pytest.fixture
def world(api, mailbox, login_as):
    """An operator; acme with its ORG_ADMIN; a maker partnered with acme, with devices; an installer company with a
    device to install."""
    make_org("acme", name="Acme Metering")
    make_org("maker", name="Meter Works")
    make_org("schmidt", name="Schmidt Haustechnik")
    operator = login_as("OPERATOR", org_id="root")
    assert api.call("POST", "/orgs/maker/partners", {"partner_org_id": "acme"}, token=operator).status_code == 201
    make_device("M-01", "maker")
    make_device("WM-1", id_code="ID0001", mac="00:1a:2b:3c:4d:01", product_type="water-meter")
    make_user(email="maker@example.com", org_id="maker", roles=("VIEWER",), permissions=("batches.manage",))
    return {
        "operator": operator,
        "admin": login_as("ORG_ADMIN", org_id="acme", email="boss@acme.example", language="fr"),
        "maker": api.login("maker@example.com"),
        "installer": login_as("INSTALLER", org_id="schmidt"),
    }


def _ok(response):
    assert response.status_code in (200, 201, 202, 204), response.body
    return response.data


# Each mail type sent as keyport sends it: (the flow, the recipient's address, the recipient's language).
def _invite(api, world):
    invitation = _ok(
        api.call(
            "POST",
            "/invitations",
            {"name": "Ivy", "email": "ivy@example.com", "org_id": "acme", "roles": ["VIEWER"], "language": "it"},
            token=world["admin"],
        )
    )
    _ok(api.call("POST", f"/invitations/{invitation['id']}/send", token=world["admin"]))
    _ok(api.call("POST", f"/invitations/{invitation['id']}/send", token=world["admin"]))  # the resend, too


def _confirm_email(api, world):
    make_user(email="nils@example.com", org_id="acme", language="nl")
    _ok(api.call("POST", "/me/email", {"new_email": "nils.new@example.com"}, token=api.login("nils@example.com")))


def _password_reset(api, world):
    make_user(email="sven@example.com", org_id="acme", language="sv")
    _ok(api.call("POST", "/public/password-resets", {"email": "sven@example.com"}))
    run_queued_jobs()


def _new_batch(api, world):
    body = {"reference": "PO-7", "org_id": "acme", "serials": ["M-01"], "requires_confirmation": True}
    _ok(api.call("POST", "/batches", body, token=world["maker"]))


def _credentials(api, world):
    body = {"name": "Elena", "email": "elena@example.com", "org_id": "acme", "roles": ["VIEWER"], "language": "es"}
    _ok(api.call("POST", "/users", body, token=world["admin"]))


def _activation(api, world):
    body = {
        "id_code": "ID-0001",
        "mac": "00:1a:2b:3c:4d:01",
        "customer": {"email": "erika@example.com", "name": "Erika Mustermann"},
        "language": "de",
    }
    _ok(api.call("POST", "/installations", body, token=world["installer"]))


def _registration_received(api, world):
    _ok(api.call("POST", "/public/registrations", {**APPLICANT, "email": "rita@example.com", "language": "it"}))
    run_queued_jobs()


def _decided(api, world, email, language, decision, body=None):
    _ok(api.call("POST", "/public/registrations", {**APPLICANT, "email": email, "language": language}))
    run_queued_jobs()
    pending = _ok(api.call("GET", "/registrations?state=PENDING", token=world["operator"]))["items"]
    [registration] = [item for item in pending if item["email"] == email]
    _ok(api.call("POST", f"/registrations/{registration['id']}/{decision}", body, token=world["operator"]))


def _registration_approved(api, world):
    _decided(api, world, "anna@example.com", "fr", "approve")


def _registration_rejected(api, world):
    _decided(api, world, "rolf@example.com", "nl", "reject", {"reason": "We could not verify the company."})


SENDS = {
    "invite": (_invite, "ivy@example.com", "it"),
    "confirm_email": (_confirm_email, "nils.new@example.com", "nl"),
    "password_reset": (_password_reset, "sven@example.com", "sv"),
    "new_batch": (_new_batch, "boss@acme.example", "fr"),
    "credentials": (_credentials, "elena@example.com", "es"),
    "activation": (_activation, "erika@example.com", "de"),
    "registration_received": (_registration_received, "rita@example.com", "it"),
    "registration_approved": (_registration_approved, "anna@example.com", "fr"),
    "registration_rejected": (_registration_rejected, "rolf@example.com", "nl"),
}
TOKEN_LINKS = {  # the mails whose link is a one-time token, and the form that finishes it as the recipient would
    "invite": {"name": "Ivy", "password": PASSWORD, "password_repeat": PASSWORD},
    "activation": {"name": "Erika Mustermann", "password": PASSWORD, "password_repeat": PASSWORD},
    "password_reset": {"password": PASSWORD, "password_repeat": PASSWORD},
    "confirm_email": {"confirm": "yes"},
}


def links_in(mailbox, message):
    """Every link of a mail: the href of each anchor of its HTML part, and each address in either part's text."""
    text = mailbox.text(message)
    markup = message.get_body(preferencelist=("html",)).get_content()
    found = {html.unescape(href) for href in re.findall(r'href="([^"]+)"', markup)}
    found |= {html.unescape(url) for url in re.findall(r"https?://[^\s<>\"']+", markup)}
    found |= set(re.findall(r"https?://[^\s<>\"']+", text))
    return {url.rstrip(".,;:)") for url in found}


def mails_of(mailbox, mail_type, to):
    return [message for message in mailbox.messages(to=to) if message["X-Keyport-Mail-Type"] == mail_type]


def sent_links(api, world, mailbox, mail_type):
    """Send the mail type through its real flow; answer its links and its recipient's language."""
    send, to, language = SENDS[mail_type]
    send(api, world)
    messages = mails_of(mailbox, mail_type, to)
    assert messages, f"no {mail_type} mail went to {to}"
    links = set().union(*(links_in(mailbox, message) for message in messages))
    assert links, f"the {mail_type} mail carries no link"
    return links, language


def open_as_recipient(api, url, language):
    """Open a link as the recipient's browser does (no session, its language first): follow a redirect to sign-in;
    answer the final page's response and path. Asserts that it is an HTML page in the recipient's language."""
    assert url.startswith(BASE + "/"), f"{url} is not one of keyport's pages"
    path = url[len(BASE) :]
    headers = {"Accept-Language": f"{language}, en;q=0.5", "Accept": "text/html"}
    response = api.client.http.get(path, headers=headers)
    if response.status_code == 303:  # a signed-in page: to sign-in, and from there back to it
        location = response.headers["Location"]
        target = urlsplit(path).path
        assert urlsplit(location).path == "/console/login" and parse_qs(urlsplit(location).query)["next"] == [target]
        path, response = location, api.client.http.get(location, headers=headers)
    page = response.body.decode()
    assert response.status_code == 200, (url, response.status_code, page[:300])
    assert response.headers["Content-Type"].startswith("text/html"), (url, response.headers)
    assert f'<html lang="{language}">' in page, (url, page[:300])
    return page, path


def assert_the_address_is_filled(page, path):
    """A sign-in link that names an address shows it in the e-mail field."""
    parts = urlsplit(path)
    if parts.path == "/console/login" and "email" in parse_qs(parts.query):
        [email] = parse_qs(parts.query)["email"]
        assert re.search(rf'<input[^>]*id="email"[^>]*value="{re.escape(html.escape(email))}"', page), page


def test_every_mail_type_is_sent_here():
    assert set(SENDS) == set(MAIL_TYPES)


def test_every_console_path_a_link_is_built_from_is_a_console_page():
    import app  # noqa: F401  (registers the pages)
    from chalicelib.web.console import PAGES

    pages = {spec.path for spec in PAGES if spec.method == "GET"}
    named = {console_paths.SIGN_IN, console_paths.REGISTER, console_paths.PORTAL}
    assert sorted(named - pages) == []
    assert "/console/batches/{batch_id}" in pages and console_paths.batch_path("bat_x") == "/console/batches/bat_x"


@pytest.mark.parametrize("mail_type", sorted(SENDS))
def test_every_link_of_every_mail_opens_a_page_in_the_recipients_language(api, world, mailbox, mail_type):
    links, language = sent_links(api, world, mailbox, mail_type)
    for url in sorted(links):
        page, path = open_as_recipient(api, url, language)
        assert_the_address_is_filled(page, path)


@pytest.mark.parametrize("mail_type", sorted(TOKEN_LINKS))
def test_a_finished_link_leads_to_sign_in_with_the_address_filled_and_is_dead_after(api, world, mailbox, mail_type):
    links, language = sent_links(api, world, mailbox, mail_type)
    [url] = {url for url in links if url.startswith(BASE)}
    path = url[len(BASE) :]
    done = api.client.http.post(path, body=urlencode(TOKEN_LINKS[mail_type]), headers=FORM)
    finished = done.body.decode()
    assert done.status_code == 200 and 'id="success"' in finished, finished
    sign_in = html.unescape(re.search(r'<a id="sign_in" href="([^"]+)"', finished).group(1))
    assert urlsplit(sign_in).path == "/console/login" and parse_qs(urlsplit(sign_in).query)["email"]
    page, opened = open_as_recipient(api, BASE + sign_in, language)
    assert_the_address_is_filled(page, opened)
    # the spent link: the dead-link page, a page in the browser's language (it no longer knows its reader)
    dead = api.client.http.get(path, headers={"Accept-Language": language})
    assert dead.status_code == 200 and 'id="dead"' in dead.body.decode()
    assert dead.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("mail_type", sorted(TOKEN_LINKS))
def test_an_expired_link_opens_the_dead_link_page(api, world, mailbox, monkeypatch, mail_type):
    links, language = sent_links(api, world, mailbox, mail_type)
    [url] = links
    later = time.time() + 31 * 24 * 3600  # past every link's lifetime (30 days at most: an invitation's)
    monkeypatch.setattr(clock, "seconds", lambda: later)
    dead = api.client.http.get(url[len(BASE) :], headers={"Accept-Language": language})
    assert dead.status_code == 200 and 'id="dead"' in dead.body.decode()
    assert dead.headers["Content-Type"].startswith("text/html") and f'<html lang="{language}">' in dead.body.decode()


@pytest.mark.parametrize("mail_type", ["credentials", "registration_approved", "registration_received"])
def test_a_mailed_sign_in_link_speaks_the_recipients_language_in_a_borrowed_browser(api, world, mailbox, mail_type):
    links, language = sent_links(api, world, mailbox, mail_type)
    borrowed = "en" if language != "en" else "de"
    for url in links:
        response = api.client.http.get(url[len(BASE) :], headers={"Accept-Language": borrowed})
        assert response.status_code == 200 and f'<html lang="{language}">' in response.body.decode()


def test_every_link_an_api_answer_returns_opens_a_page(api, world):
    invitation = _ok(
        api.call("POST", "/invitations", {"name": "Ivy", "org_id": "acme", "roles": ["VIEWER"]}, token=world["admin"])
    )
    access = _ok(api.call("POST", "/portal-access", {"scope": {"type": "org", "id": "acme"}}, token=world["admin"]))
    for url in (invitation["link"], access["link"]):
        open_as_recipient(api, url, "en")
