"""The installer flow over HTTP on the real `make run` stack, and the customer's activation link in Chromium:
register -> approve -> first login -> check and register a device -> the customer activates it."""

import re
import time

import requests

from tests.e2e.browser_checks import check_page
from tests.e2e.conftest import mailed_link, outbox_texts

OPERATOR = {"email": "ops@example.com", "password": "Installer-Operat0r-Pass"}
INSTALLER_PASSWORD = "Installer-Passw0rd-88"
CUSTOMER_PASSWORD = "Customer-Passw0rd-99"
DEVICE = {
    "serial": "ALARM-0042",
    "product_type": "alarm-server",
    "mac": "00:1a:2b:3c:4d:42",
    "id_code": "AB12CD34",
    "keys": [{"name": "web", "algorithm": "AES256", "hex": "ab" * 32}],
}


def call(stack, method, path, token=None, **body):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, stack.url + path, json=body or None, headers=headers, timeout=20)


def stored_registrations(stack, operator, wait=20.0):
    """The pending registrations once the stack's worker has stored the queued one (it polls its queue)."""
    deadline = time.monotonic() + wait
    while True:
        items = call(stack, "GET", "/registrations?state=PENDING", operator).json()["items"]
        if items or time.monotonic() > deadline:
            return items
        time.sleep(0.2)


def test_an_installer_registers_a_customers_device_and_the_customer_activates_it_in_the_browser(local_stack, browser):
    stack = local_stack(KEYPORT_OPERATOR_EMAIL=OPERATOR["email"], KEYPORT_OPERATOR_PASSWORD=OPERATOR["password"])
    operator = call(stack, "POST", "/auth/login", **OPERATOR).json()["token"]

    assert (
        call(
            stack,
            "POST",
            "/public/registrations",
            kind="installer",
            name="Ines Schmidt",
            email="ines@schmidt.example",
            company_name="Schmidt Haustechnik",
            language="en",
        ).status_code
        == 202
    )
    [registration] = stored_registrations(stack, operator)
    assert call(stack, "POST", f"/registrations/{registration['id']}/approve", operator).status_code == 200
    [approved] = outbox_texts(stack, "registration_approved")
    temporary = re.search(r"Temporary password: (\S+)", approved).group(1)
    installer = call(stack, "POST", "/auth/login", email="ines@schmidt.example", password=temporary).json()["token"]
    assert (
        call(
            stack, "POST", "/me/password", installer, current_password=temporary, new_password=INSTALLER_PASSWORD
        ).status_code
        == 204
    )

    assert call(stack, "POST", "/devices/import", operator, items=[DEVICE]).json()["imported"] == 1
    checked = call(stack, "POST", "/installations/check", installer, id_code="ab12-cd34", mac="001A2B3C4D42")
    assert checked.status_code == 200 and checked.json()["serial"] == "ALARM-0042", checked.text
    created = call(
        stack,
        "POST",
        "/installations",
        installer,
        id_code="AB12CD34",
        mac="00:1a:2b:3c:4d:42",
        web_address="https://alarm-42.example.net",
        customer={"email": "erika@example.com", "name": "Erika Mustermann", "address": "Lindenweg 3"},
    )
    assert created.status_code == 201 and created.json()["mails_sent"] == ["activation"], created.text

    page = browser.new_page()
    link = mailed_link(stack, "activation", "/activate/")
    page.goto(link)
    assert "Schmidt Haustechnik" in page.inner_text("#intro") and "ALARM-0042" in page.inner_text("#intro")
    assert page.input_value("#address") == "Lindenweg 3"
    check_page(page, "activation-1-form")
    page.fill("#phone", "+4943112345")
    page.fill("#password", "weakpassword")
    page.fill("#password_repeat", "weakpassword")
    page.click("#submit")
    page.wait_for_selector("#error")
    assert "too weak" in page.inner_text("#error") and page.input_value("#phone") == "+4943112345"
    check_page(page, "activation-2-weak-password")
    page.fill("#password", CUSTOMER_PASSWORD)
    page.fill("#password_repeat", CUSTOMER_PASSWORD)
    page.click("#submit")
    page.wait_for_selector("#success")
    check_page(page, "activation-3-done")

    customer = call(stack, "POST", "/auth/login", email="erika@example.com", password=CUSTOMER_PASSWORD).json()
    assert customer["must_change_password"] is False and customer["user"]["phone"] == "+4943112345"
    [installation] = call(stack, "GET", "/installations", customer["token"]).json()["items"]
    assert installation["state"] == "ACTIVE" and installation["device"]["claim_status"] == "CLAIMED"
    assert installation["customer"]["phone"] == "+4943112345"
    assert call(stack, "GET", "/installations", installer).json()["items"][0]["state"] == "ACTIVE"
    page.goto(link)
    page.wait_for_selector("#dead")
    check_page(page, "activation-4-dead-link")
