"""Key export jobs (the download list)."""

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.meta import table_meta


class ExportUserIndex(GlobalSecondaryIndex):
    """A user's export jobs, newest last."""

    Meta = table_meta("", "user_index")
    user_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)  # "<ISO time>#<export_id>"


class ExportDueIndex(GlobalSecondaryIndex):
    """Jobs by state and the time something is due: a queued/running job's deadline, a file's expiry."""

    Meta = table_meta("", "state_due_index")
    state = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class ExportModel(Model):
    """A key export job on a user's download list (QUEUED, RUNNING, READY, FAILED, EXPIRED)."""

    Meta = table_meta("exports")
    export_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    format = UnicodeAttribute()
    filters = JSONAttribute(default=dict)
    recipient_jwk = JSONAttribute(null=True)
    state = UnicodeAttribute()
    # ignore: the stored name "count" hides Model.count() on this model (never called on it; stored name kept)
    count = NumberAttribute(null=True)  # type: ignore[assignment]
    size_bytes = NumberAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    file_name = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    created_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    due_at = UTCDateTimeAttribute()
    ttl = TTLAttribute(null=True)  # the entry leaves the list 30 days after its file expired
    user_index = ExportUserIndex()
    state_due_index = ExportDueIndex()
