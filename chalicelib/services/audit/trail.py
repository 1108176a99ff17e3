"""Reading the audit trail: events of the organizations in scope, newest first."""

import functools
import heapq
import itertools
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Set, Tuple

from chalicelib.errors import Forbidden, ValidationFailed
from chalicelib.models import AuditEventModel, UserModel
from chalicelib.paging import InvalidCursor, binding, decode_cursor, encode_cursor, page, page_chain
from chalicelib.permissions import AUDIT_READ, OPERATOR, Principal
from chalicelib.services.accounts.console_visits import orgs_to_act_for
from chalicelib.services.audit.record import event_view
from chalicelib.services.tenants.orgs import get_org, in_scope, listed_org_ids
from chalicelib.services.tenants.users import find_user_by_email, get_user


def _instant(raw: str, name: str = "since") -> datetime:
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"{name} must be an ISO 8601 time such as 2026-11-01T00:00:00Z.") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


# Organizations whose events a page merges by time (one query each per page); a larger scope (an operator's) is
# read one organization after another, each newest first, to keep a page's reads bounded.
MERGED_SCOPE = 50


def list_events(
    principal: Principal,
    org_id: Optional[str] = None,
    action: Optional[str] = None,
    actor_id: Optional[str] = None,
    since: Optional[str] = None,
    limit: int = 50,
    cursor: Optional[str] = None,
    until: Optional[str] = None,
) -> Dict[str, Any]:
    """Events newest first: one query per organization in scope, merged by time for up to MERGED_SCOPE
    organizations (by actor: the actor index, kept to the scope).
    `since` and `until` bound the time (`until` excluded). `action` is applied while DynamoDB reads the
    partition, so a page may hold fewer than `limit` events."""
    org_ids = listed_org_ids(principal, org_id)
    if not principal.may(AUDIT_READ):
        raise Forbidden("Your roles do not allow reading the audit trail.")
    key_condition = _time_condition(since, until)
    condition = AuditEventModel.action == action if action else None
    bound_to = binding(
        principal.user_id, "audit", org_id=org_id, action=action, actor_id=actor_id, since=since, until=until
    )
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
    elif len(org_ids) <= MERGED_SCOPE:
        merged_to = binding(principal.user_id, "audit-by-time", org_id=org_id, action=action, since=since, until=until)
        items, next_cursor = _merged_page(org_ids, since, until, condition, limit, cursor, merged_to)
    else:
        queries = [
            functools.partial(
                AuditEventModel.query, org, key_condition, filter_condition=condition, scan_index_forward=False
            )
            for org in org_ids
        ]
        items, next_cursor = page_chain(queries, limit, cursor, bound_to=bound_to)
    return {"items": [event_view(event) for event in items], "next_cursor": next_cursor}


def _merged_page(
    org_ids: List[str],
    since: Optional[str],
    until: Optional[str],
    condition: Any,
    limit: int,
    cursor: Optional[str],
    bound_to: str,
) -> Tuple[List[AuditEventModel], Optional[str]]:
    """One page of the organizations' events merged newest first: one lazy query per organization, merged by
    event key; the cursor is the last event shown, and the next page reads each organization from there."""
    index, key = decode_cursor(cursor, bound_to=bound_to)
    if index != 0 or (key is not None and set(key) != {"org_id", "event_key"}):
        raise InvalidCursor()
    last = (key["org_id"]["S"], key["event_key"]["S"]) if key else None
    start = _instant(since).isoformat() if since else None
    end = _instant(until, "until").isoformat() if until else None
    # The last event shown is the inclusive upper bound (the one bound a key condition takes besides `since`) and
    # is skipped below; a bare `until` time never equals a key, so it stays excluded.
    upper = min(bound for bound in (end, last and last[1]) if bound) if end or last else None
    key_condition: Any
    if start and upper:
        key_condition = AuditEventModel.event_key.between(start, upper)
    elif start:
        key_condition = AuditEventModel.event_key >= start
    elif upper:
        key_condition = AuditEventModel.event_key <= upper
    else:
        key_condition = None
    streams = [
        AuditEventModel.query(
            org,
            key_condition,
            filter_condition=condition,
            scan_index_forward=False,
            limit=limit + 2,
            page_size=limit + 2,
        )
        for org in org_ids
    ]
    merged = heapq.merge(*streams, key=lambda event: event.event_key, reverse=True)
    wanted = (event for event in merged if (event.org_id, event.event_key) != last)
    items = list(itertools.islice(wanted, limit + 1))
    if len(items) <= limit:
        return items, None
    shown = items[:limit]
    after = {"org_id": {"S": shown[-1].org_id}, "event_key": {"S": shown[-1].event_key}}
    return shown, encode_cursor(after, 0, bound_to=bound_to)


def _time_condition(since: Optional[str], until: Optional[str]) -> Any:
    """The key condition of a time range: an event key starts with its ISO time, and a bare ISO time sorts before
    every key of its instant, so `until` is excluded."""
    start = _instant(since).isoformat() if since else None
    end = _instant(until, "until").isoformat() if until else None
    if start and end:
        return AuditEventModel.event_key.between(start, end)
    if start:
        return AuditEventModel.event_key >= start
    if end:
        return AuditEventModel.event_key < end
    return None


def _actor_in_scope(principal: Principal, actor_id: str) -> bool:
    """An operator filters by any actor (users, "scheduler", "public", ...); anyone else only by a user of an
    organization in its scope, so the actor index is never read for another tenant's user."""
    if principal.is_operator:
        return True
    user = get_user(actor_id)
    return user is not None and in_scope(principal, get_org(user.org_id))


NOBODY = "-"  # an actor id no event has: a person filter naming nobody in scope shows no events


def read_trail(
    principal: Principal,
    org_id: Optional[str] = None,
    action: Optional[str] = None,
    person: Optional[str] = None,
    since: Optional[str] = None,
    until: Optional[str] = None,
    limit: int = 50,
    cursor: Optional[str] = None,
) -> Dict[str, Any]:
    """The console's audit page: list_events with the person named by e-mail address (or id), each event's actor
    and target named when they are people of the reader's scope (a stranger's name is never shown), and the
    organizations the reader may filter by (its own and those below, tree order)."""
    actor_id = _person_id(person) if person else None
    listed = list_events(principal, org_id, action, actor_id, since, limit, cursor, until)
    listed["orgs"] = orgs_to_act_for(principal)
    wanted = {
        value
        for event in listed["items"]
        for value in (event["actor_id"], event["target"])
        if isinstance(value, str) and value.startswith("usr_")
    }
    people = _people(principal, wanted)
    for event in listed["items"]:
        event["actor"] = people.get(event["actor_id"])
        event["target_person"] = people.get(event["target"] or "")
    return listed


def _person_id(person: str) -> str:
    """A person filter's actor id: the user holding an e-mail address, else the text itself (an id, or an
    operator's "scheduler", "public", ...)."""
    if "@" not in person:
        return person
    user = find_user_by_email(person)
    return user.user_id if user is not None else NOBODY


def _people(principal: Principal, user_ids: Set[str]) -> Dict[str, Dict[str, Any]]:
    """Name and address of the people in scope among these users; for others only whether an operator acted."""
    if not user_ids:
        return {}
    orgs: Dict[str, bool] = {}
    people: Dict[str, Dict[str, Any]] = {}
    for user in UserModel.batch_get(list(user_ids)):
        if user.org_id not in orgs:
            orgs[user.org_id] = in_scope(principal, get_org(user.org_id))
        if orgs[user.org_id]:
            people[user.user_id] = {"name": user.name, "email": user.email}
        else:
            people[user.user_id] = {"outside": True, "operator": OPERATOR in (user.roles or [])}
    return people
