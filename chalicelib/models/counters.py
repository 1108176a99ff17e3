"""Counters: how many items of a kind an organization holds, kept in the same transaction as the items."""

from typing import Iterable, List

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.meta import table_meta


class CounterModel(Model):
    """One count per organization and kind ("users", "users#role#KEY_MANAGER", "invitations#SENT").

    Changed only by ADD inside the transaction that changes what it counts, so a failed write changes no count;
    a total is then one read whatever the organization holds."""

    Meta = table_meta("counters")
    org_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(range_key=True)
    total = NumberAttribute(default=0)

    USERS = "users"
    INVITATIONS = "invitations"

    @staticmethod
    def users_kinds(roles: Iterable[str]) -> List[str]:
        """The kinds one user counts in: the organization's users, and its users of each of its roles."""
        return [CounterModel.USERS] + [CounterModel.users_of_role(role) for role in sorted(set(roles))]

    @staticmethod
    def users_of_role(role: str) -> str:
        """The kind counting an organization's users holding `role`."""
        return f"{CounterModel.USERS}#role#{role}"

    @staticmethod
    def invitations_in(state: str) -> str:
        """The kind counting an organization's invitations in `state`."""
        return f"{CounterModel.INVITATIONS}#{state}"
