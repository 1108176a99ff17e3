"""Totals of an organization's lists kept cheap: counters changed in the same transaction as the items.

A total is one BatchGet of counters (one key per organization of the list), whatever the organizations hold.
Every write that adds, removes or moves a counted item adds its count changes to its own TransactWrite, so a
write that fails (condition, crash, conflict) changes no count. `recount_org` rebuilds the counters from the
items, for a stage that held data before counters existed."""

from collections import Counter
from typing import Dict, Iterable, List, Optional, Tuple

from pynamodb.transactions import TransactWrite

from chalicelib.models import CounterModel, InvitationModel, UserModel

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
    found = CounterModel.batch_get([(org_id, kind) for org_id in org_ids])
    return sum(int(counter.total) for counter in found)


def counted_kinds_of_users(users: Iterable[UserModel]) -> Counter:
    """What the counters of one organization's users should read (kind -> count)."""
    counts: Counter = Counter()
    for user in users:
        counts.update(CounterModel.users_kinds(user.roles))
    return counts


def counted_kinds_of_invitations(invitations: Iterable[InvitationModel]) -> Counter:
    """What the counters of one organization's invitations should read (kind -> count)."""
    return Counter(CounterModel.invitations_in(invitation.state) for invitation in invitations)
