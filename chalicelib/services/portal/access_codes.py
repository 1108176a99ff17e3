"""Customer-portal access codes at organization, site or installation level: enabled, read again, regenerated,
revoked by the staff who manage the scope. Nothing is mailed: the supplier hands the code over."""

import hashlib
import secrets
from typing import Any, Dict, Optional, Tuple, Type, TypeVar, cast

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.models import Model

from chalicelib import clock, crypto
from chalicelib.console_paths import PORTAL
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.fields import iso_time
from chalicelib.mail import public_link
from chalicelib.models import InstallationModel, OrganizationModel, PortalAccessModel, SiteModel
from chalicelib.permissions import PORTAL_MANAGE, Principal, require
from chalicelib.security import keyed_digest, new_token, token_hash
from chalicelib.services.audit.record import record_event
from chalicelib.services.tenants.orgs import in_scope, org_id_in_scope
from chalicelib.services.tenants.users import get_user

SCOPE_TYPES = ("org", "site", "installation")
# Crockford's base32: no I, L, O, U, so a code read aloud or off paper is typed right; 28 symbols = 140 bits.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_SYMBOLS, GROUP = 28, 4
PURPOSE = "portal-code"


class PortalScopeNotFound(NotFound):
    code, message = "portal_scope_not_found", "No such organization, site or installation in your scope."


class PortalAccessNotFound(NotFound):
    code, message = "portal_access_not_found", "No such portal access."


class PortalAccessExists(Conflict):
    code, message = "portal_access_exists", "Portal access to this scope is enabled already; regenerate its code."


class PortalAccessRevoked(Conflict):
    code, message = "portal_access_revoked", "This portal access is revoked; enable it again for a new code."


def access_id_of(scope_type: str, scope_id: str) -> str:
    """The one access id of a scope (derived, so two enables of one scope meet on one item)."""
    return "pa_" + hashlib.sha256(f"{scope_type}:{scope_id}".encode()).hexdigest()[:24]


def new_code() -> str:
    """A fresh access code in groups of four, e.g. 7K2M-..."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(CODE_SYMBOLS))
    return "-".join(symbols[i : i + GROUP] for i in range(0, CODE_SYMBOLS, GROUP))


def normalize_code(raw: str) -> Optional[str]:
    """The code without grouping, upper case, with Crockford's look-alikes mapped; None if it cannot be one."""
    value = "".join((raw or "").split()).replace("-", "").upper().translate(str.maketrans("OIL", "011"))
    return value if len(value) == CODE_SYMBOLS and all(symbol in ALPHABET for symbol in value) else None


def code_digest(normalized: str) -> str:
    """The lookup hash of a normalized code: HMAC-SHA256 under the server secret."""
    return keyed_digest("portal-code", normalized)


def _context(access: PortalAccessModel) -> Dict[str, str]:
    return {"purpose": PURPOSE, "access_id": access.access_id, "generation": str(int(access.generation))}


def _managed_by(principal: Principal, created_by: Optional[str]) -> bool:
    """Created by a user of the principal's scope: what an installer manages beyond its own tree."""
    user = get_user(created_by) if created_by else None
    return user is not None and org_id_in_scope(principal, user.org_id)


def _scope(scope_type: str, scope_id: str) -> Tuple[Any, Optional[str], Optional[str]]:
    """(the item, its organization, its name) of a scope; (None, None, None) when it does not exist."""
    model = {"org": OrganizationModel, "site": SiteModel, "installation": InstallationModel}[scope_type]
    item: Any = _get(model, scope_id)  # one of three models
    if item is None:
        return None, None, None
    if scope_type == "installation":
        return item, item.customer_org_id, f"{item.serial} ({item.product_type})"
    return item, item.org_id, item.name


def scope_name(scope_type: str, scope_id: str) -> str:
    """What a portal session's scope is called (its id if it is gone)."""
    return _scope(scope_type, scope_id)[2] or scope_id


def scope_of(principal: Principal, scope_type: str, scope_id: str) -> str:
    """The organization of a scope the principal may manage portal access for; not found outside its scope."""
    item, org_id, _name = _scope(scope_type, scope_id)
    visible = False
    if scope_type == "org" and item is not None:
        visible = (in_scope(principal, item) and not principal.site_limited) or _managed_by(principal, item.created_by)
    elif scope_type == "site" and item is not None:
        own = org_id_in_scope(principal, org_id) and (not principal.site_limited or item.site_id in principal.site_ids)
        visible = own or _managed_by(principal, item.created_by)
    elif scope_type == "installation" and item is not None:
        own = org_id_in_scope(principal, org_id) and (not principal.site_limited or item.site_id in principal.site_ids)
        visible = own or org_id_in_scope(principal, item.installer_org_id)
    if not visible or org_id is None:  # visible: an item, which has an organization
        raise PortalScopeNotFound()
    require(principal, PORTAL_MANAGE)
    return org_id


_Item = TypeVar("_Item", bound=Model)


def _get(model: Type[_Item], key: str) -> Optional[_Item]:
    try:
        return model.get(key, consistent_read=True)
    except DoesNotExist:
        return None


def access_view(
    access: Optional[PortalAccessModel], scope_type: str, scope_id: str, token: Optional[str] = None
) -> Dict[str, Any]:
    """An access as staff see it: the code readable again while enabled; an installation's token only once."""
    enabled = access is not None and access.state == "ACTIVE"
    view = {
        "id": access.access_id if access else None,
        "scope": {"type": scope_type, "id": scope_id},
        "enabled": enabled,
        "state": access.state if access else "DISABLED",
        "code": crypto.unseal(access.code_wrapped, _context(access), "portal access " + access.access_id).decode()
        if access is not None and enabled
        else None,
        "link": public_link(PORTAL),
        "needs_token": scope_type == "installation",
        "created_at": iso_time(access.created_at) if access else None,
        "changed_at": iso_time(access.changed_at) if access else None,
    }
    if token:
        view["token"] = token
    return view


def _secrets(access: PortalAccessModel) -> Tuple[str, Optional[str], Dict[str, Any]]:
    """A new code (and token, for an installation) for the access's current generation, and what to store."""
    code = new_code()
    token = new_token() if access.scope_type == "installation" else None
    stored = {
        "code_wrapped": crypto.seal(code.encode(), _context(access)),
        "code_hash": code_digest(cast(str, normalize_code(code))),  # new_code() makes valid codes
        "token_hash": token_hash(token) if token else None,
    }
    return code, token, stored


def enable_portal_access(principal: Principal, scope: Dict[str, str]) -> Dict[str, Any]:
    """Enable portal access to a scope: a new code (and, for an installation, a token shown only now)."""
    scope_type, scope_id = scope["type"], scope["id"]
    org_id = scope_of(principal, scope_type, scope_id)
    now = clock.now()
    existing = _get(PortalAccessModel, access_id_of(scope_type, scope_id))
    if existing is not None and existing.state == "ACTIVE":
        raise PortalAccessExists()
    generation = int(existing.generation) + 1 if existing else 1
    access = PortalAccessModel(
        access_id_of(scope_type, scope_id),
        scope_type=scope_type,
        scope_id=scope_id,
        scope_org_id=org_id,
        state="ACTIVE",
        generation=generation,
        created_at=now,
        created_by=principal.user_id,
        changed_at=now,
        changed_by=principal.user_id,
    )
    code, token, stored = _secrets(access)
    for name, value in stored.items():
        setattr(access, name, value)
    condition = (
        PortalAccessModel.access_id.does_not_exist()
        if existing is None
        else ((PortalAccessModel.state == "REVOKED") & (PortalAccessModel.generation == existing.generation))
    )
    try:
        access.save(condition=condition)
    except PutError:
        raise PortalAccessExists() from None
    record_event(
        principal.user_id,
        "portal_access_enabled",
        org_id,
        target=access.access_id,
        detail={"scope_type": scope_type, "scope_id": scope_id},
    )
    return access_view(access, scope_type, scope_id, token)


def read_portal_access(principal: Principal, scope_type: Optional[str], scope_id: Optional[str]) -> Dict[str, Any]:
    """The access of one scope: enabled or not, and its code while enabled."""
    if not scope_type or not scope_id:
        raise ValidationFailed(
            "scope_type and scope_id: name the scope.",
            details=[{"field": "scope_type" if not scope_type else "scope_id", "problem": "is required"}],
        )
    scope_of(principal, scope_type, scope_id)
    return access_view(_get(PortalAccessModel, access_id_of(scope_type, scope_id)), scope_type, scope_id)


def _managed_access(principal: Principal, access_id: str) -> PortalAccessModel:
    access = _get(PortalAccessModel, access_id)
    if access is None:
        raise PortalAccessNotFound()
    try:
        scope_of(principal, access.scope_type, access.scope_id)
    except PortalScopeNotFound:
        raise PortalAccessNotFound() from None
    return access


def regenerate_portal_access(principal: Principal, access_id: str) -> Dict[str, Any]:
    """A new code (and token); the old ones and every portal session opened with them stop working at once."""
    access = _managed_access(principal, access_id)
    if access.state != "ACTIVE":
        raise PortalAccessRevoked()
    previous = int(access.generation)
    access.generation = previous + 1  # the new code is sealed under the new generation's context
    code, token, stored = _secrets(access)
    now = clock.now()
    actions = [getattr(PortalAccessModel, name).set(value) for name, value in stored.items() if value is not None]
    try:
        access.update(
            actions=actions
            + [
                PortalAccessModel.generation.set(previous + 1),
                PortalAccessModel.changed_at.set(now),
                PortalAccessModel.changed_by.set(principal.user_id),
            ],
            condition=(PortalAccessModel.generation == previous) & (PortalAccessModel.state == "ACTIVE"),
        )
    except UpdateError:
        raise Conflict("The access changed meanwhile; reload it.") from None
    record_event(
        principal.user_id,
        "portal_access_regenerated",
        access.scope_org_id,
        target=access_id,
        detail={"scope_type": access.scope_type, "scope_id": access.scope_id},
    )
    return access_view(access, access.scope_type, access.scope_id, token)


def revoke_portal_access(principal: Principal, access_id: str) -> None:
    """Revoke access: the code and every portal session opened with it stop working at once."""
    access = _managed_access(principal, access_id)
    if access.state != "ACTIVE":
        raise PortalAccessRevoked()
    try:
        access.update(
            actions=[
                PortalAccessModel.state.set("REVOKED"),
                PortalAccessModel.generation.add(1),
                PortalAccessModel.changed_at.set(clock.now()),
                PortalAccessModel.changed_by.set(principal.user_id),
            ],
            condition=PortalAccessModel.generation == access.generation,
        )
    except UpdateError:
        raise Conflict("The access changed meanwhile; reload it.") from None
    record_event(
        principal.user_id,
        "portal_access_revoked",
        access.scope_org_id,
        target=access_id,
        detail={"scope_type": access.scope_type, "scope_id": access.scope_id},
    )
