"""Nobody grants beyond their own reach: OPERATOR is a scope, sites bound what a site admin gives, invitation
links go only to readers who could grant them (issue 17, items 1-3)."""

from datetime import datetime, timezone

import pytest

from chalicelib.models import SiteModel
from chalicelib.permissions import GRANTABLE_PERMISSIONS
from tests.helpers import make_device, make_org

EVERYTHING_BUT_OPERATOR = {"roles": ["ORG_ADMIN", "INSTALLER"], "permissions": list(GRANTABLE_PERMISSIONS)}


@pytest.fixture
def world(api):
    make_org("acme")
    make_org("rival")
    now = datetime.now(timezone.utc)
    SiteModel("site_a1", org_id="acme", name="Depot", created_at=now, created_by="usr_x").save()
    SiteModel("site_a2", org_id="acme", name="Yard", created_at=now, created_by="usr_x").save()
    make_device("SN-ONE", owner_org_id="acme", site_id="site_a1")
    make_device("SN-TWO", owner_org_id="acme", site_id="site_a2")
    make_device("SN-RIVAL", owner_org_id="rival")


def create_user(api, token, email, **fields):
    body = {
        "name": "New Person",
        "email": email,
        "org_id": "acme",
        "roles": ["VIEWER"],
        **fields,
        "password": "Correct-Horse-9-Battery",
    }
    return api.call("POST", "/users", body, token=token)


def test_an_admin_holding_every_action_still_cannot_mint_an_operator(api, login_as, world):
    admin = login_as(
        *EVERYTHING_BUT_OPERATOR["roles"], org_id="acme", permissions=EVERYTHING_BUT_OPERATOR["permissions"]
    )
    response = create_user(api, admin, "ops2@example.com", roles=["OPERATOR"])
    assert response.status_code == 403 and response.data["error"]["code"] == "grant_refused"
    assert (
        api.call(
            "POST", "/auth/login", {"email": "ops2@example.com", "password": "Correct-Horse-9-Battery"}
        ).status_code
        == 401
    )


def test_an_admin_holding_every_action_cannot_invite_or_promote_an_operator(api, login_as, world):
    admin = login_as(
        *EVERYTHING_BUT_OPERATOR["roles"], org_id="acme", permissions=EVERYTHING_BUT_OPERATOR["permissions"]
    )
    targets = api.call("GET", "/invitations/targets", token=admin).data
    assert "OPERATOR" not in targets["roles"] and "ORG_ADMIN" in targets["roles"]
    invite = api.call("POST", "/invitations", {"org_id": "acme", "roles": ["OPERATOR"]}, token=admin)
    assert invite.status_code == 403
    viewer = create_user(api, admin, "vera@example.com").data["id"]
    promote = api.call("PATCH", f"/users/{viewer}", {"roles": ["OPERATOR"]}, token=admin)
    assert promote.status_code == 403


def test_an_admin_cannot_take_over_an_operator_living_in_its_organization(api, login_as, world):
    from tests.helpers import make_user

    operator = make_user(email="ops-in-acme@example.com", roles=("OPERATOR",), org_id="acme")
    admin = login_as(
        *EVERYTHING_BUT_OPERATOR["roles"], org_id="acme", permissions=EVERYTHING_BUT_OPERATOR["permissions"]
    )
    response = api.call(
        "POST", f"/users/{operator.user_id}/password", {"new_password": "An0ther-Strong-Pass!"}, token=admin
    )
    assert response.status_code == 403


def test_an_operator_still_grants_operator(api, login_as, world):
    operator = login_as("OPERATOR")
    assert create_user(api, operator, "ops3@example.com", roles=["OPERATOR"]).status_code == 201


def test_a_viewer_a_site_admin_creates_sees_only_the_site_admins_site(api, login_as, world):
    site_admin = login_as("SITE_ADMIN", org_id="acme", site_ids=["site_a1"])
    response = create_user(api, site_admin, "wide@example.com", roles=["VIEWER"], site_ids=["site_a1"])
    assert response.status_code == 201
    viewer = api.login("wide@example.com")
    api.call(
        "POST",
        "/me/password",
        {"current_password": "Correct-Horse-9-Battery", "new_password": "An0ther-Strong-Pass!"},
        token=viewer,
    )
    viewer = api.login("wide@example.com", "An0ther-Strong-Pass!")
    serials = {item["serial"] for item in api.call("GET", "/devices", token=viewer).data["items"]}
    assert serials == {"SN-ONE"}


def test_a_site_admin_cannot_give_a_viewer_without_sites(api, login_as, world):
    site_admin = login_as("SITE_ADMIN", org_id="acme", site_ids=["site_a1"])
    response = create_user(api, site_admin, "nosite@example.com", roles=["VIEWER"], site_ids=[])
    assert response.status_code == 403 and response.data["error"]["code"] == "sites_refused"


def test_a_viewer_with_sites_sees_only_the_devices_of_its_sites(api, login_as, world):
    viewer = login_as("VIEWER", org_id="acme", site_ids=["site_a2"])
    serials = {item["serial"] for item in api.call("GET", "/devices", token=viewer).data["items"]}
    assert serials == {"SN-TWO"}


def test_a_site_admin_lists_only_invitations_within_its_sites_and_no_link_beyond_its_reach(api, login_as, world):
    operator = login_as("OPERATOR")
    admin_invite = api.call("POST", "/invitations", {"org_id": "acme", "roles": ["ORG_ADMIN"]}, token=operator).data
    other_site = api.call(
        "POST", "/invitations", {"org_id": "acme", "roles": ["SITE_ADMIN"], "site_ids": ["site_a2"]}, token=operator
    ).data
    own_site = api.call(
        "POST", "/invitations", {"org_id": "acme", "roles": ["SITE_ADMIN"], "site_ids": ["site_a1"]}, token=operator
    ).data
    site_admin = login_as("SITE_ADMIN", org_id="acme", site_ids=["site_a1"])
    listed = api.call("GET", "/invitations?org_id=acme", token=site_admin).data["items"]
    assert [item["id"] for item in listed] == [own_site["id"]]
    assert listed[0]["link"]
    for hidden in (admin_invite, other_site):
        assert api.call("GET", f"/invitations/{hidden['id']}", token=site_admin).status_code == 404


def test_a_link_to_a_role_beyond_the_reader_is_never_handed_out(api, login_as, world):
    operator = login_as("OPERATOR")
    installer_invite = api.call("POST", "/invitations", {"org_id": "acme", "roles": ["INSTALLER"]}, token=operator).data
    admin = login_as("ORG_ADMIN", org_id="acme")  # lacks the installer's devices.register
    [listed] = [
        item
        for item in api.call("GET", "/invitations?org_id=acme", token=admin).data["items"]
        if item["id"] == installer_invite["id"]
    ]
    assert listed["link"] is None
    assert api.call("GET", f"/invitations/{installer_invite['id']}", token=admin).data["link"] is None
    sent = api.call("POST", f"/invitations/{installer_invite['id']}/send", {"email": "me@example.com"}, token=admin)
    assert sent.status_code == 403 and sent.data["error"]["code"] == "invitation_beyond_reach"
    edit = api.call("PATCH", f"/invitations/{installer_invite['id']}", {"email": "me@example.com"}, token=admin)
    assert edit.status_code == 403


def test_a_site_admin_cannot_mint_a_customer_who_reads_every_installation(api, login_as, world):
    site_admin = login_as("SITE_ADMIN", org_id="acme", site_ids=["site_a1"])
    assert "CUSTOMER" not in api.call("GET", "/invitations/targets", token=site_admin).data["roles"]
    response = create_user(api, site_admin, "reader@example.com", roles=["CUSTOMER"], site_ids=["site_a1"])
    assert response.status_code == 403 and response.data["error"]["code"] == "grant_refused"


def test_a_customer_with_sites_reads_only_the_installations_on_its_sites(api, login_as, world):
    from chalicelib.models import InstallationModel

    now = datetime.now(timezone.utc)
    for installation_id, site_id in (("ins_on_site", "site_a1"), ("ins_elsewhere", "site_a2")):
        InstallationModel(
            installation_id,
            serial="SN-ONE",
            product_type="meter",
            installer_org_id="rival",
            installer_user_id="usr_i",
            customer_org_id="acme",
            customer_user_id="usr_c",
            state="ACTIVE",
            customer={"email": "c@example.com", "name": "C"},
            web_address="casa.example",
            site_id=site_id,
            created_key=f"{now.isoformat()}#{installation_id}",
            created_at=now,
            activation_expires_at=now,
        ).save()
    customer = login_as("CUSTOMER", org_id="acme", site_ids=["site_a1"])
    listed = api.call("GET", "/installations", token=customer).data["items"]
    assert [item["id"] for item in listed] == ["ins_on_site"]
    assert api.call("GET", "/installations/ins_elsewhere", token=customer).status_code == 404
