"""The customer portal in the console (/console/portal, the portal access answer's link): the access code opens a
read-only view of exactly its scope; wrong codes get one message beside the field, throttled like the API."""

import pytest

from chalicelib.services.portal import access_codes
from tests.console_browser import Browser, text_of
from tests.portal_world import make_portal_world

PORTAL = "/console/portal"


@pytest.fixture
def world(api):
    return make_portal_world()


def enable(world, scope_type, scope_id):
    return access_codes.enable_portal_access(world["installer"], {"type": scope_type, "id": scope_id})


def open_portal(api, code, token=None):
    browser = Browser(api.client)
    browser.get(PORTAL)
    return browser, browser.post(PORTAL, {"code": code, **({"token": token} if token else {})})


def test_the_page_asks_for_the_code_in_the_browsers_language(api, world):
    page = Browser(api.client).get(PORTAL, headers={"Accept-Language": "nl-BE, nl;q=0.9"})
    assert page.status_code == 200 and '<html lang="nl">' in page.text
    assert 'id="code"' in page.text and 'id="token"' in page.text and "Toegangscode" in page.text


@pytest.mark.parametrize(
    "scope_type, scope_id, shown, hidden",
    [
        ("org", "cust", {"SN-A1", "SN-B1"}, {"SN-OTHER"}),
        ("site", "site_a", {"SN-A1"}, {"SN-B1", "SN-OTHER"}),
    ],
)
def test_a_code_shows_exactly_its_scope(api, world, scope_type, scope_id, shown, hidden):
    access = enable(world, scope_type, scope_id)
    browser, page = open_portal(api, access["code"].lower().replace("-", " "))
    words = text_of(page.text)
    assert page.status_code == 200 and page.path == PORTAL
    assert all(serial in words for serial in shown) and not any(serial in words for serial in hidden)
    assert "Registered" in words and "Active" in words and "sn-a1.example.com" in words
    assert access["code"] not in page.text  # the page never shows the code back, nor any key


def test_the_portal_session_lives_in_its_own_console_cookie(api, world):
    access = enable(world, "org", "cust")
    browser = Browser(api.client)
    browser.get(PORTAL)
    answer = browser.post(PORTAL, {"code": access["code"]}, follow=False)
    assert answer.status_code == 303 and answer.headers["Location"] == PORTAL
    set_cookie = answer.headers["Set-Cookie"]
    assert set_cookie.startswith("kp_portal=") and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert "Path=/console" in set_cookie and "Max-Age=28800" in set_cookie
    assert "kp_session" not in browser.cookies  # nobody is signed in: a portal session is not a person's


def test_an_installation_code_needs_its_token_and_a_wrong_one_gets_one_message_beside_the_field(api, world):
    access = enable(world, "installation", "ins_b")
    answers = []
    for token in (None, "wrong-token"):
        browser, page = open_portal(api, access["code"], token)
        answers.append((page.status_code, text_of(page.text).split("Access code")[0]))
        assert 'id="code-error"' in page.text and 'class="error-summary"' in page.text
        assert f'value="{access["code"]}"' in page.text  # the code is kept, the token is never written back
        assert "wrong-token" not in page.text and "kp_portal" not in browser.cookies
    assert answers[0] == answers[1] and answers[0][0] == 401
    browser, page = open_portal(api, access["code"], access["token"])
    words = text_of(page.text)
    assert page.status_code == 200 and "SN-B1" in words and "SN-A1" not in words


def test_an_unknown_code_answers_as_a_wrong_token_does(api, world):
    access = enable(world, "installation", "ins_b")
    _, unknown = open_portal(api, "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345")
    _, wrong = open_portal(api, access["code"], "wrong-token")
    assert unknown.status_code == wrong.status_code == 401
    assert "does not open the portal" in text_of(unknown.text) and "does not open the portal" in text_of(wrong.text)


def test_failures_with_one_code_are_throttled_as_in_the_api_even_for_the_right_token(api, world):
    access = enable(world, "installation", "ins_b")
    for _ in range(5):  # failures through the API and the page count together
        assert api.call("POST", "/public/portal/sessions", {"code": access["code"], "token": "x"}).status_code == 401
        assert open_portal(api, access["code"], "x")[1].status_code == 401
    browser, locked = open_portal(api, access["code"], access["token"])
    assert locked.status_code == 429 and 'id="code-error"' in locked.text and "Too many attempts" in locked.text
    assert "kp_portal" not in browser.cookies


def test_a_post_without_the_forms_token_is_refused_and_opens_nothing(api, world):
    access = enable(world, "org", "cust")
    browser = Browser(api.client)
    refused = browser.post(PORTAL, {"code": access["code"]}, csrf=None, follow=False)
    assert refused.status_code == 403 and "kp_portal" not in browser.cookies


def test_leaving_ends_the_session_at_once(api, world):
    access = enable(world, "org", "cust")
    browser, page = open_portal(api, access["code"])
    kept = browser.cookies["kp_portal"]
    left = browser.post(f"{PORTAL}/leave", {})
    assert left.status_code == 200 and 'id="code"' in left.text and "kp_portal" not in browser.cookies
    browser.cookies["kp_portal"] = kept  # the old cookie, replayed
    again = browser.get(PORTAL)
    assert 'id="code"' in again.text and "SN-A1" not in again.text and "has ended" in text_of(again.text)


def test_a_new_code_ends_the_pages_session(api, world):
    access = enable(world, "org", "cust")
    browser, page = open_portal(api, access["code"])
    access_codes.regenerate_portal_access(world["installer"], access["id"])
    again = browser.get(PORTAL)
    assert again.status_code == 200 and "SN-A1" not in again.text and "has ended" in text_of(again.text)
    assert "kp_portal" not in browser.cookies
