"""Roles, grantable permissions, the acting principal and the scope rules every service asks."""
from dataclasses import dataclass, field
from typing import FrozenSet, Tuple

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
GRANTABLE_PERMISSIONS: Tuple[str, ...] = (
    "templates.manage",
    "orgs.create",
    "devices.take_ownership",
    "batches.manage",
    "devices.import",
)


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

    def has_role(self, *roles: str) -> bool:
        """True when the principal holds any of the roles (operators hold them all)."""
        return self.is_operator or bool(self.roles.intersection(roles))


def require_role(principal: Principal, *roles: str) -> None:
    """Raise Forbidden unless the principal holds one of the roles."""
    if not principal.has_role(*roles):
        raise Forbidden()
