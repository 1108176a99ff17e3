"""Totals of an organization's lists kept cheap: counters changed in the same transaction as the items.

A total is one BatchGet of counters (one key per organization of the list), whatever the organizations hold.
Every write that adds, removes or moves a counted item adds its count changes to its own TransactWrite, so a
write that fails (condition, crash, conflict) changes no count. `recount_org` rebuilds the counters from the
items, for a stage that held data before counters existed."""

from collections import Counter
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from pynamodb.transactions import TransactWrite

from chalicelib.models import CounterModel, InvitationModel, OrganizationModel, UserModel
from chalicelib.permissions import INVITATIONS_MANAGE, USERS_MANAGE, Principal, require
from chalicelib.services.tenants.orgs import listed_org_ids

# (organization, kind) -> change
Changes = Dict[Tuple[str, str], int]
INVITATION_STATES = ("CREATED", "SENT", "ACCEPTED", "EXPIRED", "REVOKED")


def user_changes(before: Optional[UserModel], after_org_id: Optional[str], after_roles: Iterable[str] = ()) -> Changes:
    """The count changes of one user going from `before` (None: new) to an organization and roles (None: gone)."""
    changes: Counter = Counter()
    if before is not None:
        for kind in CounterModel.users_kinds(before.roles):
            changes[(before.org_id, kind)] -= 1
    if after_org_id is not None:
        for kind in CounterModel.users_kinds(after_roles):
            changes[(after_org_id, kind)] += 1
    return {key: change for key, change in changes.items() if change}


def invitation_changes(org_id: str, before: Optional[str], after: Optional[str]) -> Changes:
    """The count changes of one invitation going from state `before` (None: new) to state `after`."""
    changes: Counter = Counter()
    if before is not None:
        changes[(org_id, CounterModel.invitations_in(before))] -= 1
    if after is not None:
        changes[(org_id, CounterModel.invitations_in(after))] += 1
    return {key: change for key, change in changes.items() if change}


def add_counts(transaction: TransactWrite, changes: Changes) -> None:
    """Add the count changes to a transaction (ADD: a missing counter starts at 0)."""
    for (org_id, kind), change in sorted(changes.items()):
        transaction.update(CounterModel(org_id, kind), actions=[CounterModel.total.add(change)])


def totals(org_ids: List[str], kind: str) -> int:
    """The sum of one kind's counters over the organizations: one BatchGet (per 100 organizations)."""
    return _sum(CounterModel.batch_get([(org_id, kind) for org_id in org_ids]))


def _sum(counters: Iterable[CounterModel]) -> int:
    # Below zero only on a stage with items older than its counters, before `recount`: read as none.
    return sum(max(0, int(counter.total)) for counter in counters)


def users_total(principal: Principal, org_ids: List[str], role: Optional[str] = None) -> Optional[int]:
    """The users of these organizations (holding `role`, if given): None for a site-limited reader, who sees only
    its sites' users, which no counter holds."""
    if principal.site_limited:
        return None
    return totals(org_ids, CounterModel.users_of_role(role) if role else CounterModel.USERS)


def invitations_total(principal: Principal, org_ids: List[str], state: Optional[str] = None) -> Optional[int]:
    """The invitations of these organizations (in `state`, if given; else in any): None for a site-limited
    reader (see users_total)."""
    if principal.site_limited:
        return None
    states = [state] if state else INVITATION_STATES
    found = CounterModel.batch_get(
        [(org_id, CounterModel.invitations_in(each)) for org_id in org_ids for each in states]
    )
    return _sum(found)


def count_users(principal: Principal, org_id: Optional[str] = None, role: Optional[str] = None) -> Optional[int]:
    """How many users GET /users lists over all its pages (one organization in scope, or the whole scope)."""
    org_ids = listed_org_ids(principal, org_id)
    require(principal, USERS_MANAGE)
    return users_total(principal, org_ids, role)


def count_invitations(principal: Principal, org_id: Optional[str] = None, state: Optional[str] = None) -> Optional[int]:
    """How many invitations GET /invitations lists over all its pages (one organization in scope, or the scope)."""
    org_ids = listed_org_ids(principal, org_id)
    require(principal, INVITATIONS_MANAGE)
    return invitations_total(principal, org_ids, state)


def counted_kinds_of_users(users: Iterable[UserModel]) -> Counter:
    """What the counters of one organization's users should read (kind -> count)."""
    counts: Counter = Counter()
    for user in users:
        counts.update(CounterModel.users_kinds(user.roles))
    return counts


def counted_kinds_of_invitations(invitations: Iterable[InvitationModel]) -> Counter:
    """What the counters of one organization's invitations should read (kind -> count)."""
    return Counter(CounterModel.invitations_in(invitation.state) for invitation in invitations)


def recount_org(org_id: str) -> Dict[str, int]:
    """Rebuild one organization's counters from its items (index queries); counters of kinds it no longer holds
    are set to 0. Writes racing with it may be lost from the count: run it on a quiet stage (again is harmless)."""
    wanted = counted_kinds_of_users(UserModel.org_index.query(org_id))
    wanted.update(counted_kinds_of_invitations(InvitationModel.org_state_index.query(org_id)))
    stale = {counter.kind for counter in CounterModel.query(org_id, consistent_read=True)}
    with CounterModel.batch_write() as batch:
        for kind in sorted(stale | set(wanted)):
            batch.save(CounterModel(org_id, kind, total=wanted.get(kind, 0)))
    return dict(wanted)


def recount_orgs(after: Optional[str] = None) -> Iterator[Tuple[str, Dict[str, int]]]:
    """Recount every organization in tree order, answering (organization, counts) as each is done; `after`
    resumes after that organization (the last one a stopped run reported)."""
    skipping = after is not None
    for org in OrganizationModel.tree_index.query("orgs"):
        if skipping:
            skipping = org.org_id != after
            continue
        yield org.org_id, recount_org(org.org_id)
