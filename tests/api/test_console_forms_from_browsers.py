"""What real browsers send with console forms, and what a hostile neighbour could: Fetch metadata and Origin as
Chromium sends them, cookies of other apps, cookies tossed in by a sibling host, broken headers — each handled
without a 500 and without letting a form through that no page of ours sent."""

import pytest

from chalicelib.models import SessionModel
from chalicelib.services.accounts.sessions import open_session
from tests.console_browser import Browser, text_of
from tests.helpers import STRONG_PASSWORD, make_org, make_user

SIGN_IN = {"email": "ada@example.com", "password": STRONG_PASSWORD}


@pytest.fixture
def browser(api):
    make_user(email="ada@example.com", name="Ada Meyer", roles=("ORG_ADMIN",))
    browser = Browser(api.client)
    browser.get("/console/login")
    return browser


def test_a_same_origin_form_of_chromium_passes_although_its_origin_is_null(browser):
    # Chromium sends "Origin: null" when the page's referrer policy is no-referrer; its Fetch metadata is the truth.
    headers = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert browser.post("/console/login", SIGN_IN, headers=headers).path == "/console/"


def test_console_pages_let_their_origin_travel_with_their_forms(browser):
    page = browser.get("/console/login")
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in page.text


@pytest.mark.parametrize("site", ["same-site", "cross-site", "none"])
def test_a_form_sent_by_another_site_is_refused_whatever_its_origin_says(browser, site):
    answer = browser.post("/console/login", SIGN_IN, headers={"Sec-Fetch-Site": site}, follow=False)
    assert answer.status_code == 403 and "kp_session" not in browser.cookies


def test_a_public_form_without_any_origin_is_refused(browser):
    # Its token derives from a cookie a sibling host could plant: without Origin, Referer or Fetch metadata nothing
    # says which page sent it.
    answer = browser.post("/console/login", SIGN_IN, headers={"Origin": ""}, follow=False)
    assert answer.status_code == 403 and "kp_session" not in browser.cookies


def test_a_signed_in_form_without_any_origin_passes_on_its_session_token(api, browser):
    browser.sign_in("ada@example.com")
    assert browser.post("/console/logout", {}, headers={"Origin": ""}).path == "/console/login?done=signed_out"


@pytest.mark.parametrize("origin", ["http://[::1", "http://[zz"])
def test_a_broken_origin_is_refused_not_a_failure(browser, origin):
    assert browser.post("/console/login", SIGN_IN, headers={"Origin": origin}, follow=False).status_code == 403


@pytest.mark.parametrize("other", ['prefs={"a":1}', "x=a b", "x=caf\u00e9", 'x=a"b', "expires", "broken"])
def test_a_cookie_of_another_app_hides_neither_the_session_nor_the_form_secret(api, browser, other):
    browser.cookies[other.partition("=")[0]] = other.partition("=")[2] or ""
    raw = f"{other}; " + "; ".join(f"{name}={value}" for name, value in browser.cookies.items() if name == "kp_form")
    page = api.client.http.post(
        "/console/login",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": raw, "Origin": browser.origin_of()},
        body=f"csrf={browser.csrf()}&email=ada%40example.com&password={STRONG_PASSWORD}",
    )
    assert page.status_code == 303


def test_a_session_cookie_sent_twice_counts_as_none(api, browser):
    mine, _ = open_session(make_user(email="victim@example.com", name="Victim"))
    tossed, _ = open_session(make_user(email="attacker@example.com", name="Attacker Person"))
    page = api.client.http.get("/console/", headers={"Cookie": f"kp_session={mine}; kp_session={tossed}"})
    assert page.status_code == 303 and page.headers["Location"].startswith("/console/login?next=")


@pytest.mark.parametrize("target", ["/console/%0D%0ASet-Cookie:%20kp_session=X", "/console/%0AX:1", "/console/\t"])
def test_a_next_address_with_control_characters_leads_home_without_a_failure(browser, target):
    answer = browser.post(f"/console/login?next={target}", SIGN_IN, follow=False)
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/"


def test_signing_in_again_ends_the_session_the_browser_held(api, browser):
    old_tab = browser.csrf()  # a sign-in form left open in another tab
    browser.post("/console/login", SIGN_IN)
    first = browser.cookies["kp_session"]
    browser.post("/console/login", SIGN_IN, csrf=old_tab)
    assert browser.cookies["kp_session"] != first
    assert api.call("GET", "/me", token=first).status_code == 401
    assert api.call("GET", "/me", token=browser.cookies["kp_session"]).status_code == 200


def test_an_organization_acted_for_is_forgotten_once_out_of_reach(api):
    make_org("org_parent")
    make_org("org_child", parent_id="org_parent", name="Child GmbH")
    user = make_user(email="admin@example.com", org_id="org_parent", roles=("ORG_ADMIN",))
    token, session = open_session(user)
    browser = Browser(api.client)
    browser.cookies["kp_session"] = token
    browser.get("/console/")
    browser.post("/console/org", {"org_id": "org_child"})
    user.update(actions=[type(user).roles.set(["VIEWER"])])
    assert "You act for Org org_parent." in text_of(browser.get("/console/").text)
    user.update(actions=[type(user).roles.set(["ORG_ADMIN"])])
    assert "You act for Org org_parent." in text_of(browser.get("/console/").text)
    assert SessionModel.get(session.token_hash).acting_org_id is None


def test_a_huge_organization_id_is_not_found(api, browser):
    browser.sign_in("ada@example.com")
    assert browser.post("/console/org", {"org_id": "o" * 5000}).status_code == 404
