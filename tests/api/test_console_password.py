"""The console's own-password pages: the change (forced at a first sign-in with a temporary password, or chosen) and
"forgot password" (a reset link by mail; the mailed reset page finishes it and sign-in follows)."""

import re

import pytest

from chalicelib.services.tenants.users import find_user_by_email
from tests.conftest import run_queued_jobs
from tests.console_browser import Browser, text_of
from tests.helpers import STRONG_PASSWORD, make_user

NEW_PASSWORD = "Another-Horse-7-Battery"


def signed_in(api, email="ada@example.com", **fields):
    make_user(email=email, **fields)
    browser = Browser(api.client)
    browser.sign_in(email)
    return browser


def change(browser, current=STRONG_PASSWORD, new=NEW_PASSWORD, repeat=None, **more):
    browser.get("/console/password")
    form = {"current_password": current, "new_password": new, "password_repeat": new if repeat is None else repeat}
    return browser.post("/console/password", {**form, **more})


def error_beside(page, name):
    """The message shown beside a field (its field-error element), as a person reads it."""
    found = re.search(rf'<(span|div) class="field-error" id="{name}-error">(.*?)</\1>', page.text, re.S)
    return text_of(found.group(2)) if found else None


def test_a_temporary_password_sends_every_page_to_the_forced_change_which_then_leads_home(api):
    browser = signed_in(api, must_change_password=True)
    assert browser.page.path == "/console/password"
    assert "temporary password" in text_of(browser.page.text)
    for path in ("/console/", "/console/profile", "/console/profile/key/remove"):
        refused = browser.get(path, follow=False)
        assert (refused.status_code, refused.headers["Location"]) == (303, "/console/password"), path
    done = change(browser)
    assert (done.status_code, done.path) == (200, "/console/?done=password")
    assert "Your password has been changed." in text_of(done.text)
    assert browser.get("/console/profile").status_code == 200
    assert find_user_by_email("ada@example.com").must_change_password is False
    api.login("ada@example.com", NEW_PASSWORD)


def test_a_chosen_change_leads_back_to_the_profile_and_says_so(api):
    browser = signed_in(api)
    page = browser.get("/console/password")
    assert "temporary" not in text_of(page.text)
    done = change(browser)
    assert done.path == "/console/profile?done=password"
    assert "Your password has been changed." in text_of(done.text)


def test_a_wrong_current_password_is_named_beside_its_field_and_changes_nothing(api):
    browser = signed_in(api)
    refused = change(browser, current="Not-The-Password-1")
    assert refused.status_code == 422
    assert error_beside(refused, "current_password") == "The current password is wrong."
    assert error_beside(refused, "new_password") is None
    api.login("ada@example.com", STRONG_PASSWORD)


def test_a_weak_password_lists_the_broken_rules_beside_the_field_in_the_persons_language(api):
    browser = signed_in(api, language="de")
    refused = change(browser, new="kurz")
    assert refused.status_code == 422
    assert error_beside(refused, "new_password").startswith("Dieses Passwort ist zu schwach. Es braucht:")
    rules = re.search(r'id="new_password-error">.*?<ul>(.*?)</ul>', refused.text, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", rules) == [
        "mindestens 12 Zeichen",
        "einen Großbuchstaben",
        "eine Ziffer",
        "ein Sonderzeichen",
    ]
    summary = re.search(r'class="error-summary".*?</div>', refused.text, re.S).group(0)
    assert "Es braucht: mindestens 12 Zeichen, einen Großbuchstaben, eine Ziffer, ein Sonderzeichen" in summary
    api.login("ada@example.com", STRONG_PASSWORD)


def test_the_temporary_password_itself_is_no_new_password(api):
    browser = signed_in(api, language="fr", must_change_password=True)
    refused = change(browser, new=STRONG_PASSWORD)
    assert refused.status_code == 422
    assert "différent du mot de passe actuel" in error_beside(refused, "new_password")
    assert browser.get("/console/", follow=False).headers["Location"] == "/console/password"


@pytest.mark.parametrize(
    "current, new, repeat, field, message",
    [
        ("", NEW_PASSWORD, NEW_PASSWORD, "current_password", "Enter your current password."),
        (STRONG_PASSWORD, "", "", "new_password", "Enter a new password."),
        (STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "password_repeat", "The two passwords differ."),
        (STRONG_PASSWORD, "A1-" + "x" * 130, "A1-" + "x" * 130, "new_password", "This is too long."),
    ],
)
def test_a_missing_or_unrepeated_password_is_named_beside_its_field(api, current, new, repeat, field, message):
    browser = signed_in(api)
    refused = change(browser, current, new, repeat)
    assert refused.status_code == 422
    assert error_beside(refused, field) == message
    assert f'<a href="#{field}">{message}</a>' in refused.text  # the summary at the top leads to the field
    api.login("ada@example.com", STRONG_PASSWORD)


def test_a_change_keeps_this_session_and_ends_the_others(api):
    browser = signed_in(api)
    other = api.login("ada@example.com")
    change(browser)
    assert api.call("GET", "/me", token=other).status_code == 401
    assert browser.get("/console/profile").status_code == 200


def test_the_password_pages_need_a_session(api):
    page = Browser(api.client).get("/console/password", follow=False)
    assert (page.status_code, page.headers["Location"]) == (303, "/console/login?next=/console/password")


@pytest.mark.parametrize(
    "address, mailed", [("ada@example.com", ["ada@example.com"]), ("nobody@example.com", []), ("not an address", [])]
)
def test_every_address_gets_the_same_confirmation_and_only_a_known_one_a_mail(api, mailbox, address, mailed):
    make_user(email="ada@example.com")
    browser = Browser(api.client)
    browser.get("/console/forgot")
    sent = browser.post("/console/forgot", {"email": address})
    assert (sent.status_code, sent.path) == (200, "/console/forgot?sent=1")
    assert "If an account exists for this address, a link to choose a new password is on its way." in text_of(sent.text)
    assert "60 minutes" in text_of(sent.text)
    assert address not in sent.text  # nothing on the page depends on the address
    run_queued_jobs()
    assert [message["To"] for message in mailbox.messages()] == mailed


def test_the_forgot_page_prefills_the_address_and_refuses_an_empty_one_beside_its_field(api):
    browser = Browser(api.client)
    assert 'value="ada@example.com"' in browser.get("/console/forgot?email=ada@example.com").text
    refused = browser.post("/console/forgot", {"email": "  "})
    assert refused.status_code == 422
    assert error_beside(refused, "email") == "Enter your e-mail address."


def test_the_forgot_page_shares_the_apis_throttle_of_five_an_hour(api, mailbox):
    for _ in range(5):
        assert api.call("POST", "/public/password-resets", {"email": "ada@example.com"}).status_code == 202
    browser = Browser(api.client)
    browser.get("/console/forgot")
    refused = browser.post("/console/forgot", {"email": "ada@example.com"})
    assert refused.status_code == 429
    assert re.fullmatch(r"Too many attempts\. Try again in \d+ minutes\.", error_beside(refused, "email"))
    assert 'value="ada@example.com"' in refused.text


def test_a_forgotten_password_is_reset_from_the_mail_and_leads_to_a_new_session(api, mailbox):
    make_user(email="ada@example.com", language="it")
    browser = Browser(api.client)
    browser.get("/console/login")
    browser.get("/console/forgot")
    browser.post("/console/forgot", {"email": "ada@example.com"})
    run_queued_jobs()
    [message] = mailbox.messages(to="ada@example.com")
    link = re.search(r"https?://[^/\s]+(/reset-password/[A-Za-z0-9_-]+)", mailbox.text(message)).group(1)
    form = browser.get(link)
    assert form.status_code == 200 and 'name="password"' in form.text
    done = browser.client.http.post(
        link,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=f"password={NEW_PASSWORD}&password_repeat={NEW_PASSWORD}",
    )
    assert done.status_code == 200
    # The reset page's outcome leads here (chalicelib/web/account_link_pages.py): the address filled, a notice.
    login = browser.get("/console/login?email=ada%40example.com&done=password_reset")
    assert 'value="ada@example.com"' in login.text
    assert "Your new password is set. Sign in with it." in text_of(login.text)
    home = browser.post("/console/login", {"email": "ada@example.com", "password": NEW_PASSWORD})
    assert (home.status_code, home.path) == (200, "/console/")
