"""Organizations: the tree, its scope, moves without cycles, partner links."""
import pytest

from chalicelib.models import AuditEventModel, OrganizationModel
from tests.helpers import make_org


@pytest.fixture
def tree(api):
    """root > maker (can create orgs) > region > depot;  root > other."""
    make_org("maker", can_create_orgs=True, reference="INV-1")
    make_org("region", parent_id="maker")
    make_org("depot", parent_id="region")
    make_org("other")


def ids(response):
    return [item["id"] for item in response.data["items"]]


def test_the_list_holds_the_own_organization_its_descendants_and_partners(api, login_as, tree):
    admin = login_as("ORG_ADMIN", org_id="region")
    assert ids(api.call("GET", "/orgs", token=admin)) == ["region", "depot"]
    api.call("POST", "/orgs/region/partners", {"partner_org_id": "other"}, token=admin)
    listed = api.call("GET", "/orgs", token=admin).data["items"]
    assert [(item["id"], item["relation"]) for item in listed] == [
        ("region", "tree"), ("depot", "tree"), ("other", "partner")]
    assert "reference" not in listed[2]  # a partner shows who it is, nothing more


def test_an_operator_sees_the_whole_tree(api, login_as, tree):
    assert set(ids(api.call("GET", "/orgs", token=login_as("OPERATOR")))) == {"root", "maker", "region", "depot", "other"}


def test_the_list_filters_by_name_and_parent_and_pages(api, login_as, tree):
    token = login_as("OPERATOR")
    assert ids(api.call("GET", "/orgs?name=DEP", token=token)) == ["depot"]
    assert ids(api.call("GET", "/orgs?parent_id=maker", token=token)) == ["region"]
    first = api.call("GET", "/orgs?limit=2", token=token)
    second = api.call("GET", f"/orgs?limit=2&cursor={first.data['next_cursor']}", token=token)
    third = api.call("GET", f"/orgs?limit=2&cursor={second.data['next_cursor']}", token=token)
    assert len(ids(first) + ids(second) + ids(third)) == 5 and third.data["next_cursor"] is None


def test_an_organization_outside_the_scope_answers_404(api, login_as, tree):
    admin = login_as("ORG_ADMIN", org_id="region")
    for path in ["/orgs/maker", "/orgs/other", "/orgs/root", "/orgs/nonexistent"]:
        response = api.call("GET", path, token=admin)
        assert (response.status_code, response.data["error"]["code"]) == (404, "org_not_found")
    assert api.call("GET", "/orgs?parent_id=maker", token=admin).status_code == 404


def test_an_admin_of_an_organization_that_may_create_orgs_creates_one_below(api, login_as, tree):
    admin = login_as("ORG_ADMIN", org_id="maker")
    response = api.call("POST", "/orgs", {"name": "Stadtwerke Nord", "reference": "C-77", "prefix": "SWN",
                                          "parent_id": "region"}, token=admin)
    assert response.status_code == 201
    created = response.data
    assert (created["parent_id"], created["path"]) == ("region", ["root", "maker", "region", created["id"]])
    assert "org_created" in [event.action for event in AuditEventModel.scan()]


def test_creating_without_can_create_orgs_is_refused(api, login_as, tree):
    admin = login_as("ORG_ADMIN", org_id="region")
    response = api.call("POST", "/orgs", {"name": "Sub"}, token=admin)
    assert response.status_code == 403


def test_the_orgs_create_permission_lets_a_non_admin_create_below_its_organization(api, login_as, tree):
    manager = login_as("KEY_MANAGER", org_id="maker", permissions=("orgs.create",))
    assert api.call("POST", "/orgs", {"name": "Sub"}, token=manager).status_code == 201
    plain = login_as("KEY_MANAGER", org_id="maker")
    assert api.call("POST", "/orgs", {"name": "Sub"}, token=plain).status_code == 403


def test_can_create_orgs_cannot_be_granted_by_someone_whose_organization_lacks_it(api, login_as, tree):
    admin = login_as("ORG_ADMIN", org_id="region")
    response = api.call("PATCH", "/orgs/depot", {"can_create_orgs": True}, token=admin)
    assert response.status_code == 403
    assert OrganizationModel.get("depot").can_create_orgs is False


def test_creating_above_or_beside_the_own_organization_answers_404(api, login_as, tree):
    admin = login_as("ORG_ADMIN", org_id="maker")
    assert api.call("POST", "/orgs", {"name": "x", "parent_id": "root"}, token=admin).status_code == 404
    assert api.call("POST", "/orgs", {"name": "x", "parent_id": "other"}, token=admin).status_code == 404


def test_a_move_rewrites_the_paths_of_the_whole_subtree(api, login_as, tree):
    token = login_as("OPERATOR")
    response = api.call("PATCH", "/orgs/region", {"parent_id": "other"}, token=token)
    assert response.status_code == 200 and response.data["path"] == ["root", "other", "region"]
    assert OrganizationModel.get("depot").path == "/root/other/region/depot/"
    admin_of_other = login_as("ORG_ADMIN", org_id="other")
    assert ids(api.call("GET", "/orgs", token=admin_of_other)) == ["other", "region", "depot"]


@pytest.mark.parametrize("target, new_parent", [("maker", "depot"), ("maker", "maker"), ("region", "depot")])
def test_a_move_below_itself_is_refused_as_a_cycle(api, login_as, tree, target, new_parent):
    response = api.call("PATCH", f"/orgs/{target}", {"parent_id": new_parent}, token=login_as("OPERATOR"))
    assert (response.status_code, response.data["error"]["code"]) == (409, "org_cycle")
    assert OrganizationModel.get("depot").path == "/root/maker/region/depot/"


def test_a_move_out_of_the_scope_answers_404_and_the_own_organization_cannot_move(api, login_as, tree):
    admin = login_as("ORG_ADMIN", org_id="maker")
    assert api.call("PATCH", "/orgs/depot", {"parent_id": "other"}, token=admin).status_code == 404
    assert api.call("PATCH", "/orgs/maker", {"parent_id": "other"}, token=admin).status_code == 403
    assert api.call("PATCH", "/orgs/depot", {"parent_id": "maker"}, token=admin).status_code == 200


def test_partners_are_linked_both_ways_and_unlinked(api, login_as, tree):
    admin = login_as("ORG_ADMIN", org_id="maker")
    added = api.call("POST", "/orgs/maker/partners", {"partner_org_id": "other"}, token=admin)
    assert added.status_code == 201 and added.data["partner_name"] == "Org other"
    other_admin = login_as("ORG_ADMIN", org_id="other")
    assert [p["partner_org_id"] for p in api.call("GET", "/orgs/other/partners", token=other_admin).data["items"]] == [
        "maker"]
    assert api.call("GET", "/orgs/other", token=admin).data["relation"] == "partner"
    assert api.call("DELETE", "/orgs/maker/partners/other", token=admin).status_code == 204
    assert api.call("GET", "/orgs/other/partners", token=other_admin).data["items"] == []
    assert api.call("GET", "/orgs/other", token=admin).status_code == 404


def test_a_partner_must_exist(api, login_as, tree):
    admin = login_as("ORG_ADMIN", org_id="maker")
    assert api.call("POST", "/orgs/maker/partners", {"partner_org_id": "org_nope"}, token=admin).status_code == 404
    assert api.call("DELETE", "/orgs/maker/partners/other", token=admin).status_code == 404
