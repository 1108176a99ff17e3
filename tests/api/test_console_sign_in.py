"""Signing in and out of the console: the session cookie, CSRF and Origin checks, the shared lockout, the forced
password change, the organization acted for, languages."""

import re

import pytest

from chalicelib.config import get_settings
from chalicelib.services.accounts.sessions import end_sessions_of_user, open_session
from tests.console_browser import Browser, text_of
from tests.helpers import STRONG_PASSWORD, make_org, make_user

WRONG = "The e-mail address or the password is wrong"


@pytest.fixture
def browser(api):
    """An anonymous browser over the app."""
    return Browser(api.client)


def signed_in(api, user):
    """A browser holding a session of the user (opened without a password hash: tests of pages, not of login)."""
    token, _ = open_session(user)
    browser = Browser(api.client)
    browser.cookies["kp_session"] = token
    return browser


def test_signing_in_opens_home_with_the_person_and_their_organization(browser):
    make_user(email="ada@example.com", name="Ada Meyer", roles=("KEY_MANAGER",))
    page = browser.sign_in("ada@example.com")
    assert (page.status_code, page.path) == (200, "/console/")
    assert "Welcome, Ada Meyer" in text_of(page.text) and "You act for keyport operators." in text_of(page.text)
    assert "Sign out" in page.text


def test_the_session_cookie_is_httponly_lax_bound_to_the_console_and_secure_off_the_laptop(browser):
    make_user(email="ada@example.com")
    browser.get("/console/login")
    answer = browser.post("/console/login", {"email": "ada@example.com", "password": STRONG_PASSWORD}, follow=False)
    assert answer.status_code == 303
    cookie = answer.headers["Set-Cookie"]
    cookie = next(value for value in ([cookie] if isinstance(cookie, str) else cookie) if value.startswith("kp_"))
    assert cookie.startswith("kp_session=")
    assert {"HttpOnly", "SameSite=Lax", "Path=/console", "Secure"} <= {part.strip() for part in cookie.split(";")}
    assert not get_settings().is_local  # the test stage is not the laptop's local stage: Secure is on


def test_a_wrong_password_and_an_unknown_address_get_the_same_page(browser):
    make_user(email="ada@example.com")
    browser.get("/console/login")
    wrong = browser.post("/console/login", {"email": "ada@example.com", "password": "Not-the-Passw0rd!"})
    unknown = browser.post("/console/login", {"email": "nobody@example.com", "password": "Not-the-Passw0rd!"})
    assert wrong.status_code == unknown.status_code == 401
    assert text_of(wrong.text).replace("ada@", "X@") == text_of(unknown.text).replace("nobody@", "X@")
    assert WRONG in text_of(wrong.text) and "kp_session" not in browser.cookies


def test_the_form_keeps_the_address_and_never_the_password(browser):
    browser.get("/console/login")
    page = browser.post("/console/login", {"email": "ada@example.com", "password": "Secret-Passw0rd!"})
    assert 'value="ada@example.com"' in page.text and "Secret-Passw0rd!" not in page.text


def test_empty_fields_are_named_beside_them(browser):
    browser.get("/console/login")
    page = browser.post("/console/login", {"email": "", "password": ""})
    assert page.status_code == 422
    assert "Enter your e-mail address." in page.text and "Enter your password." in page.text
    assert 'aria-invalid="true"' in page.text


def test_a_form_without_its_token_or_from_another_site_is_refused_and_signs_nobody_in(browser):
    make_user(email="ada@example.com")
    browser.get("/console/login")
    form = {"email": "ada@example.com", "password": STRONG_PASSWORD}
    assert browser.post("/console/login", form, csrf=None).status_code == 403
    assert browser.post("/console/login", form, csrf="forged").status_code == 403
    browser.get("/console/login")
    assert browser.post("/console/login", form, headers={"Origin": "https://evil.example"}).status_code == 403
    browser.get("/console/login")
    assert browser.post("/console/login", form, headers={"Origin": "null"}).status_code == 403
    assert "kp_session" not in browser.cookies


def test_a_token_of_one_browser_does_not_work_in_another(api, browser):
    make_user(email="ada@example.com")
    browser.get("/console/login")
    token = browser.csrf()
    other = Browser(api.client)
    other.get("/console/login")
    assert (
        other.post("/console/login", {"email": "ada@example.com", "password": STRONG_PASSWORD}, csrf=token).status_code
        == 403
    )


def test_a_lockout_reached_through_the_api_holds_in_the_console_too(api, browser, monkeypatch):
    make_user(email="ada@example.com")
    for _ in range(get_settings().lockout_threshold):
        api.call("POST", "/auth/login", {"email": "ada@example.com", "password": "Wrong-Passw0rd!!"})
    browser.get("/console/login")
    page = browser.post("/console/login", {"email": "ada@example.com", "password": STRONG_PASSWORD})
    assert page.status_code == 429 and "Too many attempts. Try again in 15 minutes." in text_of(page.text)
    assert "kp_session" not in browser.cookies


def test_signing_out_ends_the_session_at_once(api, browser):
    make_user(email="ada@example.com")
    browser.sign_in("ada@example.com")
    token = browser.cookies["kp_session"]
    page = browser.post("/console/logout", {})
    assert page.path == "/console/login?done=signed_out" and "You have signed out." in page.text
    assert "kp_session" not in browser.cookies
    thief = Browser(api.client)
    thief.cookies["kp_session"] = token
    answer = thief.get("/console/", follow=False)
    assert answer.headers["Location"] == "/console/login?next=/console/&done=expired"
    assert api.call("GET", "/me", token=token).status_code == 401


def test_an_ended_session_leads_to_the_sign_in_page_saying_so_and_the_cookie_is_dropped(api):
    user = make_user(email="ada@example.com")
    browser = signed_in(api, user)
    end_sessions_of_user(user.user_id)  # e.g. the password was changed elsewhere
    page = browser.get("/console/")
    assert page.path == "/console/login?next=/console/&done=expired"
    assert "Your session has ended. Please sign in again." in page.text and "kp_session" not in browser.cookies


def test_a_page_asked_for_before_signing_in_opens_after_it(browser):
    make_user(email="ada@example.com")
    page = browser.get("/console/")
    assert page.path == "/console/login?next=/console/"
    page = browser.post("/console/login?next=/console/", {"email": "ada@example.com", "password": STRONG_PASSWORD})
    assert page.path == "/console/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/console/", "/console/\\evil", "/health"])
def test_after_signing_in_nobody_is_sent_off_the_console(browser, target):
    make_user(email="ada@example.com")
    browser.get("/console/login")
    answer = browser.post(
        f"/console/login?next={target}", {"email": "ada@example.com", "password": STRONG_PASSWORD}, follow=False
    )
    assert answer.headers["Location"] == "/console/"


def test_a_temporary_password_must_be_changed_before_any_other_page(api, browser):
    make_user(email="new@example.com", must_change_password=True)
    browser.get("/console/login")
    answer = browser.post("/console/login", {"email": "new@example.com", "password": STRONG_PASSWORD}, follow=False)
    assert answer.headers["Location"] == "/console/password"
    assert browser.get("/console/", follow=False).headers["Location"] == "/console/password"


def test_a_first_sign_in_by_split_delivery_needs_the_organization_reference(browser):
    make_org("org_split", reference="ACME-7731")
    make_user(email="split@example.com", org_id="org_split", login_needs_reference=True, roles=("ORG_ADMIN",))
    browser.get("/console/login")
    refused = browser.post("/console/login", {"email": "split@example.com", "password": STRONG_PASSWORD})
    assert refused.status_code == 401 and WRONG in text_of(refused.text)
    page = browser.post(
        "/console/login", {"email": "split@example.com", "password": STRONG_PASSWORD, "org_reference": "acme-7731"}
    )
    assert page.path == "/console/"


def test_the_sign_in_page_speaks_the_chosen_language_and_remembers_it(browser):
    page = browser.get("/console/login?lang=fr")
    assert '<html lang="fr">' in page.text and "Mot de passe oublié\u00a0?" in page.text
    assert browser.cookies["kp_lang"] == "fr"
    assert '<html lang="fr">' in browser.get("/console/login").text


def test_the_sign_in_page_follows_the_browser_language_until_one_is_chosen(browser):
    page = browser.get("/console/login", headers={"Accept-Language": "it-CH, en;q=0.5"})
    assert '<html lang="it">' in page.text


def test_a_signed_in_person_sees_pages_in_their_profile_language(api):
    browser = signed_in(api, make_user(email="sv@example.com", language="sv"))
    assert '<html lang="sv">' in browser.get("/console/").text


def test_an_administrator_switches_to_an_organization_below_its_own(api):
    make_org("org_parent", name="Parent AG")
    make_org("org_child", parent_id="org_parent", name="Child GmbH")
    make_org("org_elsewhere", name="Elsewhere SA")
    browser = signed_in(api, make_user(email="admin@example.com", org_id="org_parent", roles=("ORG_ADMIN",)))
    home = browser.get("/console/")
    assert "Child GmbH" in home.text and "Elsewhere SA" not in home.text
    page = browser.post("/console/org", {"org_id": "org_child"})
    assert page.path == "/console/?done=org" and "You now act for Child GmbH." in text_of(page.text)
    refused = browser.post("/console/org", {"org_id": "org_elsewhere"})
    assert refused.status_code == 404 and "Elsewhere SA" not in refused.text
    assert "You act for Child GmbH." in text_of(browser.get("/console/").text)


def test_an_administrator_of_a_single_organization_is_offered_no_switch(api):
    make_org("org_leaf", name="Leaf KG")
    browser = signed_in(api, make_user(email="admin@example.com", org_id="org_leaf", roles=("ORG_ADMIN",)))
    home = browser.get("/console/")
    assert "You act for Leaf KG." in text_of(home.text) and 'name="org_id"' not in home.text


def test_a_person_who_is_no_administrator_cannot_switch(api):
    make_org("org_parent")
    make_org("org_child", parent_id="org_parent")
    browser = signed_in(api, make_user(email="viewer@example.com", org_id="org_parent", roles=("VIEWER",)))
    assert 'name="org_id"' not in browser.get("/console/").text
    assert browser.post("/console/org", {"org_id": "org_child"}).status_code == 404


def test_the_stylesheet_is_served_under_its_hash_for_a_year_and_nothing_else_is(browser):
    page = browser.get("/console/login")
    path = re.search(r'<link rel="stylesheet" href="([^"]+)"', page.text).group(1)
    assert re.fullmatch(r"/console/assets/console\.[0-9a-f]{12}\.css", path)
    css = browser.get(path)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert "immutable" in css.headers["Cache-Control"]
    assert browser.get("/console/assets/console.css").status_code == 404


def test_after_a_failed_sign_in_forgot_password_carries_the_address_typed(browser):
    browser.get("/console/login")
    page = browser.post("/console/login", {"email": "ada+x@example.com", "password": "Not-the-Passw0rd!"})
    assert 'href="/console/forgot?email=ada%2Bx%40example.com"' in page.text
