"""The audit trail."""

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.meta import table_meta


class AuditActorIndex(GlobalSecondaryIndex):
    """Audit events by actor, newest last."""

    Meta = table_meta("", "actor_index")
    actor_id = UnicodeAttribute(hash_key=True)
    event_key = UnicodeAttribute(range_key=True)


class AuditEventModel(Model):
    """One security-relevant act: who, what, when, on what."""

    Meta = table_meta("audit_events")
    org_id = UnicodeAttribute(hash_key=True)
    event_key = UnicodeAttribute(range_key=True)  # "<ISO time>#<random>": time-ordered, unique
    at = UTCDateTimeAttribute()
    actor_id = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute(null=True)
    detail = JSONAttribute(null=True)
    actor_index = AuditActorIndex()
