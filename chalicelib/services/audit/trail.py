"""Reading the audit trail: events of the organizations in scope, newest first."""

import functools
from datetime import datetime, timezone
from typing import Any, Dict, Optional

from chalicelib.errors import Forbidden, ValidationFailed
from chalicelib.models import AuditEventModel
from chalicelib.paging import binding, page, page_chain
from chalicelib.permissions import AUDIT_READ, Principal
from chalicelib.services.tenants.orgs import get_org, in_scope, listed_org_ids
from chalicelib.services.tenants.users import get_user


def event_view(event: AuditEventModel) -> Dict[str, Any]:
    """An audit event as the API shows it."""
    return {
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "org_id": event.org_id,
        "action": event.action,
        "target": event.target,
        "detail": event.detail,
    }


def _instant(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed("since must be an ISO 8601 time such as 2026-11-01T00:00:00Z.") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def list_events(
    principal: Principal,
    org_id: Optional[str] = None,
    action: Optional[str] = None,
    actor_id: Optional[str] = None,
    since: Optional[str] = None,
    limit: int = 50,
    cursor: Optional[str] = None,
) -> Dict[str, Any]:
    """Events newest first: one query per organization in scope (by actor: the actor index, kept to the scope).
    `action` is applied while DynamoDB reads the partition, so a page may hold fewer than `limit` events."""
    org_ids = listed_org_ids(principal, org_id)
    if not principal.may(AUDIT_READ):
        raise Forbidden("Your roles do not allow reading the audit trail.")
    key_condition = AuditEventModel.event_key >= _instant(since).isoformat() if since else None
    condition = AuditEventModel.action == action if action else None
    bound_to = binding(principal.user_id, "audit", org_id=org_id, action=action, actor_id=actor_id, since=since)
    if actor_id:
        if not _actor_in_scope(principal, actor_id):
            return {"items": [], "next_cursor": None}  # no query, so no cursor to tell anything by
        listed = set(org_ids)
        query = functools.partial(
            AuditEventModel.actor_index.query,
            actor_id,
            key_condition,
            filter_condition=condition,
            scan_index_forward=False,
        )
        # The actor index spans organizations: only events in scope make the page and its cursor.
        items, next_cursor = page(
            query,
            limit,
            cursor,
            bound_to=bound_to,
            select=lambda events: [(event, event) for event in events if event.org_id in listed],
        )
    else:
        queries = [
            functools.partial(
                AuditEventModel.query, org, key_condition, filter_condition=condition, scan_index_forward=False
            )
            for org in org_ids
        ]
        items, next_cursor = page_chain(queries, limit, cursor, bound_to=bound_to)
    return {"items": [event_view(event) for event in items], "next_cursor": next_cursor}


def _actor_in_scope(principal: Principal, actor_id: str) -> bool:
    """An operator filters by any actor (users, "scheduler", "public", ...); anyone else only by a user of an
    organization in its scope, so the actor index is never read for another tenant's user."""
    if principal.is_operator:
        return True
    user = get_user(actor_id)
    return user is not None and in_scope(principal, get_org(user.org_id))
