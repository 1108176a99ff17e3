"""Customer-portal access codes and the read-only portal sessions opened with them."""

from pynamodb.attributes import BinaryAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.meta import table_meta


class PortalCodeIndex(GlobalSecondaryIndex):
    """An access by the keyed hash of its code: what a portal login looks up."""

    Meta = table_meta("", "code_index", KeysOnlyProjection())
    code_hash = UnicodeAttribute(hash_key=True)


class PortalAccessModel(Model):
    """Portal access to one scope (an organization, a site or an installation): ACTIVE or REVOKED.

    The id is derived from the scope, so a scope has one access item and enabling it twice cannot race."""

    Meta = table_meta("portal_access")
    access_id = UnicodeAttribute(hash_key=True)
    scope_type = UnicodeAttribute()  # org, site or installation
    scope_id = UnicodeAttribute()
    scope_org_id = UnicodeAttribute()  # the organization the scope belongs to
    state = UnicodeAttribute()
    # The code stays readable by staff: one ESDK message under the context {purpose, access_id, generation};
    # the keyed hash finds it at login. An installation's token is only hashed (shown once).
    code_wrapped = BinaryAttribute(legacy_encoding=False)
    code_hash = UnicodeAttribute()
    token_hash = UnicodeAttribute(null=True)
    generation = NumberAttribute(default=1)  # sessions carry it: a new code or a revocation ends them all
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    changed_at = UTCDateTimeAttribute()
    changed_by = UnicodeAttribute()
    code_index = PortalCodeIndex()


class PortalSessionModel(Model):
    """A read-only portal session; only the SHA-256 of its token is stored."""

    Meta = table_meta("portal_sessions")
    token_hash = UnicodeAttribute(hash_key=True)
    access_id = UnicodeAttribute()
    generation = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    ttl = TTLAttribute()
