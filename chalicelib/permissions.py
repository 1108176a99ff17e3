"""Roles, grantable permissions, the acting principal and the scope rules every service asks."""

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, Tuple

from chalicelib.errors import Forbidden

OPERATOR = "OPERATOR"
ORG_ADMIN = "ORG_ADMIN"
KEY_MANAGER = "KEY_MANAGER"
INSTALLER = "INSTALLER"
SITE_ADMIN = "SITE_ADMIN"
VIEWER = "VIEWER"
CUSTOMER = "CUSTOMER"
ROLES: Tuple[str, ...] = (OPERATOR, ORG_ADMIN, KEY_MANAGER, INSTALLER, SITE_ADMIN, VIEWER, CUSTOMER)

# "Advanced functions" an ORG_ADMIN or OPERATOR grants on top of roles (API.md).
TEMPLATES_MANAGE = "templates.manage"
ORGS_CREATE = "orgs.create"
TAKE_OWNERSHIP = "devices.take_ownership"
BATCHES_MANAGE = "batches.manage"
DEVICES_IMPORT = "devices.import"
GRANTABLE_PERMISSIONS: Tuple[str, ...] = (TEMPLATES_MANAGE, ORGS_CREATE, TAKE_OWNERSHIP, BATCHES_MANAGE, DEVICES_IMPORT)

# What each role may do (API.md "Roles and permissions"); the scope a role acts in is checked separately.
USERS_MANAGE = "users.manage"
ORGS_MANAGE = "orgs.manage"
PARTNERS_MANAGE = "partners.manage"
SITES_MANAGE = "sites.manage"
SITES_READ = "sites.read"
PORTAL_MANAGE = "portal.manage"
INVITATIONS_MANAGE = "invitations.manage"
CATALOG_READ = "catalog.read"
DEVICES_CLAIM = "devices.claim"
KEYS_DOWNLOAD = "keys.download"
BATCHES_CONFIRM = "batches.confirm"
DEVICES_REGISTER = "devices.register"
AUDIT_READ = "audit.read"
ORGS_READ = "orgs.read"
# Reading installations (with the customer's personal data): a CUSTOMER reads its own, so it is an action too,
# and granting CUSTOMER needs it (a site admin, who reads no installation, cannot mint a reader of them all).
INSTALLATIONS_READ = "installations.read"

_ADMIN = frozenset(
    {
        USERS_MANAGE,
        ORGS_MANAGE,
        ORGS_READ,
        PARTNERS_MANAGE,
        SITES_MANAGE,
        SITES_READ,
        PORTAL_MANAGE,
        INVITATIONS_MANAGE,
        CATALOG_READ,
        DEVICES_CLAIM,
        KEYS_DOWNLOAD,
        BATCHES_CONFIRM,
        AUDIT_READ,
        INSTALLATIONS_READ,
    }
)
ROLE_ACTIONS: Dict[str, FrozenSet[str]] = {
    ORG_ADMIN: _ADMIN,
    SITE_ADMIN: frozenset(
        {
            USERS_MANAGE,
            ORGS_READ,
            SITES_MANAGE,
            SITES_READ,
            PORTAL_MANAGE,
            INVITATIONS_MANAGE,
            CATALOG_READ,
            DEVICES_CLAIM,
            KEYS_DOWNLOAD,
        }
    ),
    KEY_MANAGER: frozenset({ORGS_READ, CATALOG_READ, DEVICES_CLAIM, BATCHES_CONFIRM, KEYS_DOWNLOAD, SITES_READ}),
    INSTALLER: frozenset({ORGS_READ, DEVICES_REGISTER, SITES_MANAGE, SITES_READ, PORTAL_MANAGE, INSTALLATIONS_READ}),
    VIEWER: frozenset({ORGS_READ, CATALOG_READ, SITES_READ}),
    CUSTOMER: frozenset({INSTALLATIONS_READ}),
}
ALL_ACTIONS: FrozenSet[str] = frozenset().union(*ROLE_ACTIONS.values(), GRANTABLE_PERMISSIONS)
ROLE_ACTIONS[OPERATOR] = ALL_ACTIONS


@dataclass(frozen=True)
class Principal:
    """Who is acting: an authenticated user and the session it acts through."""

    user_id: str
    org_id: str
    roles: FrozenSet[str]
    permissions: FrozenSet[str] = field(default_factory=frozenset)
    site_ids: FrozenSet[str] = field(default_factory=frozenset)
    session_hash: str = ""
    must_change_password: bool = False

    @property
    def is_operator(self) -> bool:
        """Operators may do everything, in every organization."""
        return OPERATOR in self.roles

    @property
    def actions(self) -> FrozenSet[str]:
        """Everything the principal's roles and granted permissions allow."""
        return actions_of(self.roles, self.permissions)

    @property
    def site_limited(self) -> bool:
        """True when the principal acts only for its sites (see is_site_limited)."""
        return is_site_limited(self.roles, self.site_ids)

    def may(self, action: str) -> bool:
        """True when the principal's roles or permissions include the action."""
        return action in self.actions

    def has_role(self, *roles: str) -> bool:
        """True when the principal holds any of the roles (operators hold them all)."""
        return self.is_operator or bool(self.roles.intersection(roles))


def is_site_limited(roles: Iterable[str], site_ids: Iterable[str]) -> bool:
    """A user acts only for its sites when it is a SITE_ADMIN, or holds sites at all, without an org-wide
    administrator role: sites on a VIEWER or KEY_MANAGER bound it too (else a site admin could mint an
    organization-wide viewer by naming its own site)."""
    roles = set(roles)
    return not roles & {OPERATOR, ORG_ADMIN} and (SITE_ADMIN in roles or bool(set(site_ids)))


def actions_of(roles: Iterable[str], permissions: Iterable[str] = ()) -> FrozenSet[str]:
    """The actions a set of roles and granted permissions allows."""
    granted = set(permissions)
    for role in roles:
        granted |= ROLE_ACTIONS.get(role, frozenset())
    return frozenset(granted)


def require(principal: Principal, action: str) -> None:
    """Raise Forbidden unless the principal may do the action."""
    if not principal.may(action):
        raise Forbidden(f"Your roles do not allow this ({action}).")


def may_grant(
    principal: Principal, roles: Iterable[str], permissions: Iterable[str], site_ids: Iterable[str] = ()
) -> bool:
    """True when what the grantee could reach (organizations x sites x actions) fits inside the granter's reach.

    OPERATOR is a scope (every organization), not a set of actions: only an operator grants it, although
    ORG_ADMIN + INSTALLER + every permission add up to the same actions. A site-limited granter gives only
    site-limited grants within its own sites. The organization side (the grantee's organization inside the
    granter's tree) is checked where the organization is resolved.
    """
    if principal.is_operator:
        return True
    roles, permissions, site_ids = set(roles), set(permissions), set(site_ids)
    if OPERATOR in roles:
        return False
    # Permissions are actions too: held by the granter (the second test), they are within its actions.
    if not (actions_of(roles) <= principal.actions and permissions <= set(principal.permissions)):
        return False
    if principal.site_limited:
        return is_site_limited(roles, site_ids) and bool(site_ids) and site_ids <= principal.site_ids
    return True
