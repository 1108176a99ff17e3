"""The customer portal: a login with an access code (and token) opens a read-only session limited to its scope."""

import functools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Dict, Optional

from pynamodb.exceptions import DoesNotExist

from chalicelib import clock
from chalicelib.errors import NotAuthenticated
from chalicelib.fields import iso_time
from chalicelib.models import DeviceModel, InstallationModel, PortalAccessModel, PortalSessionModel
from chalicelib.observability import count_metric
from chalicelib.paging import binding, page
from chalicelib.security import new_token, same_secret, token_hash
from chalicelib.services.audit.record import record_event
from chalicelib.services.portal.access_codes import code_digest, normalize_code, scope_name
from chalicelib.services.tenants.bootstrap import ROOT_ORG_ID
from chalicelib.services.throttle import count_failure, refuse_when_exhausted

SESSION_HOURS = 8
FAILURES_WINDOW = 15 * 60
# Failed logins in 15 minutes, per source address (an office behind one NAT shares it, so the limit is high) and
# per offered code (an installation's code with wrong tokens). A code is 140 random bits: guessing one is hopeless,
# so failures are never pooled across codes (a shared prefix bucket let strangers lock a victim's code).
FAILURES_PER_SOURCE, FAILURES_PER_CODE = 50, 10


class PortalLoginInvalid(NotAuthenticated):
    code = "portal_login_invalid"
    message = "This access code (and token) does not open the portal."


@dataclass(frozen=True)
class PortalPrincipal:
    """Who reads the portal: a session limited to one scope."""

    access_id: str
    scope_type: str
    scope_id: str
    org_id: str


def open_portal_session(fields: Dict[str, Any], source_ip: Optional[str] = None) -> Dict[str, Any]:
    """Log in with a code (and, for an installation, its token): a read-only session of that scope. Failures
    count per source address and per code: rate limited after 50 and 10 in 15 minutes (a sliding window)."""
    code = normalize_code(fields["code"])
    subjects = [
        ("portal_login_source", source_ip or "-", FAILURES_PER_SOURCE),
        ("portal_login_code", code_digest(code) if code else "-", FAILURES_PER_CODE),
    ]
    refuse_when_exhausted(subjects, FAILURES_WINDOW, "Too many failed portal logins; try again later.")
    access = _access_of(code, fields.get("token"))
    if access is None:
        count_failure(subjects, FAILURES_WINDOW)
        record_event("public", "portal_login_failed", ROOT_ORG_ID, detail={"source_ip": source_ip})
        count_metric("LoginFailed")
        raise PortalLoginInvalid()
    now = clock.now()
    token, expires = new_token(), now + timedelta(hours=SESSION_HOURS)
    PortalSessionModel(
        token_hash(token),
        access_id=access.access_id,
        generation=access.generation,
        created_at=now,
        expires_at=expires,
        ttl=expires,
    ).save(condition=PortalSessionModel.token_hash.does_not_exist())
    record_event(
        "portal",
        "portal_login",
        access.scope_org_id,
        target=access.access_id,
        detail={"scope_type": access.scope_type, "scope_id": access.scope_id, "source_ip": source_ip},
    )
    count_metric("LoginSucceeded")
    return {
        "token": token,
        "expires_at": expires.isoformat(),
        "scope": {
            "type": access.scope_type,
            "id": access.scope_id,
            "name": scope_name(access.scope_type, access.scope_id),
        },
    }


def _access_of(code: Optional[str], token: Optional[str]) -> Optional[PortalAccessModel]:
    """The ACTIVE access this code (and token) opens, or None for every kind of failure alike."""
    if code is None:
        return None
    digest = code_digest(code)
    matches = list(PortalAccessModel.code_index.query(digest, limit=2))
    if len(matches) != 1:
        return None
    try:
        access = PortalAccessModel.get(matches[0].access_id, consistent_read=True)
    except DoesNotExist:
        return None
    # The index lags: the item itself must still hold this code and be enabled.
    if access.state != "ACTIVE" or not same_secret(access.code_hash, digest):
        return None
    if access.scope_type == "installation" and not (
        token and access.token_hash and same_secret(token_hash(token), access.token_hash)
    ):
        return None
    return access


def authenticate_portal(token: Optional[str]) -> PortalPrincipal:
    """The portal principal behind a bearer token: the session must be live and its access unchanged since."""
    if not token or len(token) > 200:
        raise NotAuthenticated("Log in to the portal first: send Authorization: Bearer <portal session token>.")
    try:
        session = PortalSessionModel.get(token_hash(token), consistent_read=True)
        access = PortalAccessModel.get(session.access_id, consistent_read=True)
    except DoesNotExist:
        raise NotAuthenticated("The portal session is unknown or has ended; log in again.") from None
    # A new code or a revocation raised the generation: sessions of the old code end at once.
    if (
        clock.now() >= session.expires_at
        or access.state != "ACTIVE"
        or int(access.generation) != int(session.generation)
    ):
        session.delete()
        raise NotAuthenticated("The portal session has ended; log in again.")
    return PortalPrincipal(access.access_id, access.scope_type, access.scope_id, access.scope_org_id)


def _device_view(device: DeviceModel) -> Dict[str, Any]:
    return {
        "serial": device.serial,
        "product_type": device.product_type,
        "claim_status": device.claim_status,
        "site_id": device.site_id,
        "labels": list(device.labels or []),
        "claimed_at": iso_time(device.claimed_at),
    }


def _installation_view(installation: InstallationModel) -> Dict[str, Any]:
    return {
        "id": installation.installation_id,
        "state": installation.state,
        "serial": installation.serial,
        "product_type": installation.product_type,
        "web_address": installation.web_address,
        "site_id": installation.site_id,
        "created_at": installation.created_at.isoformat(),
        "activated_at": iso_time(installation.activated_at),
    }


def portal_devices(portal: PortalPrincipal, limit: int = 50, cursor: Optional[str] = None) -> Dict[str, Any]:
    """The devices of the portal's scope (never keys or codes)."""
    if portal.scope_type == "installation":
        installation = InstallationModel.get(portal.scope_id, consistent_read=True)
        device = DeviceModel.get(installation.serial, consistent_read=True)
        mine = device.owner_org_id == installation.customer_org_id and installation.state in ("PENDING", "ACTIVE")
        return {"items": [_device_view(device)] if mine else [], "next_cursor": None}
    only_site = DeviceModel.site_id == portal.scope_id if portal.scope_type == "site" else None
    items, next_cursor = page(
        functools.partial(DeviceModel.owner_index.query, portal.org_id, None, only_site),
        limit,
        cursor,
        bound_to=binding(portal.access_id, "portal_devices"),
    )
    return {"items": [_device_view(item) for item in items], "next_cursor": next_cursor}


def portal_installations(portal: PortalPrincipal, limit: int = 50, cursor: Optional[str] = None) -> Dict[str, Any]:
    """The installations of the portal's scope."""
    if portal.scope_type == "installation":
        return {
            "items": [_installation_view(InstallationModel.get(portal.scope_id, consistent_read=True))],
            "next_cursor": None,
        }
    only_site = InstallationModel.site_id == portal.scope_id if portal.scope_type == "site" else None
    items, next_cursor = page(
        functools.partial(InstallationModel.customer_index.query, portal.org_id, None, only_site),
        limit,
        cursor,
        bound_to=binding(portal.access_id, "portal_installations"),
    )
    return {"items": [_installation_view(item) for item in items], "next_cursor": next_cursor}


def portal_overview(
    token: Optional[str], devices_cursor: Optional[str] = None, installations_cursor: Optional[str] = None
) -> Dict[str, Any]:
    """What the console's portal page shows a session: its scope by name, a page of its devices and one of its
    installations (each with its own cursor); NotAuthenticated once the session has ended."""
    portal = authenticate_portal(token)
    return {
        "scope": {
            "type": portal.scope_type,
            "id": portal.scope_id,
            "name": scope_name(portal.scope_type, portal.scope_id),
        },
        "devices": portal_devices(portal, cursor=devices_cursor),
        "installations": portal_installations(portal, cursor=installations_cursor),
    }


def end_portal_session(token: Optional[str]) -> None:
    """Leave the portal: the session ends at once (nothing happens for an unknown or ended one)."""
    if token and len(token) <= 200:
        PortalSessionModel(token_hash(token)).delete()
