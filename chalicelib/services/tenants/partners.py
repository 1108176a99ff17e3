"""Partner links: one organization's admin asks, the other's admin accepts or declines; an OPERATOR links at once.

Only accepted links are PartnerModel rows, so everything reading partners (is_partner, the organization list)
sees accepted links only; pending requests live apart in PartnerRequestModel.

A request is stored whether or not the asked id names an organization, and its answer never shows the asked
organization's name: asking tells the asker nothing about which ids exist (requests to nobody just expire).
"""

import functools
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Iterable, Optional

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.models import OrganizationModel, PartnerModel, PartnerRequestModel
from chalicelib.paging import binding, page
from chalicelib.permissions import ORGS_READ, PARTNERS_MANAGE, Principal, require
from chalicelib.services.audit.record import record_event
from chalicelib.services.tenants.orgs import OrgNotFound, get_org, is_partner, org_in_scope
from chalicelib.services.tenants.users import failed_conditions
from chalicelib.services.throttle import hit

REQUEST_DAYS = 30  # an unanswered request (or one to an id naming nobody) lapses
REQUESTS_PER_HOUR = 10  # per asking organization: bounds requests (and rows) an admin can create
OUTGOING, INCOMING = "outgoing", "incoming"
DIRECTIONS = (OUTGOING, INCOMING)


class PartnerSelf(ValidationFailed):
    code, message = "partner_self", "An organization cannot be its own partner."


class PartnerAlreadyLinked(Conflict):
    code, message = "partner_already_linked", "The two organizations are partners already."


class PartnerRequestIncoming(Conflict):
    code, message = (
        "partner_request_incoming",
        "That organization has asked yours to be partners already: accept its request instead.",
    )


class PartnerRequestNotFound(NotFound):
    code, message = "partner_request_not_found", "No such pending partner request."


class PartnerRequestChanged(Conflict):
    code, message = "partner_request_changed", "The partner request changed meanwhile; reload and try again."


def list_partners(principal: Principal, org_id: str, limit: int = 50, cursor: Optional[str] = None) -> Dict[str, Any]:
    """The accepted partner links of an organization in scope."""
    org_in_scope(principal, org_id)
    require(principal, ORGS_READ)
    items, next_cursor = page(
        functools.partial(PartnerModel.query, org_id),
        limit,
        cursor,
        bound_to=binding(principal.user_id, "partners", org_id=org_id),
    )
    names = _names(item.partner_org_id for item in items)
    return {
        "items": [
            _link_view(org_id, item.partner_org_id, names.get(item.partner_org_id), item.created_at) for item in items
        ],
        "next_cursor": next_cursor,
    }


def add_partner(principal: Principal, org_id: str, partner_org_id: str) -> Dict[str, Any]:
    """Ask another organization (named by its id) to be partners; an OPERATOR links the two at once."""
    org_in_scope(principal, org_id)
    require(principal, PARTNERS_MANAGE)
    if partner_org_id == org_id:
        raise PartnerSelf()
    if principal.is_operator:
        return _link(principal, org_id, partner_org_id)
    if is_partner(org_id, partner_org_id):  # the asker sees its partners anyway: this tells it nothing new
        raise PartnerAlreadyLinked()
    hit("partner_request", org_id, limit=REQUESTS_PER_HOUR, window_seconds=3600)
    now = clock.now()
    expires = now + timedelta(days=REQUEST_DAYS)
    rows = [
        PartnerRequestModel(
            source,
            target,
            direction=direction,
            created_at=now,
            created_by=principal.user_id,
            expires_at=expires,
            ttl=expires,
        )
        for source, target, direction in ((org_id, partner_org_id, OUTGOING), (partner_org_id, org_id, INCOMING))
    ]
    # No read of the asked organization: an unknown id takes the same path (and time) as a known one.
    free = PartnerRequestModel.org_id.does_not_exist() | (PartnerRequestModel.expires_at < now)
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            for row in rows:
                transaction.save(row, condition=free)
    except TransactWriteError as error:
        if failed_conditions(error):
            return _repeated_request(org_id, partner_org_id, now)
        if _collided(error):
            raise PartnerRequestChanged() from None
        raise
    record_event(principal.user_id, "partner_requested", org_id, target=partner_org_id)
    return _request_view(rows[0], name=None)


def remove_partner(principal: Principal, org_id: str, partner_org_id: str) -> None:
    """Remove a partner link in both directions (either side may)."""
    org_in_scope(principal, org_id)
    require(principal, PARTNERS_MANAGE)
    if not is_partner(org_id, partner_org_id):
        raise NotFound("No such partner link.")
    with TransactWrite(connection=models.connection()) as transaction:
        transaction.delete(PartnerModel(org_id, partner_org_id))
        transaction.delete(PartnerModel(partner_org_id, org_id))
    record_event(principal.user_id, "partner_removed", org_id, target=partner_org_id)


def list_partner_requests(
    principal: Principal, org_id: str, direction: Optional[str] = None, limit: int = 50, cursor: Optional[str] = None
) -> Dict[str, Any]:
    """The pending partner requests of an organization in scope: incoming ones name the asker, outgoing ones
    only the id asked (its name shows once it accepts)."""
    org_in_scope(principal, org_id)
    require(principal, PARTNERS_MANAGE)
    live = PartnerRequestModel.expires_at > clock.now()
    if direction:
        live = live & (PartnerRequestModel.direction == direction)
    items, next_cursor = page(
        functools.partial(PartnerRequestModel.query, org_id, filter_condition=live),
        limit,
        cursor,
        bound_to=binding(principal.user_id, "partner_requests", org_id=org_id, direction=direction),
    )
    names = _names(item.partner_org_id for item in items if item.direction == INCOMING)
    return {
        "items": [
            _request_view(item, names.get(item.partner_org_id) if item.direction == INCOMING else None)
            for item in items
        ],
        "next_cursor": next_cursor,
    }


def accept_partner_request(principal: Principal, org_id: str, partner_org_id: str) -> Dict[str, Any]:
    """Accept the request `partner_org_id` sent to `org_id`: both become partners of each other, in one step."""
    org_in_scope(principal, org_id)
    require(principal, PARTNERS_MANAGE)
    now = clock.now()
    _pending(org_id, partner_org_id, INCOMING, now)

    def write(transaction: TransactWrite) -> None:
        for source, target in ((org_id, partner_org_id), (partner_org_id, org_id)):
            transaction.save(PartnerModel(source, target, created_at=now, created_by=principal.user_id))

    _close_request(org_id, partner_org_id, INCOMING, now, also=write)
    record_event(principal.user_id, "partner_request_accepted", org_id, target=partner_org_id)
    return _link_view(org_id, partner_org_id, _names([partner_org_id]).get(partner_org_id), now)


def decline_partner_request(principal: Principal, org_id: str, partner_org_id: str) -> None:
    """Decline the request `partner_org_id` sent to `org_id` (no link; the asker's request is gone too)."""
    _drop_request(principal, org_id, partner_org_id, INCOMING, "partner_request_declined")


def cancel_partner_request(principal: Principal, org_id: str, partner_org_id: str) -> None:
    """Withdraw the request `org_id` sent to `partner_org_id`."""
    _drop_request(principal, org_id, partner_org_id, OUTGOING, "partner_request_cancelled")


def _drop_request(principal: Principal, org_id: str, partner_org_id: str, direction: str, event: str) -> None:
    org_in_scope(principal, org_id)
    require(principal, PARTNERS_MANAGE)
    now = clock.now()
    _pending(org_id, partner_org_id, direction, now)
    _close_request(org_id, partner_org_id, direction, now)
    record_event(principal.user_id, event, org_id, target=partner_org_id)


def _link(principal: Principal, org_id: str, partner_org_id: str) -> Dict[str, Any]:
    """An operator's link: both directions at once, and any request between the two is settled by it."""
    partner = get_org(partner_org_id)
    if partner is None:
        raise OrgNotFound("No organization with that id to link as a partner.")
    now = clock.now()
    with TransactWrite(connection=models.connection()) as transaction:
        for source, target in ((org_id, partner_org_id), (partner_org_id, org_id)):
            transaction.save(PartnerModel(source, target, created_at=now, created_by=principal.user_id))
            transaction.delete(PartnerRequestModel(source, target))
    record_event(principal.user_id, "partner_added", org_id, target=partner_org_id)
    return _link_view(org_id, partner_org_id, partner.name, now)


def _repeated_request(org_id: str, partner_org_id: str, now: datetime) -> Dict[str, Any]:
    """A request that met a live one of the same pair: the asker's own answers as before (idempotent)."""
    existing = _live(org_id, partner_org_id, now)
    if existing is None:  # the other side's row is live but ours is not: withdrawn or accepted meanwhile
        raise PartnerRequestChanged()
    if existing.direction == INCOMING:  # listed as incoming for the asker already: nothing new is told
        raise PartnerRequestIncoming()
    return _request_view(existing, name=None)


def _live(org_id: str, partner_org_id: str, now: datetime) -> Optional[PartnerRequestModel]:
    """The unexpired request row of `org_id` about `partner_org_id`, or None (expiry is checked here: TTL is late)."""
    try:
        row = PartnerRequestModel.get(org_id, partner_org_id, consistent_read=True)
    except DoesNotExist:
        return None
    return row if row.expires_at > now else None


def _pending(org_id: str, partner_org_id: str, direction: str, now: datetime) -> PartnerRequestModel:
    """The live request row seen from `org_id` in this direction; PartnerRequestNotFound otherwise (an admin
    cannot accept its own organization's request: that row is outgoing)."""
    row = _live(org_id, partner_org_id, now)
    if row is None or row.direction != direction:
        raise PartnerRequestNotFound()
    return row


def _close_request(
    org_id: str,
    partner_org_id: str,
    direction: str,
    now: datetime,
    also: Optional[Callable[[TransactWrite], None]] = None,
) -> None:
    """Delete both rows of a request (and write `also` in the same transaction) if it is still pending."""
    still_pending = (PartnerRequestModel.direction == direction) & (PartnerRequestModel.expires_at > now)
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.delete(PartnerRequestModel(org_id, partner_org_id), condition=still_pending)
            transaction.delete(PartnerRequestModel(partner_org_id, org_id))
            if also:
                also(transaction)
    except TransactWriteError as error:
        if failed_conditions(error):  # accepted, declined or withdrawn meanwhile
            raise PartnerRequestNotFound() from None
        if _collided(error):
            raise PartnerRequestChanged() from None
        raise


def _collided(error: TransactWriteError) -> bool:
    """True when DynamoDB refused the transaction because another one was writing the same items."""
    reasons = getattr(error, "cancellation_reasons", None) or []
    return any(reason is not None and reason.code == "TransactionConflict" for reason in reasons)


def _names(org_ids: Iterable[str]) -> Dict[str, str]:
    wanted = sorted(set(org_ids))
    return {org.org_id: org.name for org in OrganizationModel.batch_get(wanted)} if wanted else {}


def _link_view(org_id: str, partner_org_id: str, name: Optional[str], created_at: datetime) -> Dict[str, Any]:
    return {
        "org_id": org_id,
        "partner_org_id": partner_org_id,
        "partner_name": name,
        "status": "ACCEPTED",
        "created_at": created_at.isoformat(),
    }


def _request_view(row: PartnerRequestModel, name: Optional[str]) -> Dict[str, Any]:
    return {
        "org_id": row.org_id,
        "partner_org_id": row.partner_org_id,
        "partner_name": name,
        "status": "PENDING",
        "direction": row.direction,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
    }
