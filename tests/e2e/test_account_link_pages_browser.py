"""The account mails' link pages (confirm a new e-mail address, choose a new password) in Chromium against the
real stack: each state of each page passes axe-core and is shot at 360 and 1280 px."""

import requests

from tests.e2e.browser_checks import check_page
from tests.e2e.conftest import mailed_link

OPERATOR = {"email": "ops@example.com", "password": "Account-Operat0r-Pass"}
NEW_ADDRESS = "ops.new@example.com"
NEW_PASSWORD = "Reset-Passw0rd-Chosen-41"


def test_the_confirm_email_and_reset_pages_pass_axe_in_every_state(local_stack, browser):
    stack = local_stack(KEYPORT_OPERATOR_EMAIL=OPERATOR["email"], KEYPORT_OPERATOR_PASSWORD=OPERATOR["password"])
    token = requests.post(stack.url + "/auth/login", json=OPERATOR, timeout=10).json()["token"]
    changed = requests.post(
        stack.url + "/me/email",
        json={"new_email": NEW_ADDRESS},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert changed.status_code == 202, changed.text
    page = browser.new_page()

    confirm = mailed_link(stack, "confirm_email", "/confirm-email/")
    page.goto(confirm)
    assert NEW_ADDRESS in page.inner_text("main")
    check_page(page, "confirm-email-1-form")
    page.click("#submit")
    page.wait_for_selector("#success")
    check_page(page, "confirm-email-2-done")
    page.goto(confirm)
    page.wait_for_selector("#dead")
    check_page(page, "confirm-email-3-dead-link")

    asked = requests.post(stack.url + "/public/password-resets", json={"email": NEW_ADDRESS}, timeout=10)
    assert asked.status_code == 202, asked.text
    reset = mailed_link(stack, "password_reset", "/reset-password/")
    page.goto(reset)
    check_page(page, "reset-1-form")
    page.fill("#password", "weakpassword")
    page.fill("#password_repeat", "weakpassword")
    page.click("#submit")
    page.wait_for_selector("#error")
    check_page(page, "reset-2-weak-password")
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password_repeat", NEW_PASSWORD)
    page.click("#submit")
    page.wait_for_selector("#success")
    check_page(page, "reset-3-done")
    page.goto(reset)
    page.wait_for_selector("#dead")
    check_page(page, "reset-4-dead-link")

    login = requests.post(stack.url + "/auth/login", json={"email": NEW_ADDRESS, "password": NEW_PASSWORD}, timeout=10)
    assert login.status_code == 200, login.text
