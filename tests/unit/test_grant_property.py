"""Property: whatever an actor grants (a new user, changed roles, an invitation someone accepts), what the new
principal can reach (organizations x sites x actions) lies within the granter's reach (issue 17)."""

import itertools
from datetime import datetime, timezone

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib.errors import DomainError
from chalicelib.models import OrganizationModel, SiteModel
from chalicelib.permissions import GRANTABLE_PERMISSIONS, ROLES, Principal
from chalicelib.services.accounts.sessions import principal_of
from chalicelib.services.tenants import invitations, user_admin
from chalicelib.services.tenants.users import find_user_by_email
from tests.helpers import STRONG_PASSWORD, make_org, make_user

# root -> acme -> acme_east, root -> rival; acme and rival are partners (a link widens no scope).
ORGS = ("root", "acme", "acme_east", "rival")
SITES = {"s_acme_1": "acme", "s_acme_2": "acme", "s_east": "acme_east", "s_rival": "rival"}
ORG_WIDE = "*"
_runs = itertools.count()


def build_world():
    """The tree, its sites and a partner link (idempotent: saves over what an earlier example stored)."""
    from chalicelib.models import PartnerModel

    make_org("acme")
    make_org("acme_east", parent_id="acme")
    make_org("rival")
    now = datetime.now(timezone.utc)
    for site_id, org_id in SITES.items():
        SiteModel(site_id, org_id=org_id, name=site_id, created_at=now, created_by="usr_x").save()
    for one, other in (("acme", "rival"), ("rival", "acme")):
        PartnerModel(one, other, created_at=now, created_by="usr_x").save()


def organizations_reached(principal: Principal):
    """The organizations a principal acts in: every one for an operator, else its subtree (never partners)."""
    if principal.is_operator:
        return set(ORGS)
    own = OrganizationModel.get(principal.org_id)
    return {org.org_id for org in map(OrganizationModel.get, ORGS) if org.path.startswith(own.path)}


def reach(principal: Principal):
    """Every (organization, site or ORG_WIDE, action) the principal could act on, as the services decide it."""
    orgs = organizations_reached(principal)
    if principal.site_limited:
        places = {(SITES[site], site) for site in principal.site_ids if site in SITES and SITES[site] in orgs}
    else:
        places = {(org, ORG_WIDE) for org in orgs} | {(org, site) for site, org in SITES.items() if org in orgs}
    return {(org, site, action) for org, site in places for action in principal.actions}


@st.composite
def actors(draw):
    """An actor anywhere in the tree, often strong (every permission), with sites of its own organization."""
    org = draw(st.sampled_from(ORGS))
    # Granting needs users.manage: draw administrators often, any mix of roles sometimes.
    roles = draw(
        st.one_of(
            st.sampled_from(
                [
                    {"ORG_ADMIN"},
                    {"SITE_ADMIN"},
                    {"ORG_ADMIN", "INSTALLER"},
                    {"SITE_ADMIN", "KEY_MANAGER"},
                    {"SITE_ADMIN", "INSTALLER"},
                ]
            ),
            st.sets(st.sampled_from(ROLES), min_size=1, max_size=3),
        )
    )
    permissions = draw(st.one_of(st.just(set(GRANTABLE_PERMISSIONS)), st.sets(st.sampled_from(GRANTABLE_PERMISSIONS))))
    own_sites = sorted(site for site, site_org in SITES.items() if site_org == org)
    sites = draw(st.sets(st.sampled_from(own_sites), max_size=2)) if own_sites else set()
    return roles, permissions, org, sites


@st.composite
def grants_of(draw, actor):
    """A grant near the actor's own rights (a subset plus maybe one more role), where it acts or elsewhere."""
    roles, permissions, org, sites = actor
    how = draw(st.sampled_from(["create_user", "update_user", "invitation"]))
    target_org = draw(st.one_of(st.just(org), st.sampled_from(ORGS)))
    given = draw(st.sets(st.sampled_from(sorted(roles)), max_size=2)) | draw(
        st.sets(st.sampled_from(ROLES), max_size=1)
    )
    given = given or {"VIEWER"}
    given_permissions = draw(st.sets(st.sampled_from(sorted(permissions)))) if permissions else set()
    given_sites = draw(
        st.one_of(
            st.sets(st.sampled_from(sorted(sites))) if sites else st.just(set()),
            st.sets(st.sampled_from(sorted(SITES)), max_size=2),
        )
    )
    return how, target_org, given, given_permissions, given_sites


def grant(actor: Principal, how, org, roles, permissions, sites, run):
    """Let the actor grant through the real service; answer the e-mail of the principal it made (or None)."""
    email = f"grantee{run}@example.com"
    fields = {
        "name": "Grantee",
        "email": email,
        "org_id": org,
        "roles": sorted(roles),
        "permissions": sorted(permissions),
        "site_ids": sorted(sites),
    }
    if how == "create_user":
        user_admin.create_user(actor, {**fields, "password": STRONG_PASSWORD})
    elif how == "update_user":
        # Someone above the actor made a plain customer there; the actor now gives it the drawn rights.
        target = make_user(email=email, roles=("CUSTOMER",), org_id=org, site_ids=sorted(sites))
        user_admin.update_user(
            actor, target.user_id, {key: fields[key] for key in ("roles", "permissions", "site_ids")}
        )
    else:
        created = invitations.create_invitation(
            actor, {key: fields[key] for key in ("name", "email", "org_id", "roles", "site_ids")}
        )
        token = created["link"].rsplit("/", 1)[1]
        invitations.accept_invitation(token, {"password": STRONG_PASSWORD})
    return email


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=actors().flatmap(lambda actor: grants_of(actor).map(lambda drawn: (actor, drawn))))
# The two escalations an attack found, kept as fixed examples besides the random ones.
@example(
    case=(
        ({"ORG_ADMIN", "INSTALLER"}, set(GRANTABLE_PERMISSIONS), "acme", set()),
        ("create_user", "acme", {"OPERATOR"}, set(), set()),
    )
)
@example(case=(({"SITE_ADMIN"}, set(), "acme", {"s_acme_1"}), ("create_user", "acme", {"VIEWER"}, set(), {"s_acme_1"})))
def test_nothing_granted_reaches_beyond_the_granter(aws, case):
    actor, drawn = case
    run = next(_runs)
    build_world()
    roles, permissions, org, sites = actor
    actor_user = make_user(
        email=f"actor{run}@example.com",
        roles=tuple(sorted(roles)),
        org_id=org,
        permissions=sorted(permissions),
        site_ids=sorted(sites),
    )
    granter = principal_of(actor_user)
    try:
        email = grant(granter, *drawn, run)
    except DomainError:
        return  # refused: nothing was granted
    grantee = principal_of(find_user_by_email(email))
    beyond = reach(grantee) - reach(granter)
    assert not beyond, (granter, grantee, sorted(beyond)[:5])
