"""User management: create with credentials by mail or split over SMS, grants, scope, disable, admin password."""

import re

import pytest

from chalicelib.models import UserModel
from chalicelib.services.tenants.users import find_user_by_email
from tests.helpers import STRONG_PASSWORD, make_org

NEW_PASSWORD = "Brand-New-Passw0rd!"


@pytest.fixture
def orgs(api):
    make_org("acme", reference="INV-2026-0042")
    make_org("acme_east", parent_id="acme")
    make_org("rival")


def create(api, token, **fields):
    body = {"name": "Kim Keys", "email": "kim@example.com", "roles": ["VIEWER"], "org_id": "acme", **fields}
    return api.call("POST", "/users", body, token=token)


def temporary_password(mailbox, to):
    [message] = mailbox.messages(to=to)
    return re.search(r"(?:Temporary password|Vorläufiges Passwort): (\S+)", mailbox.text(message)).group(1)


def test_a_user_without_a_password_gets_its_credentials_by_mail_and_must_change_them(api, login_as, orgs, mailbox):
    admin = login_as("ORG_ADMIN", org_id="acme")
    response = create(api, admin, roles=["KEY_MANAGER"], language="de")
    assert response.status_code == 201, response.body
    assert response.data["sent"] == ["credentials"] and response.data["must_change_password"] is True
    [message] = mailbox.messages(to="kim@example.com")
    assert message["Subject"] == "Ihr Zugang zu keyport"
    password = temporary_password(mailbox, "kim@example.com")
    login = api.call("POST", "/auth/login", {"email": "kim@example.com", "password": password})
    assert login.status_code == 200 and login.data["must_change_password"] is True


def test_split_delivery_sends_the_password_by_sms_and_asks_for_the_reference_at_first_login(
    api, login_as, orgs, mailbox
):
    admin = login_as("ORG_ADMIN", org_id="acme")
    response = create(api, admin, phone="+4915123456789", delivery="split")
    assert response.status_code == 201 and response.data["sent"] == ["sms", "credentials"]
    [message] = mailbox.messages(to="kim@example.com")
    [(phone, text)] = mailbox.sms()
    password = text.rsplit(" ", 1)[1]
    assert phone == "+4915123456789" and password not in mailbox.text(message)
    assert "SMS" in mailbox.text(message)
    without = api.call("POST", "/auth/login", {"email": "kim@example.com", "password": password})
    wrong = api.call(
        "POST", "/auth/login", {"email": "kim@example.com", "password": password, "org_reference": "INV-1"}
    )
    assert without.status_code == wrong.status_code == 401 and without.data == wrong.data
    login = api.call(
        "POST", "/auth/login", {"email": "kim@example.com", "password": password, "org_reference": " inv-2026-0042 "}
    )
    assert login.status_code == 200
    api.call(
        "POST", "/me/password", {"current_password": password, "new_password": NEW_PASSWORD}, token=login.data["token"]
    )
    assert api.call("POST", "/auth/login", {"email": "kim@example.com", "password": NEW_PASSWORD}).status_code == 200


@pytest.mark.parametrize(
    "fields, status",
    [
        ({"phone": "015123456789", "delivery": "split"}, 422),
        ({"delivery": "split"}, 422),
        ({"phone": "+4915123456789", "delivery": "split", "org_id": "acme_east"}, 422),  # no reference there
    ],
)
def test_split_delivery_needs_an_e164_phone_and_an_org_reference(api, login_as, orgs, mailbox, fields, status):
    response = create(api, login_as("ORG_ADMIN", org_id="acme"), **fields)
    assert response.status_code == status
    assert find_user_by_email("kim@example.com") is None and mailbox.messages() == []


def test_a_failed_credentials_mail_leaves_no_user_behind(api, login_as, orgs):
    # No templates synced and no verified sender: the mail cannot go out.
    response = create(api, login_as("ORG_ADMIN", org_id="acme"))
    assert (response.status_code, response.data["error"]["code"]) == (502, "mail_not_sent")
    assert find_user_by_email("kim@example.com") is None


def test_a_given_password_is_set_without_mail_and_must_be_changed(api, login_as, orgs, mailbox):
    response = create(api, login_as("ORG_ADMIN", org_id="acme"), password=STRONG_PASSWORD)
    assert response.status_code == 201 and response.data["sent"] == [] and mailbox.messages() == []
    assert (
        api.call("POST", "/auth/login", {"email": "kim@example.com", "password": STRONG_PASSWORD}).data[
            "must_change_password"
        ]
        is True
    )


def test_an_email_in_use_answers_409(api, login_as, orgs, mailbox):
    admin = login_as("ORG_ADMIN", org_id="acme", email="boss@example.com")
    assert create(api, admin, email="BOSS@example.com").status_code == 409


@pytest.mark.parametrize(
    "granter, fields",
    [
        ("ORG_ADMIN", {"roles": ["OPERATOR"]}),
        ("ORG_ADMIN", {"roles": ["INSTALLER"]}),
        ("ORG_ADMIN", {"roles": ["VIEWER"], "permissions": ["templates.manage"]}),
        ("ORG_ADMIN", {"roles": ["VIEWER"], "permissions": ["devices.take_ownership"]}),
    ],
)
def test_nobody_grants_a_role_or_permission_it_lacks(api, login_as, orgs, mailbox, granter, fields):
    response = create(api, login_as(granter, org_id="acme"), **fields)
    assert (response.status_code, response.data["error"]["code"]) == (403, "grant_refused")


def test_an_admin_may_pass_on_a_permission_it_holds(api, login_as, orgs, mailbox):
    admin = login_as("ORG_ADMIN", org_id="acme", permissions=("templates.manage",))
    assert create(api, admin, permissions=["templates.manage"]).status_code == 201


@pytest.mark.parametrize("org_id", ["root", "rival", "nope"])
def test_creating_users_above_or_beside_the_own_organization_answers_404(api, login_as, orgs, mailbox, org_id):
    assert create(api, login_as("ORG_ADMIN", org_id="acme"), org_id=org_id).status_code == 404


def test_users_outside_the_scope_answer_404_on_every_route(api, login_as, orgs, mailbox):
    rival_admin = login_as("ORG_ADMIN", org_id="rival", email="rival@example.com")
    rival = find_user_by_email("rival@example.com")
    admin = login_as("ORG_ADMIN", org_id="acme")
    for method, path, body in [
        ("GET", "", None),
        ("PATCH", "", {"name": "x"}),
        ("DELETE", "", None),
        ("POST", "/password", {"new_password": NEW_PASSWORD}),
    ]:
        response = api.call(method, f"/users/{rival.user_id}{path}", body, token=admin)
        assert response.status_code == 404 and rival.email not in response.body.decode()
    assert api.call("GET", "/me", token=rival_admin).status_code == 200


def test_moving_a_user_out_of_the_scope_is_refused(api, login_as, orgs, mailbox):
    admin = login_as("ORG_ADMIN", org_id="acme")
    user_id = create(api, admin).data["id"]
    assert api.call("PATCH", f"/users/{user_id}", {"org_id": "rival"}, token=admin).status_code == 404
    assert api.call("PATCH", f"/users/{user_id}", {"org_id": "acme_east"}, token=admin).data["org_id"] == "acme_east"


def test_a_more_powerful_user_cannot_be_managed(api, login_as, orgs, mailbox):
    login_as("ORG_ADMIN", org_id="acme", email="boss@example.com", permissions=("templates.manage",))
    boss = find_user_by_email("boss@example.com")
    admin = login_as("ORG_ADMIN", org_id="acme")
    assert (
        api.call("POST", f"/users/{boss.user_id}/password", {"new_password": NEW_PASSWORD}, token=admin).status_code
        == 403
    )
    assert api.call("PATCH", f"/users/{boss.user_id}", {"status": "DISABLED"}, token=admin).status_code == 403


def test_the_list_filters_and_shows_only_the_scope(api, login_as, orgs, mailbox):
    admin = login_as("ORG_ADMIN", org_id="acme", email="boss@acme.example")
    create(api, admin, email="kim@acme.example", name="Kim Keys", roles=["KEY_MANAGER"])
    create(api, admin, email="vic@acme.example", name="Vic View", org_id="acme_east")
    login_as("ORG_ADMIN", org_id="rival", email="rival@example.com")

    def emails(query=""):
        return [item["email"] for item in api.call("GET", f"/users{query}", token=admin).data["items"]]

    assert emails() == ["boss@acme.example", "kim@acme.example", "vic@acme.example"]
    assert emails("?role=KEY_MANAGER") == ["kim@acme.example"]
    assert emails("?name=vic") == ["vic@acme.example"]
    assert emails("?email=KIM") == ["kim@acme.example"]
    assert emails("?org_id=acme_east") == ["vic@acme.example"]
    assert api.call("GET", "/users?org_id=rival", token=admin).status_code == 404


def test_updating_roles_and_disabling_ends_the_sessions(api, login_as, orgs, mailbox):
    admin = login_as("ORG_ADMIN", org_id="acme")
    viewer_token = login_as("VIEWER", org_id="acme", email="vic@example.com")
    viewer = find_user_by_email("vic@example.com")
    changed = api.call("PATCH", f"/users/{viewer.user_id}", {"roles": ["KEY_MANAGER"], "language": "sv"}, token=admin)
    assert changed.status_code == 200 and changed.data["roles"] == ["KEY_MANAGER"]
    assert api.call("DELETE", f"/users/{viewer.user_id}", token=admin).status_code == 204
    assert UserModel.get(viewer.user_id).status == "DISABLED"
    assert api.call("GET", "/me", token=viewer_token).status_code == 401
    assert api.call("POST", "/auth/login", {"email": "vic@example.com", "password": STRONG_PASSWORD}).status_code == 401


def test_an_admin_set_password_must_be_changed_and_ends_sessions(api, login_as, orgs, mailbox):
    admin = login_as("ORG_ADMIN", org_id="acme")
    token = login_as("VIEWER", org_id="acme", email="vic@example.com")
    user = find_user_by_email("vic@example.com")
    assert api.call("POST", f"/users/{user.user_id}/password", {"new_password": "weak"}, token=admin).status_code == 422
    assert (
        api.call("POST", f"/users/{user.user_id}/password", {"new_password": NEW_PASSWORD}, token=admin).status_code
        == 204
    )
    assert api.call("GET", "/me", token=token).status_code == 401
    login = api.call("POST", "/auth/login", {"email": "vic@example.com", "password": NEW_PASSWORD})
    assert login.data["must_change_password"] is True


def test_a_site_admin_manages_only_users_of_its_sites(api, login_as, orgs, mailbox):
    admin = login_as("ORG_ADMIN", org_id="acme")
    north = api.call("POST", "/sites", {"org_id": "acme", "name": "North"}, token=admin).data["id"]
    south = api.call("POST", "/sites", {"org_id": "acme", "name": "South"}, token=admin).data["id"]
    site_admin = login_as("SITE_ADMIN", org_id="acme", site_ids=(north,), email="north@example.com")
    assert create(api, site_admin, site_ids=[north]).status_code == 201
    refused = create(api, site_admin, email="x@example.com", site_ids=[south])
    assert refused.status_code == 403
    assert create(api, site_admin, email="y@example.com").status_code == 403  # no site at all
    other = create(api, admin, email="z@example.com", site_ids=[south]).data["id"]
    assert api.call("GET", f"/users/{other}", token=site_admin).status_code == 404
    assert [u["email"] for u in api.call("GET", "/users", token=site_admin).data["items"]] == [
        "kim@example.com",
        "north@example.com",
    ]


@pytest.mark.parametrize(
    "change", [{"roles": ["VIEWER"]}, {"status": "DISABLED"}, {"org_id": "acme_east"}, {"permissions": []}]
)
def test_nobody_changes_their_own_roles_status_or_organization(api, login_as, orgs, change):
    token = login_as("ORG_ADMIN", org_id="acme", email="self@example.com")
    me = find_user_by_email("self@example.com")
    assert api.call("PATCH", f"/users/{me.user_id}", change, token=token).status_code == 403
    assert api.call("PATCH", f"/users/{me.user_id}", {"name": "Still Me"}, token=token).status_code == 200
