"""Batch references and their serials."""

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.meta import table_meta


class BatchOrgIndex(GlobalSecondaryIndex):
    """Batches an organization created, oldest first."""

    Meta = table_meta("", "org_index")
    org_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)  # "<created_at>#<batch_id>"


class BatchTargetIndex(GlobalSecondaryIndex):
    """Batches addressed to an organization, oldest first."""

    Meta = table_meta("", "target_index")
    target_org_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class BatchModel(Model):
    """A batch reference: serials a maker assigns to a target organization. States: CREATING (entries being
    written; never confirmable), MOVING (devices going to PENDING or CLAIMED), PENDING, CONFIRMING (a confirmation
    began: no longer rejectable), CONFIRMED, REJECTING, REJECTED. At rest its count is its number of entries."""

    Meta = table_meta("batches")
    batch_id = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    target_org_id = UnicodeAttribute()
    reference = UnicodeAttribute()
    label = UnicodeAttribute(null=True)
    requires_confirmation = BooleanAttribute(default=False)
    state = UnicodeAttribute()
    # ignore: the stored name "count" hides Model.count() on this model (never called on it; stored name kept)
    count = NumberAttribute(default=0)  # type: ignore[assignment]
    # ignore[arg-type] on each ListAttribute[str]: pynamodb types `of` as the element's Python type,
    # yet it takes the Attribute class; ListAttribute[str] gives the values their real type, list[str].
    unknown_serials = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    unavailable_serials = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    created_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    org_index = BatchOrgIndex()
    target_index = BatchTargetIndex()


class BatchReferenceModel(Model):
    """Makes a batch reference unique per organization by a conditional put ("<org_id>#<reference>")."""

    Meta = table_meta("batch_references")
    reference_key = UnicodeAttribute(hash_key=True)
    batch_id = UnicodeAttribute()

    @staticmethod
    def key_of(org_id: str, reference: str) -> str:
        """The reference_key "<org_id>#<reference>": one reference per organization."""
        return f"{org_id}#{reference}"


class BatchSerialModel(Model):
    """One serial of a batch: the batch's own list, what confirm walks (and resumes) and GET pages."""

    Meta = table_meta("batch_serials")
    batch_id = UnicodeAttribute(hash_key=True)
    serial = UnicodeAttribute(range_key=True)
