"""Sites: CRUD in scope; a SITE_ADMIN sees and edits only its own."""

import pytest

from tests.helpers import make_org


@pytest.fixture
def admin(api, login_as):
    make_org("acme")
    make_org("rival")
    return login_as("ORG_ADMIN", org_id="acme")


def new_site(api, token, name="North", org_id="acme"):
    response = api.call("POST", "/sites", {"org_id": org_id, "name": name, "address": "Hafenstr. 1, Kiel"}, token=token)
    assert response.status_code == 201, response.body
    return response.data


def test_sites_are_created_read_changed_listed_and_deleted(api, admin):
    site = new_site(api, admin)
    assert api.call("GET", f"/sites/{site['id']}", token=admin).data == site
    changed = api.call("PATCH", f"/sites/{site['id']}", {"name": "Nord"}, token=admin)
    assert changed.data["name"] == "Nord" and changed.data["address"] == "Hafenstr. 1, Kiel"
    assert [s["id"] for s in api.call("GET", "/sites?org_id=acme", token=admin).data["items"]] == [site["id"]]
    assert api.call("DELETE", f"/sites/{site['id']}", token=admin).status_code == 204
    assert api.call("GET", f"/sites/{site['id']}", token=admin).status_code == 404


def test_sites_of_another_organization_answer_404(api, admin, login_as):
    rival = new_site(api, login_as("ORG_ADMIN", org_id="rival"), org_id="rival")
    for method, body in [("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)]:
        assert api.call(method, f"/sites/{rival['id']}", body, token=admin).status_code == 404
    assert api.call("POST", "/sites", {"org_id": "rival", "name": "x"}, token=admin).status_code == 404
    assert api.call("GET", "/sites", token=admin).data["items"] == []


def test_a_site_admin_sees_and_edits_its_sites_only_and_creates_none(api, admin, login_as):
    north, south = new_site(api, admin, "North"), new_site(api, admin, "South")
    site_admin = login_as("SITE_ADMIN", org_id="acme", site_ids=(north["id"],))
    assert [s["id"] for s in api.call("GET", "/sites", token=site_admin).data["items"]] == [north["id"]]
    assert api.call("GET", f"/sites/{south['id']}", token=site_admin).status_code == 404
    assert api.call("PATCH", f"/sites/{north['id']}", {"address": "Kai 2"}, token=site_admin).status_code == 200
    assert api.call("POST", "/sites", {"name": "New"}, token=site_admin).status_code == 403
    assert api.call("DELETE", f"/sites/{north['id']}", token=site_admin).status_code == 403


@pytest.mark.parametrize("role, status", [("VIEWER", 403), ("KEY_MANAGER", 403), ("CUSTOMER", 403)])
def test_roles_without_sites_manage_cannot_change_sites(api, admin, login_as, role, status):
    site = new_site(api, admin)
    token = login_as(role, org_id="acme")
    assert api.call("PATCH", f"/sites/{site['id']}", {"name": "x"}, token=token).status_code == status
    assert api.call("POST", "/sites", {"name": "x"}, token=token).status_code == status
