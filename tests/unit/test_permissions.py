"""The role and grant rules as plain functions (the API tiers test them through routes, where a second check in
the user service hides a gap in may_grant)."""

import pytest

from chalicelib.errors import Forbidden
from chalicelib.permissions import (
    CATALOG_READ,
    INSTALLER,
    KEYS_DOWNLOAD,
    ORG_ADMIN,
    ROLE_ACTIONS,
    SITE_ADMIN,
    TEMPLATES_MANAGE,
    VIEWER,
    Principal,
    actions_of,
    may_grant,
    require,
)


def principal(*roles, permissions=(), site_ids=()):
    return Principal(
        user_id="usr_a",
        org_id="acme",
        roles=frozenset(roles),
        permissions=frozenset(permissions),
        site_ids=frozenset(site_ids),
    )


def test_the_actions_of_several_roles_and_permissions_are_their_union():
    assert actions_of([INSTALLER, VIEWER], [TEMPLATES_MANAGE]) == (
        ROLE_ACTIONS[INSTALLER] | ROLE_ACTIONS[VIEWER] | {TEMPLATES_MANAGE}
    )


def test_a_role_name_no_longer_defined_grants_nothing_and_breaks_nothing():
    assert actions_of(["RETIRED_ROLE", VIEWER]) == ROLE_ACTIONS[VIEWER]


def test_a_refusal_names_the_action_refused():
    with pytest.raises(Forbidden) as refused:
        require(principal(VIEWER), KEYS_DOWNLOAD)
    assert KEYS_DOWNLOAD in refused.value.message


def test_require_lets_an_allowed_action_through():
    require(principal(VIEWER), CATALOG_READ)


SITE_ADMIN_OF_S1 = principal(SITE_ADMIN, site_ids=["s1", "s2"])


@pytest.mark.parametrize(
    "roles, site_ids, allowed",
    [
        ([VIEWER], ["s1"], True),
        ([SITE_ADMIN], ["s1", "s2"], True),
        ([VIEWER], [], False),  # not site-limited: would read the whole organization
        ([SITE_ADMIN], [], False),  # site-limited in name, but bound to no site
        ([SITE_ADMIN], ["s3"], False),  # a site outside the granter's own
        ([VIEWER], ["s1", "s3"], False),  # partly outside
    ],
)
def test_a_site_admin_grants_only_site_bound_rights_within_its_own_sites(roles, site_ids, allowed):
    assert may_grant(SITE_ADMIN_OF_S1, roles, [], site_ids) is allowed


@pytest.mark.parametrize(
    "roles, permissions, allowed",
    [
        ([VIEWER], [], True),
        ([ORG_ADMIN], [], True),
        ([ORG_ADMIN], [TEMPLATES_MANAGE], True),
        ([INSTALLER], [], False),  # an action (devices.register) the granter lacks
        ([VIEWER], ["orgs.create"], False),  # a permission the granter lacks
        (["OPERATOR"], [], False),
    ],
)
def test_an_org_admin_grants_only_what_it_holds(roles, permissions, allowed):
    granter = principal(ORG_ADMIN, permissions=[TEMPLATES_MANAGE])
    assert may_grant(granter, roles, permissions) is allowed
