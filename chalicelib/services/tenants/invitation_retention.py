"""The end of a closed invitation: deleted by the hourly job a day before DynamoDB's TTL would, with its count.

DynamoDB's TTL deletes without a word to the counters, so an invitation it deleted would stay counted. The job
deletes each closed invitation itself first, in one transaction with its count; the TTL stays as the backstop
(DESIGN.md: expiring things carry one). If the job stops for more than PURGE_AHEAD, what TTL deleted meanwhile
stays counted until the operator's `recount`."""

from datetime import datetime, timedelta
from typing import Dict, Optional

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.models import InvitationModel
from chalicelib.services.tenants.counts import add_counts, invitation_changes
from chalicelib.services.tenants.users import failed_conditions

RETENTION = timedelta(days=90)  # an invitation's ttl: its expiry + 90 days (set at creation and on each send)
PURGE_AHEAD = timedelta(days=1)  # TTL never deletes before the ttl: a day ahead leaves 24 hourly runs to do it
CLOSED_STATES = ("ACCEPTED", "EXPIRED", "REVOKED")


def retention_end(expires_at: datetime) -> datetime:
    """The ttl of an invitation that expires (or expired) at `expires_at`."""
    return expires_at + RETENTION


def purge_closed_invitations(now: Optional[datetime] = None, page_size: int = 100) -> Dict[str, int]:
    """Delete the closed invitations whose ttl comes within PURGE_AHEAD (index queries by state and expiry, no
    scan; idempotent), each with its count change in one transaction. Answers how many were deleted."""
    due_before = (now or clock.now()) + PURGE_AHEAD - RETENTION
    purged = 0
    for state in CLOSED_STATES:
        due = InvitationModel.state_expiry_index.query(
            state, InvitationModel.expires_at < due_before, page_size=page_size
        )
        purged += sum(_purge_one(invitation, state, due_before) for invitation in due)
    return {"purged": purged}


def _purge_one(invitation: InvitationModel, state: str, due_before: datetime) -> bool:
    # The index lags the table: only an invitation still in `state` and still due is deleted (and counted).
    still_due = (InvitationModel.state == state) & (InvitationModel.expires_at < due_before)
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.delete(invitation, condition=still_due)
            add_counts(transaction, invitation_changes(invitation.org_id, state, None))
    except TransactWriteError as error:
        if 0 in failed_conditions(error):  # the invitation's own delete (deletes come first, the counters after)
            return False
        raise
    return True
