"""Invitations into organizations."""

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.meta import table_meta


class InvitationStateIndex(GlobalSecondaryIndex):
    """Invitations by state, ordered by expiry: what the hourly job reads."""

    Meta = table_meta("", "state_expiry_index")
    state = UnicodeAttribute(hash_key=True)
    expires_at = UTCDateTimeAttribute(range_key=True)


class InvitationOrgIndex(GlobalSecondaryIndex):
    """Invitations of an organization by state, newest last."""

    Meta = table_meta("", "org_state_index")
    org_id = UnicodeAttribute(hash_key=True)
    state_key = UnicodeAttribute(range_key=True)  # "<state>#<created_at>"


class InvitationModel(Model):
    """An invitation into an organization (CREATED, SENT, ACCEPTED, EXPIRED, REVOKED)."""

    Meta = table_meta("invitations")
    invitation_id = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    state = UnicodeAttribute()
    state_key = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    # ignore[arg-type] on each ListAttribute[str]: pynamodb types `of` as the element's Python type,
    # yet it takes the Attribute class; ListAttribute[str] gives the values their real type, list[str].
    roles = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    permissions = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    site_ids = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    language = UnicodeAttribute(default="en")
    # The link is an HMAC of id and nonce under the server secret: resendable, never stored.
    nonce = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    lifetime_days = NumberAttribute(default=7)
    sent_at = UTCDateTimeAttribute(null=True)  # resends are counted by the throttle (rate_limits), not here
    accepted_user_id = UnicodeAttribute(null=True)
    ttl = TTLAttribute(null=True)
    state_expiry_index = InvitationStateIndex()
    org_state_index = InvitationOrgIndex()

    @staticmethod
    def state_key_prefix(state: str) -> str:
        """What every state_key of one state begins with: an organization's invitations in that state."""
        return f"{state}#"

    def state_key_in(self, state: str) -> str:
        """This invitation's state_key once in `state`: "<state>#<created_at>" (by state, oldest first)."""
        return self.state_key_prefix(state) + self.created_at.isoformat()
