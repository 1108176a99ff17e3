"""Organizations: the tree, its scope, moves without cycles, partner links and the requests for them."""

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
    assert ids(api.call("GET", "/orgs", token=admin)) == ["region", "depot"]  # asked, not yet accepted
    other_admin = login_as("ORG_ADMIN", org_id="other")
    assert api.call("POST", "/orgs/other/partner-requests/region/accept", token=other_admin).status_code == 200
    listed = api.call("GET", "/orgs", token=admin).data["items"]
    assert [(item["id"], item["relation"]) for item in listed] == [
        ("region", "tree"),
        ("depot", "tree"),
        ("other", "partner"),
    ]
    assert "reference" not in listed[2]  # a partner shows who it is, nothing more


def test_an_operator_sees_the_whole_tree(api, login_as, tree):
    assert set(ids(api.call("GET", "/orgs", token=login_as("OPERATOR")))) == {
        "root",
        "maker",
        "region",
        "depot",
        "other",
    }


def test_the_list_filters_by_name_and_parent_and_pages(api, login_as, tree):
    token = login_as("OPERATOR")
    assert ids(api.call("GET", "/orgs?name=DEP", token=token)) == ["depot"]
    assert ids(api.call("GET", "/orgs?parent_id=maker", token=token)) == ["region"]
    first = api.call("GET", "/orgs?limit=2", token=token)
    second = api.call("GET", f"/orgs?limit=2&cursor={first.data['next_cursor']}", token=token)
    third = api.call("GET", f"/orgs?limit=2&cursor={second.data['next_cursor']}", token=token)
    paged = ids(first) + ids(second) + ids(third)
    # Every organization once: a count would not notice a repeated row standing in for a skipped one.
    assert sorted(paged) == sorted({"root", "maker", "region", "depot", "other"})
    assert third.data["next_cursor"] is None


def test_an_organization_outside_the_scope_answers_404(api, login_as, tree):
    admin = login_as("ORG_ADMIN", org_id="region")
    for path in ["/orgs/maker", "/orgs/other", "/orgs/root", "/orgs/nonexistent"]:
        response = api.call("GET", path, token=admin)
        assert (response.status_code, response.data["error"]["code"]) == (404, "org_not_found")
    assert api.call("GET", "/orgs?parent_id=maker", token=admin).status_code == 404


def test_an_admin_of_an_organization_that_may_create_orgs_creates_one_below(api, login_as, tree):
    admin = login_as("ORG_ADMIN", org_id="maker")
    response = api.call(
        "POST",
        "/orgs",
        {"name": "Stadtwerke Nord", "reference": "C-77", "prefix": "SWN", "parent_id": "region"},
        token=admin,
    )
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


def partner_ids(api, org_id, token):
    response = api.call("GET", f"/orgs/{org_id}/partners", token=token)
    assert response.status_code == 200, response.body
    return [item["partner_org_id"] for item in response.data["items"]]


def requests_of(api, org_id, token, direction=""):
    response = api.call(
        "GET", f"/orgs/{org_id}/partner-requests" + (f"?direction={direction}" if direction else ""), token=token
    )
    assert response.status_code == 200, response.body
    return [(item["partner_org_id"], item["direction"], item["partner_name"]) for item in response.data["items"]]


def audit_actions():
    return sorted(event.action for event in AuditEventModel.scan() if event.action.startswith("partner"))


@pytest.fixture
def admins(login_as, tree):
    """Tokens of an ORG_ADMIN of maker (who asks) and of other (who is asked)."""
    return login_as("ORG_ADMIN", org_id="maker"), login_as("ORG_ADMIN", org_id="other")


def ask(api, token, org_id="maker", partner_org_id="other"):
    return api.call("POST", f"/orgs/{org_id}/partners", {"partner_org_id": partner_org_id}, token=token)


def test_a_partner_request_links_nothing_until_the_other_admin_accepts(api, admins):
    maker, other = admins
    asked = ask(api, maker)
    assert asked.status_code == 201
    assert {key: asked.data[key] for key in ("org_id", "partner_org_id", "status", "direction", "partner_name")} == {
        "org_id": "maker",
        "partner_org_id": "other",
        "status": "PENDING",
        "direction": "outgoing",
        "partner_name": None,
    }
    assert partner_ids(api, "maker", maker) == [] and partner_ids(api, "other", other) == []
    assert api.call("GET", "/orgs/other", token=maker).status_code == 404
    assert api.call("GET", "/orgs/maker", token=other).status_code == 404
    assert "other" not in ids(api.call("GET", "/orgs", token=maker))


def test_the_asked_admin_sees_the_asker_by_name_and_accepting_links_both_ways(api, admins):
    maker, other = admins
    ask(api, maker)
    assert requests_of(api, "other", other) == [("maker", "incoming", "Org maker")]
    assert requests_of(api, "maker", maker) == [("other", "outgoing", None)]  # the asked name shows on accept only
    assert requests_of(api, "maker", maker, "incoming") == []
    accepted = api.call("POST", "/orgs/other/partner-requests/maker/accept", token=other)
    assert accepted.status_code == 200
    assert (accepted.data["status"], accepted.data["partner_name"]) == ("ACCEPTED", "Org maker")
    assert partner_ids(api, "maker", maker) == ["other"] and partner_ids(api, "other", other) == ["maker"]
    assert api.call("GET", "/orgs/other", token=maker).data["relation"] == "partner"
    assert api.call("GET", "/orgs/maker", token=other).data["relation"] == "partner"
    assert requests_of(api, "other", other) == [] and requests_of(api, "maker", maker) == []
    assert audit_actions() == ["partner_request_accepted", "partner_requested"]
    again = api.call("POST", "/orgs/other/partner-requests/maker/accept", token=other)
    assert (again.status_code, again.data["error"]["code"]) == (404, "partner_request_not_found")


def test_a_declined_request_links_nothing_and_is_gone_for_both(api, admins):
    maker, other = admins
    ask(api, maker)
    assert api.call("POST", "/orgs/other/partner-requests/maker/decline", token=other).status_code == 204
    assert partner_ids(api, "maker", maker) == [] and partner_ids(api, "other", other) == []
    assert requests_of(api, "other", other) == [] and requests_of(api, "maker", maker) == []
    assert api.call("POST", "/orgs/other/partner-requests/maker/accept", token=other).status_code == 404
    assert audit_actions() == ["partner_request_declined", "partner_requested"]


def test_the_asking_admin_cannot_accept_its_own_request(api, admins):
    maker, other = admins
    ask(api, maker)
    for path in (
        "/orgs/maker/partner-requests/other/accept",
        "/orgs/other/partner-requests/maker/accept",
        "/orgs/maker/partner-requests/other/decline",
    ):
        assert api.call("POST", path, token=maker).status_code == 404, path
    assert partner_ids(api, "maker", maker) == []
    assert requests_of(api, "other", other) == [("maker", "incoming", "Org maker")]


def test_the_asker_withdraws_its_request_and_the_asked_one_cannot_withdraw_it(api, admins):
    maker, other = admins
    ask(api, maker)
    assert api.call("DELETE", "/orgs/other/partner-requests/maker", token=other).status_code == 404
    assert api.call("DELETE", "/orgs/maker/partner-requests/other", token=maker).status_code == 204
    assert requests_of(api, "other", other) == [] and requests_of(api, "maker", maker) == []
    assert api.call("POST", "/orgs/other/partner-requests/maker/accept", token=other).status_code == 404
    assert partner_ids(api, "other", other) == []
    assert audit_actions() == ["partner_request_cancelled", "partner_requested"]


def test_an_unknown_id_answers_like_a_known_one(api, admins):
    maker, _ = admins
    known, unknown = ask(api, maker, partner_org_id="other"), ask(api, maker, partner_org_id="org_nope")
    assert known.status_code == unknown.status_code == 201
    assert {**known.data, "partner_org_id": "x", "created_at": "t", "expires_at": "t"} == {
        **unknown.data,
        "partner_org_id": "x",
        "created_at": "t",
        "expires_at": "t",
    }
    assert b"Org other" not in known.body
    assert sorted(requests_of(api, "maker", maker)) == [("org_nope", "outgoing", None), ("other", "outgoing", None)]


def test_a_repeated_request_answers_the_pending_one_and_writes_nothing_new(api, admins):
    maker, other = admins
    first, second = ask(api, maker), ask(api, maker)
    assert second.status_code == 201 and second.data == first.data
    assert requests_of(api, "other", other) == [("maker", "incoming", "Org maker")]
    assert audit_actions() == ["partner_requested"]


def test_asking_a_partner_or_an_organization_that_asked_already_answers_409(api, admins):
    maker, other = admins
    ask(api, maker)
    crossed = ask(api, other, org_id="other", partner_org_id="maker")
    assert (crossed.status_code, crossed.data["error"]["code"]) == (409, "partner_request_incoming")
    api.call("POST", "/orgs/other/partner-requests/maker/accept", token=other)
    linked = ask(api, maker)
    assert (linked.status_code, linked.data["error"]["code"]) == (409, "partner_already_linked")
    itself = ask(api, maker, partner_org_id="maker")
    assert (itself.status_code, itself.data["error"]["code"]) == (422, "partner_self")


def test_an_expired_request_cannot_be_accepted_and_may_be_asked_again(api, admins):
    from datetime import datetime, timedelta, timezone

    from chalicelib.models import PartnerRequestModel

    maker, other = admins
    ask(api, maker)
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    for key in (("maker", "other"), ("other", "maker")):
        PartnerRequestModel(*key).update(actions=[PartnerRequestModel.expires_at.set(past)])
    assert requests_of(api, "other", other) == []
    assert api.call("POST", "/orgs/other/partner-requests/maker/accept", token=other).status_code == 404
    assert ask(api, maker).status_code == 201
    assert api.call("POST", "/orgs/other/partner-requests/maker/accept", token=other).status_code == 200


def test_partner_requests_are_throttled_per_organization(api, admins, login_as):
    from chalicelib.services.tenants.partners import REQUESTS_PER_HOUR

    maker, other = admins
    for number in range(REQUESTS_PER_HOUR):
        assert ask(api, maker, partner_org_id=f"org_{number}").status_code == 201
    refused = ask(api, maker, partner_org_id="other")
    assert (refused.status_code, refused.data["error"]["code"]) == (429, "too_many_requests")
    assert int(refused.headers["Retry-After"]) > 0
    assert requests_of(api, "other", other) == []
    assert ask(api, other, org_id="other", partner_org_id="maker").status_code == 201  # another organization


def test_an_operator_links_at_once_and_settles_a_pending_request(api, admins, login_as):
    maker, other = admins
    ask(api, maker)
    operator = login_as("OPERATOR")
    linked = ask(api, operator)
    assert linked.status_code == 201
    assert (linked.data["status"], linked.data["partner_name"]) == ("ACCEPTED", "Org other")
    assert partner_ids(api, "maker", maker) == ["other"] and partner_ids(api, "other", other) == ["maker"]
    assert requests_of(api, "other", other) == [] and requests_of(api, "maker", maker) == []
    unknown = ask(api, operator, partner_org_id="org_nope")
    assert (unknown.status_code, unknown.data["error"]["code"]) == (404, "org_not_found")


def test_a_foreign_admin_can_neither_see_nor_answer_another_pairs_requests(api, admins, login_as):
    maker, other = admins
    make_org("third")
    third = login_as("ORG_ADMIN", org_id="third")
    ask(api, maker)
    for method, path in (
        ("GET", "/orgs/other/partner-requests"),
        ("GET", "/orgs/maker/partner-requests"),
        ("POST", "/orgs/other/partner-requests/maker/accept"),
        ("POST", "/orgs/other/partner-requests/maker/decline"),
        ("DELETE", "/orgs/maker/partner-requests/other"),
        ("POST", "/orgs/third/partner-requests/maker/accept"),
        ("POST", "/orgs/third/partner-requests/other/accept"),
    ):
        response = api.call(method, path, token=third)
        assert response.status_code == 404, (method, path)
        assert b"Org maker" not in response.body
    assert requests_of(api, "other", other) == [("maker", "incoming", "Org maker")]
    assert requests_of(api, "third", third) == []


def test_either_side_unlinks_both_ways(api, admins):
    maker, other = admins
    ask(api, maker)
    api.call("POST", "/orgs/other/partner-requests/maker/accept", token=other)
    assert api.call("DELETE", "/orgs/other/partners/maker", token=other).status_code == 204
    assert partner_ids(api, "maker", maker) == [] and partner_ids(api, "other", other) == []
    assert api.call("GET", "/orgs/other", token=maker).status_code == 404
    assert api.call("DELETE", "/orgs/maker/partners/other", token=maker).status_code == 404
