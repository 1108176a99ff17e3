"""Each persona's journey through the web console in Chromium, against one local stack (the server `make run`
starts) shared by the journeys of this module: sign-in by keyboard alone, every page passing axe-core and shot at
360 and 1280 px into test-output/browser/. Each journey names the console pages it checks (JOURNEY_PAGES) and
proves it at its end; a console page that no journey checks fails the last test here."""

import email
import email.policy
import json
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from chalicelib.web.catalogs import translations
from tests.e2e.browser_checks import check_page, width_at
from tests.e2e.conftest import LocalStack, mailed_link
from tests.e2e.keyboard import focus_by_tab, press_enter_on, type_into
from tests.jose_keys import private_and_public

OPERATOR = {"email": "ops@example.com", "password": "Journey-Operat0r-Pass"}
NEW_PASSWORD = "Journey-Chosen-Passw0rd-52"
# The GET console pages each journey checks with axe-core and screenshots (paths as registered in PAGES).
JOURNEY_PAGES = {
    "new_user": {"/console/login", "/console/password", "/console/", "/console/profile", "/console/profile/key/remove"},
    "forgot_password": {"/console/login", "/console/forgot", "/console/"},
    "invitation": {"/console/login", "/console/"},
    "language": {"/console/login", "/console/forgot"},
    "registration": {
        "/console/register",
        "/console/register/sent",
        "/console/",
        "/console/registrations",
        "/console/registrations/{registration_id}",
        "/console/registrations/{registration_id}/reject",
        "/console/registrations/{registration_id}/approve",
        "/console/audit",
    },
    "batch": {"/console/login", "/console/batches/{batch_id}", "/console/batches/{batch_id}/reject"},
    "portal": {"/console/portal"},
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """One local stack for the module's journeys; each journey makes its own people, so none depends on another."""
    started = LocalStack(
        tmp_path_factory.mktemp("journeys") / "home",
        env={"KEYPORT_OPERATOR_EMAIL": OPERATOR["email"], "KEYPORT_OPERATOR_PASSWORD": OPERATOR["password"]},
    ).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def operator(stack):
    """The operator's API session, for preparing people and organizations (the console journeys start after)."""
    token = requests.post(stack.url + "/auth/login", json=OPERATOR, timeout=10).json()["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def journey(browser):
    """A fresh browser context (no cookies) in English, and the console paths the journey checked."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.visited = []
    yield page
    context.close()


def check(page, name):
    """axe-core and screenshots of the page shown now, its path recorded for the journey's own proof."""
    check_page(page, name, page.visited)


def registered_path(visited, registered):
    """The registered console path (with {placeholders}) that a visited path is, or None."""
    for path in registered:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
        if re.fullmatch(pattern, visited) or re.fullmatch(pattern, visited + "/"):
            return path
    return None


def assert_checked(page, journey_name):
    """The journey checked exactly the console pages JOURNEY_PAGES names for it (and maybe non-console pages)."""
    console = {path for path in page.visited if path.startswith("/console")}
    names = {registered_path(path, JOURNEY_PAGES[journey_name]) or path for path in console}
    assert names == JOURNEY_PAGES[journey_name]


def words(language, message):
    """A console message as its catalog says it in the language."""
    return translations(language).gettext(message)


def sign_in_by_keyboard(page, address, password):
    """Fill the sign-in form with Tab and typing (the address only if it is not filled already) and press Enter."""
    if page.input_value("#email") != address:
        type_into(page, "#email", address)
    type_into(page, "#password", password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def sign_out_by_keyboard(page):
    """Reach the layout's sign-out button with Tab and press Enter."""
    press_enter_on(page, "form[action='/console/logout'] button")


def path_of(page):
    """The path of the page shown now."""
    return urlsplit(page.url).path


def create_person(stack, operator, address, **fields):
    """A person in a new organization, made by the operator over the API (a credentials mail goes out)."""
    org = requests.post(stack.url + "/orgs", json={"name": f"Org of {address}"}, headers=operator, timeout=10)
    assert org.status_code == 201, org.text
    created = requests.post(
        stack.url + "/users",
        headers=operator,
        timeout=10,
        json={"name": "Nora Neumann", "email": address, "org_id": org.json()["id"], "roles": ["ORG_ADMIN"], **fields},
    )
    assert created.status_code == 201, created.text
    return created.json()


def send_batch(stack, operator, serial, org_id, requires_confirmation):
    """A device the operator imports and sends to the organization as batch B-<serial> (a new_batch mail goes out)."""
    device = {
        "serial": serial,
        "product_type": "alarm-server",
        "mac": "00:1a:2b:3c:4d:" + serial[-2:],
        "id_code": "BA7C" + serial[-4:],
        "keys": [{"name": "web", "algorithm": "AES256", "hex": "cd" * 32}],
    }
    imported = requests.post(stack.url + "/devices/import", headers=operator, json={"items": [device]}, timeout=10)
    assert imported.status_code == 200 and imported.json()["imported"] == 1, imported.text
    batch = requests.post(
        stack.url + "/batches",
        headers=operator,
        timeout=10,
        json={
            "reference": f"B-{serial}",
            "serials": [serial],
            "org_id": org_id,
            "requires_confirmation": requires_confirmation,
        },
    )
    assert batch.status_code == 201, batch.text
    return batch.json()


def mail_to(stack, mail_type, address, deadline=30):
    """The plain text of the newest outbox mail of the type sent to the address."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for eml in sorted((Path(stack.home) / "outbox").glob(f"*-{mail_type}-*.eml"), reverse=True):
            message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
            if message["To"].addresses[0].addr_spec == address:
                return message.get_body(preferencelist=("plain",)).get_content()
        time.sleep(0.1)
    raise AssertionError(f"no {mail_type} mail to {address} in the outbox")


def link_in(text, path):
    """The first http link in a mail's text whose path starts with the given one."""
    found = re.search(rf"(http://[^/\s]+{re.escape(path)}\S*)", text)
    assert found, f"no link to {path} in:\n{text}"
    return found.group(1)


def test_a_new_user_signs_in_from_the_mail_changes_the_password_keeps_a_profile_and_signs_out(stack, operator, journey):
    page, address = journey, "nora.new@example.com"
    person = create_person(stack, operator, address)
    branch = requests.post(
        stack.url + "/orgs", json={"name": "Neumann Nord", "parent_id": person["org_id"]}, headers=operator, timeout=10
    )
    assert branch.status_code == 201, branch.text
    welcome = mail_to(stack, "credentials", address)
    temporary = re.search(r"Temporary password: (\S+)", welcome).group(1)

    page.goto(link_in(welcome, "/console/login"))
    assert page.input_value("#email") == address
    check(page, "new-user-1-sign-in")
    sign_in_by_keyboard(page, address, "Not-The-Passw0rd-00")
    assert path_of(page) == "/console/login" and page.locator(".error-summary").count() == 1
    check(page, "new-user-2-wrong-password")
    sign_in_by_keyboard(page, address, temporary)
    assert path_of(page) == "/console/password"
    check(page, "new-user-3-forced-change")
    type_into(page, "#current_password", temporary)
    type_into(page, "#new_password", "weakpassword")
    type_into(page, "#password_repeat", "weakpassword")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute("#new_password", "aria-invalid") == "true"
    check(page, "new-user-4-weak-password")
    type_into(page, "#current_password", temporary)
    type_into(page, "#new_password", NEW_PASSWORD)
    type_into(page, "#password_repeat", NEW_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/console/" and page.locator("[role=status]").count() == 1
    check(page, "new-user-5-home")
    focus_by_tab(page, "#org_id")
    page.keyboard.press("ArrowDown")  # the branch, listed below the own organization
    press_enter_on(page, "form[action='/console/org'] button")
    assert page.locator("[role=status]").inner_text() == "You now act for Neumann Nord."
    check(page, "new-user-6-home-acting-for-the-branch")

    press_enter_on(page, "nav.areas a[href='/console/profile']")
    check(page, "new-user-7-profile")
    page.fill("#recipient_jwk", json.dumps(private_and_public("EC", "P-256")[1]))
    with page.expect_navigation():
        page.click("form[action='/console/profile/key'] button[type=submit]")
    assert page.locator("#thumbprint").count() == 1
    # 43 characters of base64url: on a phone they need most of the line, not a column one letter wide.
    assert width_at(page, "#thumbprint", 360) > 200
    check(page, "new-user-8-profile-with-key")
    press_enter_on(page, "a[href='/console/profile/key/remove']")
    check(page, "new-user-9-remove-key")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert path_of(page) == "/console/profile" and page.locator("#thumbprint").count() == 0

    sign_out_by_keyboard(page)
    assert path_of(page) == "/console/login"
    assert_checked(page, "new_user")


def test_a_person_who_forgot_the_password_gets_back_in_through_the_mailed_link(stack, operator, journey):
    page, address = journey, "fred.forgetful@example.com"
    create_person(stack, operator, address, password="Forgotten-Passw0rd-13")
    page.goto(stack.url + "/console/login")
    press_enter_on(page, "a[href^='/console/forgot']")
    assert path_of(page) == "/console/forgot"
    check(page, "forgot-1-ask")
    type_into(page, "#email", address)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check(page, "forgot-2-asked")

    page.goto(link_in(mail_to(stack, "password_reset", address), "/reset-password/"))
    check(page, "forgot-3-reset")
    type_into(page, "#password", NEW_PASSWORD)
    type_into(page, "#password_repeat", NEW_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#success")
    check(page, "forgot-4-reset-done")
    press_enter_on(page, "#sign_in")
    assert path_of(page) == "/console/login" and page.input_value("#email") == address
    check(page, "forgot-5-sign-in")
    sign_in_by_keyboard(page, address, NEW_PASSWORD)
    assert path_of(page) == "/console/" and "Nora Neumann" in page.inner_text("header")
    check(page, "forgot-6-home")
    assert_checked(page, "forgot_password")


def test_an_installer_registers_the_company_and_the_operator_reviews_and_approves_it_then_reads_the_audit(
    stack, journey
):
    page = journey
    page.goto(stack.url + "/console/register")
    check(page, "register-1-form")
    with page.expect_navigation():
        page.click("form[action='/console/register'] button[type=submit]")
    assert page.locator(".error-summary").count() == 1 and page.locator("[aria-invalid=true]").count() >= 3
    check(page, "register-2-refused")
    page.check("#kind")
    page.fill("#name", "Ines Schmidt")
    page.fill("#email", "ines@schmidt.example")
    page.fill("#company_name", "Schmidt Haustechnik")
    with page.expect_navigation():
        page.click("form[action='/console/register'] button[type=submit]")
    assert path_of(page) == "/console/register/sent"
    check(page, "register-3-sent")

    page.goto(stack.url + "/console/login")
    sign_in_by_keyboard(page, OPERATOR["email"], OPERATOR["password"])
    assert path_of(page) == "/console/"
    check(page, "register-4-operator-home")
    press_enter_on(page, "nav.areas a[href='/console/registrations']")
    check(page, "register-5-registrations")
    press_enter_on(page, "#registrations a")
    assert "Schmidt Haustechnik" in page.inner_text("main")
    check(page, "register-6-registration")
    press_enter_on(page, "a#reject")
    check(page, "register-7-reject-question")
    press_enter_on(page, "main form a.secondary")  # no, go back
    press_enter_on(page, "a#approve")
    check(page, "register-8-approve-question")
    press_enter_on(page, "button#approve")
    assert page.locator("[role=status]").count() == 1
    check(page, "register-9-approved")
    press_enter_on(page, "nav.areas a[href='/console/audit']")
    check(page, "register-10-audit")
    assert_checked(page, "registration")


def test_an_admin_follows_the_new_batch_mail_through_sign_in_and_rejects_the_batch_after_the_question(
    stack, operator, journey
):
    page, address = journey, "bea.batch@example.com"
    person = create_person(stack, operator, address, password="Batch-Temporary-Passw0rd")
    session = requests.post(
        stack.url + "/auth/login", json={"email": address, "password": "Batch-Temporary-Passw0rd"}, timeout=10
    ).json()["token"]
    changed = requests.post(
        stack.url + "/me/password",
        headers={"Authorization": f"Bearer {session}"},
        json={"current_password": "Batch-Temporary-Passw0rd", "new_password": NEW_PASSWORD},
        timeout=10,
    )
    assert changed.status_code == 204, changed.text
    batch = send_batch(stack, operator, "BATCH-0001", person["org_id"], requires_confirmation=True)

    page.goto(link_in(mail_to(stack, "new_batch", address), "/console/batches/"))
    assert path_of(page) == "/console/login"
    check(page, "batch-1-sign-in-first")
    sign_in_by_keyboard(page, address, NEW_PASSWORD)
    assert path_of(page) == f"/console/batches/{batch['id']}" and "B-BATCH-0001" in page.inner_text("h1")
    check(page, "batch-2-batch")
    press_enter_on(page, "a#reject")
    check(page, "batch-3-reject-question")
    press_enter_on(page, "button#reject")
    assert path_of(page) == f"/console/batches/{batch['id']}" and page.locator("[role=status]").count() == 1
    check(page, "batch-4-rejected")
    missing = page.goto(stack.url + "/console/batches/bat_nobody_sent_this")
    assert missing.status == 404
    check(page, "batch-5-not-found")
    assert_checked(page, "batch")


def test_a_customer_opens_the_portal_link_with_the_access_code_sees_the_devices_and_leaves(stack, operator, journey):
    page = journey
    org = requests.post(stack.url + "/orgs", json={"name": "Familie Berg"}, headers=operator, timeout=10).json()
    send_batch(stack, operator, "PORTAL-0002", org["id"], requires_confirmation=False)
    access = requests.post(
        stack.url + "/portal-access", json={"scope": {"type": "org", "id": org["id"]}}, headers=operator, timeout=10
    )
    assert access.status_code == 201, access.text

    page.goto(access.json()["link"])
    assert path_of(page) == "/console/portal"
    check(page, "portal-1-code")
    type_into(page, "#code", "WRONG-CODE")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute("#code", "aria-invalid") == "true"
    check(page, "portal-2-wrong-code")
    type_into(page, "#code", access.json()["code"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "PORTAL-0002" in page.inner_text("main table")
    check(page, "portal-3-overview")
    press_enter_on(page, "button#leave")
    assert page.locator("#code").count() == 1
    assert_checked(page, "portal")


def test_the_language_links_of_the_sign_in_page_switch_the_console_and_html_lang_follows(stack, journey):
    page = journey
    page.goto(stack.url + "/console/login")
    assert page.get_attribute("html", "lang") == "en"
    check(page, "language-1-sign-in-en")
    page.keyboard.press("Tab")  # the first stop is the skip link, shown while it has the focus
    assert page.evaluate("() => document.activeElement.matches('a.skip')")
    assert page.locator("a.skip").bounding_box()["x"] >= 0
    for step, (language, name) in enumerate((("de", "Deutsch"), ("fr", "Français"), ("it", "Italiano")), start=2):
        press_enter_on(page, f"a[hreflang={language}]")
        assert page.get_attribute("html", "lang") == language
        assert page.inner_text("h1") == words(language, "Sign in")
        assert page.get_attribute(f"a[hreflang={language}]", "aria-current") == "true"
        check(page, f"language-{step}-sign-in-{language}")
    page.goto(stack.url + "/console/login")  # the choice stays for the next visit
    assert page.get_attribute("html", "lang") == "it"
    press_enter_on(page, "a[href^='/console/forgot']")
    assert page.get_attribute("html", "lang") == "it" and path_of(page) == "/console/forgot"
    check(page, "language-5-forgot-it")
    assert_checked(page, "language")


def test_an_invitee_goes_from_the_mail_to_the_console_home_and_signs_out(stack, operator, journey):
    page, address = journey, "ivo.invitee@example.com"
    org = requests.post(stack.url + "/orgs", json={"name": "Stadtwerke Kiel"}, headers=operator, timeout=10).json()
    invitation = requests.post(
        stack.url + "/invitations",
        headers=operator,
        timeout=10,
        json={"name": "Ivo Invitee", "email": address, "org_id": org["id"], "roles": ["KEY_MANAGER"], "language": "en"},
    ).json()
    sent = requests.post(stack.url + f"/invitations/{invitation['id']}/send", headers=operator, timeout=10)
    assert sent.status_code == 200, sent.text

    page.goto(mailed_link(stack, "invite", rf"/invite/{invitation['id']}\."))
    check(page, "invitation-journey-1-invitation")
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password_repeat", NEW_PASSWORD)
    with page.expect_navigation():
        page.click("#submit")
    check(page, "invitation-journey-2-accepted")
    press_enter_on(page, "#sign_in")
    assert path_of(page) == "/console/login" and page.input_value("#email") == address
    check(page, "invitation-journey-3-sign-in")
    sign_in_by_keyboard(page, address, NEW_PASSWORD)
    assert path_of(page) == "/console/" and "Ivo Invitee" in page.inner_text("header")
    assert "Stadtwerke Kiel" in page.inner_text("main")
    check(page, "invitation-journey-4-home")
    sign_out_by_keyboard(page)
    assert path_of(page) == "/console/login" and page.locator("[role=status]").inner_text() == "You have signed out."
    check(page, "invitation-journey-5-signed-out")
    page.goto(stack.url + "/console/")
    assert path_of(page) == "/console/login", "the session ended at sign-out"
    assert_checked(page, "invitation")


def test_every_console_page_is_checked_in_chromium_by_a_journey():
    import app  # noqa: F401  (importing the app registers every console page)
    from chalicelib.web.console import PAGES

    checked = set().union(*JOURNEY_PAGES.values())
    pages = {spec.path for spec in PAGES if spec.method == "GET"}
    assert sorted(pages - checked) == [], "console pages without a browser check (axe-core, screenshots)"
