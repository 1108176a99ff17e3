"""The invitation link in a real headless Chromium against the real `make run` stack."""
import email
import email.policy
import os
import re
import time
from pathlib import Path

import pytest
import requests

from chalicelib.local import PROJECT_DIR

OPERATOR = {"email": "ops@example.com", "password": "Browser-Operat0r-Pass"}
GOOD = "Invited-Passw0rd-77"
SHOTS = Path(PROJECT_DIR) / "test-output" / "browser"


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                  "--no-first-run", "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


def invitation_link(stack, invitation_id, deadline=10):
    """The link in the outbox mail of an invitation."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for eml in (Path(stack.home) / "outbox").glob("*-invite-*.eml"):
            message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
            text = message.get_body(preferencelist=("plain",)).get_content()
            match = re.search(rf"(http://\S+/invite/{invitation_id}\.\S+)", text)
            if match:
                return match.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no mail for {invitation_id} in the outbox")


def test_an_invitee_opens_the_mailed_link_fixes_a_weak_password_and_logs_in(local_stack, browser):
    stack = local_stack(KEYPORT_OPERATOR_EMAIL=OPERATOR["email"], KEYPORT_OPERATOR_PASSWORD=OPERATOR["password"])
    auth = {"Authorization": "Bearer " + requests.post(stack.url + "/auth/login", json=OPERATOR, timeout=10)
            .json()["token"]}
    org = requests.post(stack.url + "/orgs", json={"name": "Stadtwerke Kiel"}, headers=auth, timeout=10).json()

    def invitation(address):
        created = requests.post(stack.url + "/invitations", headers=auth, timeout=10, json={
            "name": "Ivy Invitee", "email": address, "org_id": org["id"], "roles": ["KEY_MANAGER"], "language": "en"})
        assert created.status_code == 201, created.text
        assert requests.post(stack.url + f"/invitations/{created.json()['id']}/send", headers=auth,
                             timeout=10).status_code == 200
        return created.json()["id"]

    accepted_id, revoked_id = invitation("ivy@example.com"), invitation("rex@example.com")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()

    page.goto(invitation_link(stack, accepted_id))
    assert "Stadtwerke Kiel" in page.inner_text("main") and "key manager" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "1-invitation.png"))
    page.fill("#password", "weakpassword")
    page.fill("#password_repeat", "weakpassword")
    page.click("#submit")
    page.wait_for_selector("#error")
    assert "too weak" in page.inner_text("#error") and "a digit" in page.inner_text("#error")
    page.screenshot(path=str(SHOTS / "2-weak-password.png"))
    page.fill("#password", GOOD)
    page.fill("#password_repeat", GOOD)
    page.click("#submit")
    page.wait_for_selector("#success")
    page.screenshot(path=str(SHOTS / "3-accepted.png"))

    login = requests.post(stack.url + "/auth/login", json={"email": "ivy@example.com", "password": GOOD}, timeout=10)
    assert login.status_code == 200 and login.json()["user"]["org_id"] == org["id"]

    requests.post(stack.url + f"/invitations/{revoked_id}/revoke", headers=auth, timeout=10)
    page.goto(invitation_link(stack, revoked_id))
    page.wait_for_selector("#dead")
    assert "no longer works" in page.inner_text("#dead")
    page.screenshot(path=str(SHOTS / "4-dead-link.png"))
    assert all((SHOTS / name).stat().st_size > 1000 for name in os.listdir(SHOTS))
