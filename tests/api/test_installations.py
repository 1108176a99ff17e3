"""Installers register customers' devices by ID code + MAC; customers activate them from the mailed link."""

import re
from datetime import datetime

import pytest

from chalicelib.models import AuditEventModel, DeviceModel, InstallationModel, OrganizationModel, SiteModel, UserModel
from chalicelib.services.tenants.users import find_user_by_email
from tests.helpers import make_device, make_org, make_user

CUSTOMER = {
    "email": "erika@example.com",
    "name": "Erika Mustermann",
    "phone": "+4943112345",
    "address": "Lindenweg 3, 24103 Kiel",
}
PASSWORD = "Customer-Passw0rd-9"


@pytest.fixture
def installers(api, login_as, mailbox):
    """Two installer companies, a device for each of them to install, and a staff user."""
    make_org("schmidt", name="Schmidt Haustechnik")
    make_org("meyer", name="Meyer Elektro")
    make_device("WM-1", id_code="ID0001", mac="00:1a:2b:3c:4d:01", product_type="water-meter")
    make_device("WM-2", id_code="ID0002", mac="00:1a:2b:3c:4d:02", product_type="water-meter")
    return {
        "schmidt": login_as("INSTALLER", org_id="schmidt", name="Ines Schmidt"),
        "meyer": login_as("INSTALLER", org_id="meyer", name="Max Meyer"),
    }


def install(api, token, id_code="ID-0001", mac="00:1a:2b:3c:4d:01", customer=None, **fields):
    body = {
        "id_code": id_code,
        "mac": mac,
        "web_address": "https://alarm-1.example.net",
        "customer": customer or CUSTOMER,
        **fields,
    }
    response = api.call("POST", "/installations", body, token=token)
    assert response.status_code == 201, response.body
    return response.data


def activation_token(mailbox, to="erika@example.com"):
    message = [m for m in mailbox.messages(to=to) if m["X-Keyport-Mail-Type"] == "activation"][-1]
    return re.search(r"/activate/(\S+)", mailbox.text(message)).group(1)


def actions():
    return [event.action for event in AuditEventModel.scan()]


def test_the_check_names_the_device_of_an_id_code_and_mac_in_any_notation(api, installers):
    response = api.call(
        "POST", "/installations/check", {"id_code": "id 0001", "mac": "001A.2B3C.4D01"}, token=installers["schmidt"]
    )
    assert response.status_code == 200, response.body
    assert response.data == {
        "serial": "WM-1",
        "product_type": "water-meter",
        "claim_status": "UNCLAIMED",
        "installation_id": None,
        "customer": None,
    }


@pytest.mark.parametrize(
    "id_code, mac",
    [
        ("ID-0001", "00:1a:2b:3c:4d:02"),
        ("ID-9999", "00:1a:2b:3c:4d:01"),
        ("x", "00:1a:2b:3c:4d:01"),
        ("ID-0001", "not-a-mac"),
    ],
)
def test_a_wrong_pair_answers_404_and_is_audited(api, installers, id_code, mac):
    response = api.call("POST", "/installations/check", {"id_code": id_code, "mac": mac}, token=installers["schmidt"])
    assert response.status_code == 404 and response.data["error"]["code"] == "device_not_found"
    assert "installation_check_failed" in actions()


def test_a_pair_two_devices_share_matches_neither(api, installers):
    make_device("WM-TWIN", id_code="ID0001", mac="00:1a:2b:3c:4d:01")
    response = api.call(
        "POST", "/installations/check", {"id_code": "ID-0001", "mac": "00:1a:2b:3c:4d:01"}, token=installers["schmidt"]
    )
    assert response.status_code == 404


def check(api, token, id_code="ID-0001", mac="00:1a:2b:3c:4d:01"):
    return api.call("POST", "/installations/check", {"id_code": id_code, "mac": mac}, token=token)


def test_ten_failed_checks_lock_the_account_but_not_another_installer_behind_the_same_address(api, installers):
    for number in range(10):  # every request of the test client comes from one source address, as behind a NAT
        assert check(api, installers["schmidt"], f"GUESS{number}", "00:1a:2b:3c:4d:99").status_code == 404
    assert check(api, installers["schmidt"]).status_code == 429
    assert check(api, installers["meyer"]).status_code == 200


def test_ten_failed_checks_at_one_mac_lock_that_mac_for_every_account(api, installers, login_as):
    for number in range(5):
        check(api, installers["schmidt"], f"GUESS{number}", "001A2B3C4D01")
        check(api, installers["meyer"], f"GUESS{number}", "00-1a-2b-3c-4d-01")
    third = login_as("INSTALLER", org_id="meyer")
    assert check(api, third).status_code == 429
    assert check(api, third, "ID-0002", "00:1a:2b:3c:4d:02").status_code == 200


def test_a_source_address_is_locked_only_after_a_hundred_failed_checks(api, installers, login_as):
    accounts = [login_as("INSTALLER", org_id="meyer") for _ in range(10)]
    for index, account in enumerate(accounts):
        for number in range(10):
            check(api, account, f"GUESS{number}", f"00:1a:2b:3c:{index:02d}:99")
    locked = check(api, installers["schmidt"])
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_a_locked_check_names_the_seconds_until_the_failures_leave_the_window(api, installers, monkeypatch):
    import time

    now = time.time() // 900 * 900 + 30  # 30 s into a quarter hour, held there
    monkeypatch.setattr(time, "time", lambda: now)
    for number in range(10):
        check(api, installers["schmidt"], f"GUESS{number}", "00:1a:2b:3c:4d:99")
    locked = check(api, installers["schmidt"])
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "871"  # counted in minute slots


def test_a_new_customer_gets_an_account_and_only_the_activation_mail_whose_page_sets_the_password(
    api, installers, mailbox
):
    created = install(api, installers["schmidt"], language="de")
    # one password path: no temporary password is mailed, the activation page asks the customer to choose one
    assert created["mails_sent"] == ["activation"]
    assert [m["X-Keyport-Mail-Type"] for m in mailbox.messages(to="erika@example.com")] == ["activation"]
    assert api.call("GET", f"/public/activations/{activation_token(mailbox)}").data["password_required"] is True
    customer = find_user_by_email("erika@example.com")
    assert customer.user_id == created["customer_user_id"] and customer.roles == ["CUSTOMER"]
    assert customer.must_change_password and customer.language == "de" and customer.name == "Erika Mustermann"
    org = OrganizationModel.get(created["customer_org_id"])
    assert org.parent_id == "root" and customer.org_id == org.org_id
    device = DeviceModel.get("WM-1")
    assert device.claim_status == "PENDING" and device.owner_org_id == org.org_id
    assert (
        created["installation"]["state"] == "PENDING" and created["installation"]["device"]["claim_status"] == "PENDING"
    )
    activation = mailbox.text(mailbox.messages(to="erika@example.com")[0])
    assert "Schmidt Haustechnik" in activation and "WM-1" in activation and "14 Tage" in activation
    assert "installation_created" in actions()
    assert (
        api.call("POST", f"/public/activations/{activation_token(mailbox)}", {"password": PASSWORD}).status_code == 200
    )
    assert (
        api.call("POST", "/auth/login", {"email": "erika@example.com", "password": PASSWORD}).data[
            "must_change_password"
        ]
        is False
    )


def test_a_customer_registered_by_two_installers_has_one_account_and_two_installations(api, installers, mailbox):
    first = install(api, installers["schmidt"])
    second = install(
        api,
        installers["meyer"],
        id_code="ID-0002",
        mac="00:1a:2b:3c:4d:02",
        customer={**CUSTOMER, "email": "Erika@Example.com"},
    )
    # meyer learns nothing of schmidt's customer: the answer is a new customer's, its ids are not hers
    assert second["mails_sent"] == first["mails_sent"] == ["activation"]
    assert second["customer_user_id"] != first["customer_user_id"]
    assert second["customer_org_id"] != first["customer_org_id"]
    assert [m["X-Keyport-Mail-Type"] for m in mailbox.messages(to="erika@example.com")] == ["activation"] * 2
    assert UserModel.count() == 3  # two installers and one customer
    customer = api.login("erika@example.com", password=_set_password(api, mailbox))
    assert api.call("POST", f"/public/activations/{activation_token(mailbox)}", {}).status_code == 200
    mine = api.call("GET", "/installations", token=customer).data["items"]
    assert sorted(item["serial"] for item in mine) == ["WM-1", "WM-2"]
    assert DeviceModel.get("WM-2").owner_org_id == first["customer_org_id"]
    # her activation bound meyer's installation to her account; the organization made for it is gone
    seen = api.call("GET", f"/installations/{second['installation_id']}", token=installers["meyer"]).data
    assert (seen["customer_org_id"], seen["customer_user_id"]) == (first["customer_org_id"], first["customer_user_id"])
    assert OrganizationModel.count() == 4  # root, two installers, the customer's


def test_an_installers_own_customer_is_named_by_its_ids(api, installers, mailbox):
    first = install(api, installers["schmidt"])
    again = install(api, installers["schmidt"], id_code="ID-0002", mac="00:1a:2b:3c:4d:02")
    assert again["mails_sent"] == ["activation"]
    assert (again["customer_user_id"], again["customer_org_id"]) == (
        first["customer_user_id"],
        first["customer_org_id"],
    )


@pytest.mark.parametrize("holder", ["operator", "foreign_admin", "foreign_customer", "disabled_customer"])
def test_an_address_of_somebody_elses_account_answers_like_a_new_one(api, installers, mailbox, holder):
    make_org("other", name="Other Tenant")
    roles, org_id = {
        "operator": (("OPERATOR",), "root"),
        "foreign_admin": (("ORG_ADMIN",), "other"),
        "foreign_customer": (("CUSTOMER",), "other"),
        "disabled_customer": (("CUSTOMER",), "other"),
    }[holder]
    taken = make_user(email="taken@example.com", roles=roles, org_id=org_id)
    if holder == "disabled_customer":
        taken.update(actions=[UserModel.status.set("DISABLED")])
    fresh = install(
        api,
        installers["meyer"],
        id_code="ID-0002",
        mac="00:1a:2b:3c:4d:02",
        customer={**CUSTOMER, "email": "fresh@example.com"},
    )
    answer = install(api, installers["meyer"], customer={**CUSTOMER, "email": "taken@example.com"})
    assert answer.keys() == fresh.keys() and answer["mails_sent"] == fresh["mails_sent"]
    assert answer["installation"].keys() == fresh["installation"].keys()
    assert answer["customer_user_id"] != taken.user_id and answer["customer_org_id"] != org_id
    assert answer["customer_user_id"].startswith("usr_") and answer["customer_org_id"].startswith("org_")
    seen = api.call("GET", f"/installations/{answer['installation_id']}", token=installers["meyer"]).data
    assert (seen["customer_user_id"], seen["customer_org_id"]) == (
        answer["customer_user_id"],
        answer["customer_org_id"],
    )
    resent = api.call("POST", f"/installations/{answer['installation_id']}/resend", token=installers["meyer"])
    assert resent.status_code == 200
    # only the holder is mailed (no password: the account has one); only an active customer's link works
    assert [m["X-Keyport-Mail-Type"] for m in mailbox.messages(to="taken@example.com")] == ["activation"] * 2
    activated = api.call("POST", f"/public/activations/{activation_token(mailbox, 'taken@example.com')}", {})
    assert activated.status_code == (200 if holder == "foreign_customer" else 410)
    user = UserModel.get(taken.user_id)
    assert (user.org_id, user.roles) == (org_id, list(roles))
    assert DeviceModel.get("WM-1").owner_org_id == (
        org_id if holder == "foreign_customer" else answer["customer_org_id"]
    )


def test_installations_are_created_at_most_thirty_an_hour_per_installer(api, installers, monkeypatch):
    from chalicelib.services.installers import installations

    monkeypatch.setattr(installations, "CREATIONS_PER_HOUR", 1, raising=False)
    install(api, installers["schmidt"])
    refused = api.call(
        "POST",
        "/installations",
        {"id_code": "ID-0002", "mac": "00:1a:2b:3c:4d:02", "customer": {**CUSTOMER, "email": "x@example.com"}},
        token=installers["schmidt"],
    )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert DeviceModel.get("WM-2").claim_status == "UNCLAIMED"
    install(api, installers["meyer"], id_code="ID-0002", mac="00:1a:2b:3c:4d:02")  # another installer is not held


def _set_password(api, mailbox):
    """Activate the first installation with a password of the customer's choosing; answer it."""
    tokens = [
        re.search(r"/activate/(\S+)", mailbox.text(m)).group(1)
        for m in mailbox.messages(to="erika@example.com")
        if m["X-Keyport-Mail-Type"] == "activation"
    ]
    response = api.call("POST", f"/public/activations/{tokens[0]}", {"password": PASSWORD})
    assert response.status_code == 200, response.body
    return PASSWORD


def test_an_installer_sees_only_its_own_installations_and_customers(api, installers):
    first = install(api, installers["schmidt"])
    listed = api.call("GET", "/installations", token=installers["meyer"])
    assert listed.status_code == 200 and listed.data["items"] == []
    assert api.call("GET", f"/installations/{first['installation_id']}", token=installers["meyer"]).status_code == 404
    assert api.call("GET", f"/orgs/{first['customer_org_id']}", token=installers["meyer"]).status_code == 404
    own = api.call("GET", "/installations", token=installers["schmidt"]).data["items"]
    assert [item["id"] for item in own] == [first["installation_id"]] and own[0]["customer"] == CUSTOMER


def test_the_check_of_an_own_pending_device_shows_the_customer_data_and_others_get_409(api, installers):
    created = install(api, installers["schmidt"])
    body = {"id_code": "ID-0001", "mac": "00:1a:2b:3c:4d:01"}
    own = api.call("POST", "/installations/check", body, token=installers["schmidt"])
    assert own.status_code == 200 and own.data["customer"] == CUSTOMER
    assert own.data["installation_id"] == created["installation_id"] and own.data["claim_status"] == "PENDING"
    other = api.call("POST", "/installations/check", body, token=installers["meyer"])
    assert other.status_code == 409 and other.data["error"]["code"] == "device_unavailable"
    again = api.call("POST", "/installations", {**body, "customer": CUSTOMER}, token=installers["meyer"])
    assert again.status_code == 409 and InstallationModel.count() == 1


def test_a_failed_mail_leaves_no_customer_installation_or_reservation(api, installers, monkeypatch):
    from chalicelib.mail import MailNotSent
    from chalicelib.services.installers import installations

    def broken(mail_type, *args, **kwargs):
        if mail_type == "activation":
            raise MailNotSent()

    monkeypatch.setattr(installations, "send_mail", broken)
    response = api.call(
        "POST",
        "/installations",
        {"id_code": "ID-0001", "mac": "00:1a:2b:3c:4d:01", "customer": CUSTOMER, "site": {"name": "Keller"}},
        token=installers["schmidt"],
    )
    assert response.status_code == 502
    assert find_user_by_email("erika@example.com") is None and InstallationModel.count() == 0
    device = DeviceModel.get("WM-1")
    assert device.claim_status == "UNCLAIMED" and device.owner_org_id is None and device.installation_id is None
    assert OrganizationModel.count() == 3  # root and the two installers


def test_the_activation_link_shows_the_data_and_activates_once(api, installers, mailbox):
    created = install(api, installers["schmidt"], site={"name": "Keller", "address": "Lindenweg 3"})
    token = activation_token(mailbox)
    shown = api.call("GET", f"/public/activations/{token}")
    assert shown.status_code == 200 and shown.data["customer"] == CUSTOMER and shown.data["password_required"]
    assert shown.data["installer_name"] == "Schmidt Haustechnik" and shown.data["serial"] == "WM-1"
    done = api.call("POST", f"/public/activations/{token}", {"name": "Erika Musterfrau", "password": PASSWORD})
    assert done.status_code == 200, done.body
    assert done.data["installation"]["state"] == "ACTIVE"
    assert done.data["installation"]["customer"]["name"] == "Erika Musterfrau"
    device = DeviceModel.get("WM-1")
    assert device.claim_status == "CLAIMED" and device.owner_org_id == created["customer_org_id"]
    assert device.site_id == created["installation"]["site_id"] is not None
    user = find_user_by_email("erika@example.com")
    assert user.name == "Erika Musterfrau" and not user.must_change_password
    assert api.login("erika@example.com", PASSWORD)
    assert api.call("POST", f"/public/activations/{token}", {"password": PASSWORD}).status_code == 410
    assert api.call("GET", f"/public/activations/{token}").status_code == 410
    assert {"installation_activated", "device_claimed"} <= set(actions())


@pytest.mark.parametrize(
    "body, code",
    [
        ({}, "validation_failed"),
        ({"password": "short"}, "weak_password"),
        ({"password": PASSWORD, "email": "other@example.com"}, "validation_failed"),
        ({"password": PASSWORD, "phone": "0431 123"}, "validation_failed"),
    ],
)
def test_a_refused_activation_changes_nothing_and_the_link_still_works(api, installers, mailbox, body, code):
    install(api, installers["schmidt"])
    token = activation_token(mailbox)
    response = api.call("POST", f"/public/activations/{token}", body)
    assert response.status_code == 422 and response.data["error"]["code"] == code
    assert InstallationModel.scan().next().state == "PENDING" and DeviceModel.get("WM-1").claim_status == "PENDING"
    assert api.call("POST", f"/public/activations/{token}", {"password": PASSWORD}).status_code == 200


def test_a_known_customer_activates_without_a_password(api, installers, mailbox):
    install(api, installers["schmidt"])
    _set_password(api, mailbox)
    install(api, installers["meyer"], id_code="ID-0002", mac="00:1a:2b:3c:4d:02")
    token = activation_token(mailbox)
    assert api.call("GET", f"/public/activations/{token}").data["password_required"] is False
    refused = api.call("POST", f"/public/activations/{token}", {"password": "Another-Passw0rd-1"})
    assert refused.status_code == 422
    assert api.call("POST", f"/public/activations/{token}", {}).status_code == 200
    assert DeviceModel.get("WM-2").claim_status == "CLAIMED"


def test_cancelling_frees_the_device_and_kills_the_link(api, installers, mailbox, login_as):
    created = install(api, installers["schmidt"])
    token = activation_token(mailbox)
    path = f"/installations/{created['installation_id']}/cancel"
    assert api.call("POST", path, token=installers["meyer"]).status_code == 404
    cancelled = api.call("POST", path, token=installers["schmidt"])
    assert cancelled.status_code == 200 and cancelled.data["state"] == "CANCELLED"
    device = DeviceModel.get("WM-1")
    assert device.claim_status == "UNCLAIMED" and device.owner_org_id is None
    assert api.call("GET", f"/public/activations/{token}").status_code == 410
    again = api.call("POST", path, token=installers["schmidt"])
    assert again.status_code == 409 and again.data["error"]["code"] == "installation_closed"
    assert "installation_cancelled" in actions()
    assert install(api, installers["meyer"])["installation"]["state"] == "PENDING"  # the device is free again


def test_the_customer_sees_its_installation_but_cannot_cancel_it(api, installers, mailbox):
    created = install(api, installers["schmidt"])
    customer = api.login("erika@example.com", _set_password(api, mailbox))
    seen = api.call("GET", f"/installations/{created['installation_id']}", token=customer)
    assert seen.status_code == 200 and seen.data["device"]["claim_status"] == "CLAIMED"
    assert api.call("POST", f"/installations/{created['installation_id']}/cancel", token=customer).status_code == 403


def test_the_activation_page_shows_the_form_and_activates(api, installers, mailbox):
    install(api, installers["schmidt"], language="fr")
    token = activation_token(mailbox)
    page = api.client.http.get(f"/activate/{token}")
    html = page.body.decode()
    assert page.status_code == 200 and "Activez votre appareil WM-1" in html and "Schmidt Haustechnik" in html
    assert 'value="Lindenweg 3, 24103 Kiel"' in html and 'id="password"' in html
    form = "name=Erika+M.&phone=%2B4943112345&address=Lindenweg+3&password=short&password_repeat=short"
    weak = api.client.http.post(
        f"/activate/{token}", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    ).body.decode()
    assert 'id="error"' in weak and "au moins 12 caractères" in weak and 'value="Erika M."' in weak
    good = form.replace("short", PASSWORD)
    done = api.client.http.post(
        f"/activate/{token}", body=good, headers={"Content-Type": "application/x-www-form-urlencoded"}
    ).body.decode()
    assert 'id="success"' in done and "erika@example.com" in done
    assert 'href="/console/login?email=erika%40example.com&amp;lang=fr"' in done  # sign-in, the address filled
    assert find_user_by_email("erika@example.com").name == "Erika M."
    dead = api.client.http.get(f"/activate/{token}", headers={"Accept-Language": "de"}).body.decode()
    assert 'id="dead"' in dead and "Installateur" in dead


def test_phone_in_the_profile_can_be_set_and_removed(api, installers):
    assert (
        api.call("PATCH", "/me", {"phone": "+4915199999999"}, token=installers["schmidt"]).data["phone"]
        == "+4915199999999"
    )
    assert api.call("PATCH", "/me", {"phone": None}, token=installers["schmidt"]).data["phone"] is None
    assert api.call("PATCH", "/me", {"phone": "0431"}, token=installers["schmidt"]).status_code == 422


def test_the_hourly_job_expires_links_past_their_fourteen_days_and_frees_the_device(api, installers, mailbox):
    from datetime import datetime, timedelta, timezone

    from chalicelib.services.installers.installations import expire_installations

    created = install(api, installers["schmidt"])
    token = activation_token(mailbox)
    now = datetime.now(timezone.utc)
    assert expire_installations(now + timedelta(days=13, hours=23)) == {"read": 0, "expired": 0}
    assert expire_installations(now + timedelta(days=14, minutes=1)) == {"read": 1, "expired": 1}
    assert InstallationModel.get(created["installation_id"]).state == "EXPIRED"
    device = DeviceModel.get("WM-1")
    assert device.claim_status == "UNCLAIMED" and device.owner_org_id is None
    assert api.call("GET", f"/public/activations/{token}").status_code == 410
    assert expire_installations(now + timedelta(days=15)) == {"read": 0, "expired": 0}
    assert "installation_expired" in actions()


def test_a_known_customers_site_can_be_named_by_its_installer_only(api, installers, mailbox):
    first = install(api, installers["schmidt"], site={"name": "Keller", "address": "Lindenweg 3"})
    site_id = first["installation"]["site_id"]
    refused = api.call(
        "POST",
        "/installations",
        {
            "id_code": "ID0002",
            "mac": "00:1a:2b:3c:4d:02",
            "customer": {"email": "new@example.com", "name": "New"},
            "site_id": site_id,
        },
        token=installers["meyer"],
    )
    assert refused.status_code == 422 and DeviceModel.get("WM-2").claim_status == "UNCLAIMED"
    foreign = api.call(
        "POST",
        "/installations",
        {"id_code": "ID0002", "mac": "00:1a:2b:3c:4d:02", "customer": CUSTOMER, "site_id": site_id},
        token=installers["meyer"],
    )
    assert foreign.status_code == 422 and foreign.data == refused.data  # schmidt's customer is a stranger here
    second = install(api, installers["schmidt"], id_code="ID0002", mac="00:1a:2b:3c:4d:02", site_id=site_id)
    assert second["installation"]["site_id"] == site_id
    assert SiteModel.get(site_id).org_id == first["customer_org_id"]


def test_a_new_site_for_somebody_elses_customer_moves_to_the_customer_at_activation(api, installers, mailbox):
    first = install(api, installers["schmidt"])
    _set_password(api, mailbox)
    second = install(api, installers["meyer"], id_code="ID0002", mac="00:1a:2b:3c:4d:02", site={"name": "Garage"})
    assert api.call("POST", f"/public/activations/{activation_token(mailbox)}", {}).status_code == 200
    assert SiteModel.get(second["installation"]["site_id"]).org_id == first["customer_org_id"]
    assert DeviceModel.get("WM-2").site_id == second["installation"]["site_id"]


def test_a_resent_link_replaces_the_old_one_and_resends_are_limited(api, installers, mailbox):
    created = install(api, installers["schmidt"])
    old = activation_token(mailbox)
    path = f"/installations/{created['installation_id']}/resend"
    assert api.call("POST", path, token=installers["meyer"]).status_code == 404
    resent = api.call("POST", path, token=installers["schmidt"])
    assert resent.status_code == 200 and resent.data["state"] == "PENDING"
    new = activation_token(mailbox)
    assert (
        new != old
        and [m["X-Keyport-Mail-Type"] for m in mailbox.messages(to="erika@example.com")] == ["activation"] * 2
    )
    assert api.call("GET", f"/public/activations/{old}").status_code == 410
    for _ in range(4):
        assert api.call("POST", path, token=installers["schmidt"]).status_code == 200
    assert api.call("POST", path, token=installers["schmidt"]).status_code == 429
    latest = activation_token(mailbox)
    assert api.call("POST", f"/public/activations/{latest}", {"password": PASSWORD}).status_code == 200
    closed = api.call("POST", path, token=installers["schmidt"])
    assert closed.status_code == 409 and "installation_activation_resent" in actions()


@pytest.mark.parametrize("holder", ["nobody", "foreign_admin", "foreign_customer"])
def test_a_second_installation_for_an_address_answers_the_same_whoever_holds_it(api, installers, mailbox, holder):
    make_org("other", name="Other Tenant")
    if holder != "nobody":
        make_user(
            email="probe@example.com",
            roles=(("ORG_ADMIN",) if holder == "foreign_admin" else ("CUSTOMER",)),
            org_id="other",
        )
    first = install(api, installers["meyer"], customer={**CUSTOMER, "email": "probe@example.com"})
    cancelled = api.call("POST", f"/installations/{first['installation_id']}/cancel", token=installers["meyer"])
    assert cancelled.status_code == 200
    again = install(api, installers["meyer"], customer={**CUSTOMER, "email": "probe@example.com"})
    # a new address's customer exists after the first installation: the second names the same ids, and so must
    # somebody else's address be answered (an attack told them apart this way); every answer mails `activation`
    assert first["mails_sent"] == again["mails_sent"] == ["activation"]
    assert (again["customer_org_id"], again["customer_user_id"]) == (
        first["customer_org_id"],
        first["customer_user_id"],
    )


def test_an_installer_cannot_rewrite_the_profile_of_somebody_elses_customer(api, installers, mailbox):
    make_org("other", name="Other Tenant")
    victim = make_user(
        email="victim@example.com", name="Victor Real", roles=("CUSTOMER",), org_id="other", phone="+4917011111111"
    )
    install(
        api,
        installers["meyer"],
        customer={"email": "victim@example.com", "name": "Mallory Name", "phone": "+4915199999999"},
    )
    token = activation_token(mailbox, "victim@example.com")
    shown = api.call("GET", f"/public/activations/{token}").data["customer"]
    assert (shown["name"], shown["phone"]) == ("Victor Real", "+4917011111111")
    assert api.call("POST", f"/public/activations/{token}", {}).status_code == 200
    stored = UserModel.get(victim.user_id)
    assert (stored.name, stored.phone) == ("Victor Real", "+4917011111111")


def test_the_activation_page_states_the_expiry_in_the_links_language_and_names_the_time_zone(api, installers, mailbox):
    from zoneinfo import ZoneInfo

    install(api, installers["schmidt"], language="fr")
    token = activation_token(mailbox)
    expires_at = api.call("GET", f"/public/activations/{token}").data["expires_at"]
    html = api.client.http.get(f"/activate/{token}").body.decode()
    local = datetime.fromisoformat(expires_at).astimezone(ZoneInfo("Europe/Berlin"))
    zone = "heure d’été d’Europe centrale" if local.dst() else "heure normale d’Europe centrale"
    assert re.search(rf"Ce lien est valable jusqu&#39;au \d+ [^ ]+ {local:%Y}, {local:%H:%M} \({zone}\)\.", html)
    assert "UTC" not in html
