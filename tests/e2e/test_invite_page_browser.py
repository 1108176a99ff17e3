"""The invitation link in a real headless Chromium against the real `make run` stack."""

import requests

from tests.e2e.browser_checks import check_page
from tests.e2e.conftest import mailed_link

OPERATOR = {"email": "ops@example.com", "password": "Browser-Operat0r-Pass"}
GOOD = "Invited-Passw0rd-77"


def test_an_invitee_opens_the_mailed_link_fixes_a_weak_password_and_logs_in(local_stack, browser):
    stack = local_stack(KEYPORT_OPERATOR_EMAIL=OPERATOR["email"], KEYPORT_OPERATOR_PASSWORD=OPERATOR["password"])
    auth = {
        "Authorization": "Bearer " + requests.post(stack.url + "/auth/login", json=OPERATOR, timeout=10).json()["token"]
    }
    org = requests.post(stack.url + "/orgs", json={"name": "Stadtwerke Kiel"}, headers=auth, timeout=10).json()

    def invitation(address):
        created = requests.post(
            stack.url + "/invitations",
            headers=auth,
            timeout=10,
            json={
                "name": "Ivy Invitee",
                "email": address,
                "org_id": org["id"],
                "roles": ["KEY_MANAGER"],
                "language": "en",
            },
        )
        assert created.status_code == 201, created.text
        assert (
            requests.post(stack.url + f"/invitations/{created.json()['id']}/send", headers=auth, timeout=10).status_code
            == 200
        )
        return created.json()["id"]

    accepted_id, revoked_id = invitation("ivy@example.com"), invitation("rex@example.com")
    page = browser.new_page()

    page.goto(mailed_link(stack, "invite", rf"/invite/{accepted_id}\."))
    assert "Stadtwerke Kiel" in page.inner_text("main") and "key manager" in page.inner_text("main")
    check_page(page, "invitation-1-form")
    page.fill("#password", "weakpassword")
    page.fill("#password_repeat", "weakpassword")
    page.click("#submit")
    page.wait_for_selector("#error")
    assert "too weak" in page.inner_text("#error") and "a digit" in page.inner_text("#error")
    check_page(page, "invitation-2-weak-password")
    page.fill("#password", GOOD)
    page.fill("#password_repeat", GOOD)
    page.click("#submit")
    page.wait_for_selector("#success")
    check_page(page, "invitation-3-accepted")

    login = requests.post(stack.url + "/auth/login", json={"email": "ivy@example.com", "password": GOOD}, timeout=10)
    assert login.status_code == 200 and login.json()["user"]["org_id"] == org["id"]

    requests.post(stack.url + f"/invitations/{revoked_id}/revoke", headers=auth, timeout=10)
    page.goto(mailed_link(stack, "invite", rf"/invite/{revoked_id}\."))
    page.wait_for_selector("#dead")
    assert "no longer works" in page.inner_text("#dead")
    check_page(page, "invitation-4-dead-link")
