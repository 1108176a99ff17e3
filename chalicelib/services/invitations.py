"""Invitations into an organization. So far: the hourly expiry of the ones past their lifetime."""
from datetime import datetime, timezone
from typing import Dict, Optional

from pynamodb.exceptions import UpdateError

from chalicelib.models import InvitationModel
from chalicelib.services.audit import record_event

OPEN_STATES = ("CREATED", "SENT")
EXPIRED = "EXPIRED"


def expire_invitations(now: Optional[datetime] = None, page_size: int = 100) -> Dict[str, int]:
    """Move CREATED and SENT invitations past expires_at to EXPIRED (index queries, no scan; idempotent).

    Answers how many items were read and how many changed state.
    """
    now = now or datetime.now(timezone.utc)
    read = expired = 0
    for state in OPEN_STATES:
        due = InvitationModel.state_expiry_index.query(state, InvitationModel.expires_at < now, page_size=page_size)
        for invitation in due:
            read += 1
            try:
                # The index lags the table: only an invitation still in `state` may expire.
                invitation.update(actions=[InvitationModel.state.set(EXPIRED)],
                                  condition=InvitationModel.state == state)
            except UpdateError:
                continue
            expired += 1
            record_event("scheduler", "invitation_expired", invitation.org_id, target=invitation.invitation_id,
                         detail={"previous_state": state})
    return {"read": read, "expired": expired}
