"""pynamodb models: the only code that knows table and index names."""
from typing import List, Type

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from chalicelib.config import get_settings


def _meta(table: str, index: str = "", projection=None) -> type:
    """A pynamodb Meta class fed from the settings (prefix, region, endpoint)."""
    if index:  # indexes query through their model's connection
        return type("Meta", (), {"index_name": index, "projection": projection or AllProjection()})
    settings = get_settings()
    return type("Meta", (), {
        "base_name": table,
        "table_name": settings.table_prefix + table,
        "billing_mode": "PAY_PER_REQUEST",
        "region": settings.region,
        "host": settings.dynamodb_endpoint,
    })


class OrgParentIndex(GlobalSecondaryIndex):
    """Children of an organization."""

    Meta = _meta("", "parent_index")
    parent_id = UnicodeAttribute(hash_key=True)


class OrgTreeIndex(GlobalSecondaryIndex):
    """Every organization by its path: a subtree is one begins_with query."""

    Meta = _meta("", "tree_index")
    tree = UnicodeAttribute(hash_key=True)
    path = UnicodeAttribute(range_key=True)


class OrganizationModel(Model):
    """An organization: a node of the tenant tree."""

    Meta = _meta("organizations")
    org_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    name_lower = UnicodeAttribute(null=True)  # for case-insensitive name filters
    reference = UnicodeAttribute(null=True)
    parent_id = UnicodeAttribute(null=True)
    # "/root/<id>/.../<own id>/": the ancestors, so scope checks need one read and subtrees one query.
    path = UnicodeAttribute(null=True)
    tree = UnicodeAttribute(default="orgs")
    can_create_orgs = BooleanAttribute(default=False)
    prefix = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    parent_index = OrgParentIndex()
    tree_index = OrgTreeIndex()


class PartnerModel(Model):
    """A partner link from one organization to another (written in both directions)."""

    Meta = _meta("org_partners")
    org_id = UnicodeAttribute(hash_key=True)
    partner_org_id = UnicodeAttribute(range_key=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()


class SiteOrgIndex(GlobalSecondaryIndex):
    """Sites of an organization."""

    Meta = _meta("", "org_index")
    org_id = UnicodeAttribute(hash_key=True)
    site_id = UnicodeAttribute(range_key=True)


class SiteModel(Model):
    """A location of a customer organization."""

    Meta = _meta("sites")
    site_id = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    name = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    org_index = SiteOrgIndex()


class OneTimeTokenModel(Model):
    """A one-time token sent by mail (password reset, e-mail confirmation); only its SHA-256 is stored."""

    Meta = _meta("one_time_tokens")
    token_hash = UnicodeAttribute(hash_key=True)
    purpose = UnicodeAttribute()
    user_id = UnicodeAttribute()
    new_email = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    used_at = UTCDateTimeAttribute(null=True)
    ttl = TTLAttribute()


class UserOrgIndex(GlobalSecondaryIndex):
    """Users of an organization, ordered by e-mail."""

    Meta = _meta("", "org_index")
    org_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class UserModel(Model):
    """A person who logs in."""

    Meta = _meta("users")
    user_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    org_id = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    roles = ListAttribute(of=UnicodeAttribute, default=list)
    permissions = ListAttribute(of=UnicodeAttribute, default=list)
    site_ids = ListAttribute(of=UnicodeAttribute, default=list)
    language = UnicodeAttribute(default="en")
    csv_delimiter = UnicodeAttribute(default=";")
    csv_thousands_separator = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="ACTIVE")
    must_change_password = BooleanAttribute(default=False)
    # Split delivery: until the temporary password is changed, login also needs the organization's reference.
    login_needs_reference = BooleanAttribute(default=False)
    name_lower = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute()
    password_changed_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    recipient_jwk = JSONAttribute(null=True)  # a public key: jwe key files are sealed for it
    org_index = UserOrgIndex()


class UserEmailModel(Model):
    """Claims an e-mail address for one user: makes e-mails unique by a conditional put."""

    Meta = _meta("user_emails")
    email = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()


class SessionUserIndex(GlobalSecondaryIndex):
    """Sessions of a user, to end them all at once."""

    Meta = _meta("", "user_index")
    user_id = UnicodeAttribute(hash_key=True)


class SessionModel(Model):
    """A login session; only the SHA-256 of its token is stored."""

    Meta = _meta("sessions")
    token_hash = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    last_seen_at = UTCDateTimeAttribute()
    absolute_expires_at = UTCDateTimeAttribute()
    idle_expires_at = UTCDateTimeAttribute()
    # DynamoDB deletes late (up to days): the code checks the two expiries above itself.
    ttl = TTLAttribute()
    user_index = SessionUserIndex()


class LoginAttemptModel(Model):
    """Failed-login counter per e-mail (known or not), so lockout cannot reveal accounts."""

    Meta = _meta("login_attempts")
    email_hash = UnicodeAttribute(hash_key=True)
    failures = NumberAttribute(default=0)
    locked_until = UTCDateTimeAttribute(null=True)
    ttl = TTLAttribute()


class AuditActorIndex(GlobalSecondaryIndex):
    """Audit events by actor, newest last."""

    Meta = _meta("", "actor_index")
    actor_id = UnicodeAttribute(hash_key=True)
    event_key = UnicodeAttribute(range_key=True)


class AuditEventModel(Model):
    """One security-relevant act: who, what, when, on what."""

    Meta = _meta("audit_events")
    org_id = UnicodeAttribute(hash_key=True)
    event_key = UnicodeAttribute(range_key=True)  # "<ISO time>#<random>": time-ordered, unique
    at = UTCDateTimeAttribute()
    actor_id = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute(null=True)
    detail = JSONAttribute(null=True)
    actor_index = AuditActorIndex()


class InvitationStateIndex(GlobalSecondaryIndex):
    """Invitations by state, ordered by expiry: what the hourly job reads."""

    Meta = _meta("", "state_expiry_index")
    state = UnicodeAttribute(hash_key=True)
    expires_at = UTCDateTimeAttribute(range_key=True)


class InvitationOrgIndex(GlobalSecondaryIndex):
    """Invitations of an organization by state, newest last."""

    Meta = _meta("", "org_state_index")
    org_id = UnicodeAttribute(hash_key=True)
    state_key = UnicodeAttribute(range_key=True)  # "<state>#<created_at>"


class InvitationModel(Model):
    """An invitation into an organization (CREATED, SENT, ACCEPTED, EXPIRED, REVOKED)."""

    Meta = _meta("invitations")
    invitation_id = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    state = UnicodeAttribute()
    state_key = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    roles = ListAttribute(of=UnicodeAttribute, default=list)
    permissions = ListAttribute(of=UnicodeAttribute, default=list)
    site_ids = ListAttribute(of=UnicodeAttribute, default=list)
    language = UnicodeAttribute(default="en")
    # The link is an HMAC of id and nonce under the server secret: resendable, never stored.
    nonce = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    lifetime_days = NumberAttribute(default=7)
    sent_at = UTCDateTimeAttribute(null=True)
    send_window_start = UTCDateTimeAttribute(null=True)
    sends_in_window = NumberAttribute(default=0)
    accepted_user_id = UnicodeAttribute(null=True)
    ttl = TTLAttribute(null=True)
    state_expiry_index = InvitationStateIndex()
    org_state_index = InvitationOrgIndex()


class TemplateOwnerIndex(GlobalSecondaryIndex):
    """Templates of one owner (an organization or "system"), ordered by type, language, id."""

    Meta = _meta("", "owner_index")
    owner = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)


class MailTemplateModel(Model):
    """An e-mail template: a read-only system default, or an editable copy owned by an organization."""

    Meta = _meta("mail_templates")
    template_id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()  # "system" or an org_id
    sort_key = UnicodeAttribute()  # "<type>#<language>#<template_id>"
    mail_type = UnicodeAttribute()
    language = UnicodeAttribute()
    name = UnicodeAttribute()
    subject = UnicodeAttribute()
    html = UnicodeAttribute()
    text = UnicodeAttribute()
    state = UnicodeAttribute(default="INACTIVE")  # mirrors the slot pointer, written in the same transaction
    is_default = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute(null=True)
    owner_index = TemplateOwnerIndex()


class TemplateSlotModel(Model):
    """Which template is ACTIVE for one owner x type x language: one item, so one winner."""

    Meta = _meta("template_slots")
    slot = UnicodeAttribute(hash_key=True)  # "<owner>#<type>#<language>"
    template_id = UnicodeAttribute()


class RateLimitModel(Model):
    """A counter per action, subject and fixed time window (throttles against guessing and mail floods)."""

    Meta = _meta("rate_limits")
    bucket = UnicodeAttribute(hash_key=True)  # "<action>:<sha256 of the subject>:<window number>"
    hits = NumberAttribute(default=0)
    ttl = TTLAttribute()


# What catalog pages show: the device indexes carry these, never the wrapped keys or the code hashes.
DEVICE_VIEW_ATTRIBUTES = ["product_type", "mac", "labels", "batch_id", "owner_org_id", "maker_org_id", "claim_status",
                          "claimed_at", "site_id", "key_names", "claim_valid_from", "claim_valid_to", "imported_at",
                          "keys_exposed_to"]


def _device_index(name: str, hash_key: str, doc: str) -> type:
    """A catalog index: one organization's devices (by a filter value) ordered by serial."""
    attributes = {
        "__doc__": doc,
        "Meta": _meta("", name, IncludeProjection([a for a in DEVICE_VIEW_ATTRIBUTES if a != hash_key])),
        hash_key: UnicodeAttribute(hash_key=True),
        "serial": UnicodeAttribute(range_key=True),
    }
    return type("".join(part.capitalize() for part in name.split("_")), (GlobalSecondaryIndex,), attributes)


DeviceMakerIndex = _device_index("maker_index", "maker_org_id", "Devices an organization imported (the maker).")
DeviceMakerStatusIndex = _device_index("maker_status_index", "maker_status", "A maker's devices by claim status.")
DeviceMakerProductIndex = _device_index("maker_product_index", "maker_product", "A maker's devices by product.")
DeviceOwnerIndex = _device_index("owner_index", "owner_org_id", "Devices an organization owns (claimed, pending).")
DeviceOwnerStatusIndex = _device_index("owner_status_index", "owner_status", "An owner's devices by claim status.")
DeviceOwnerProductIndex = _device_index("owner_product_index", "owner_product", "An owner's devices by product.")
DeviceBatchIndex = _device_index("batch_index", "batch_id", "The devices of a batch.")


class DeviceIdProofIndex(GlobalSecondaryIndex):
    """A device by the HMAC of its ID code and MAC (what an installer types in)."""

    Meta = _meta("", "id_proof_index", IncludeProjection(["claim_status", "product_type"]))
    id_proof = UnicodeAttribute(hash_key=True)


class DeviceModel(Model):
    """A device of the catalog and its wrapped keys."""

    Meta = _meta("devices")
    serial = UnicodeAttribute(hash_key=True)
    product_type = UnicodeAttribute()
    mac = UnicodeAttribute()
    # Codes are kept only as HMAC-SHA256 under the server secret (see security.keyed_digest).
    id_proof = UnicodeAttribute(null=True)
    claim_code_hash = UnicodeAttribute(null=True)
    spent_claim_code_hash = UnicodeAttribute(null=True)  # a claim spends the code; kept to answer precisely
    keys_exposed_to = ListAttribute(of=UnicodeAttribute, default=list)  # past owners who could read the keys
    claim_valid_from = UTCDateTimeAttribute(null=True)
    claim_valid_to = UTCDateTimeAttribute(null=True)
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    batch_id = UnicodeAttribute(null=True)
    maker_org_id = UnicodeAttribute()
    owner_org_id = UnicodeAttribute(null=True)
    claim_status = UnicodeAttribute(default="UNCLAIMED")
    claimed_at = UTCDateTimeAttribute(null=True)
    site_id = UnicodeAttribute(null=True)
    key_names = ListAttribute(of=UnicodeAttribute, default=list)
    key_algorithms = ListAttribute(of=UnicodeAttribute, default=list)
    # One ESDK message: {"serial", "keys"} under the context {"purpose": "device-keys", "import_id"}.
    wrapped_keys = BinaryAttribute(legacy_encoding=False)
    import_id = UnicodeAttribute()
    imported_at = UTCDateTimeAttribute()
    imported_by = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    # "<org>#<value>" keys of the catalog indexes; owner_* are absent (sparse) while nobody owns the device.
    maker_status = UnicodeAttribute()
    maker_product = UnicodeAttribute()
    owner_status = UnicodeAttribute(null=True)
    owner_product = UnicodeAttribute(null=True)
    maker_index = DeviceMakerIndex()
    maker_status_index = DeviceMakerStatusIndex()
    maker_product_index = DeviceMakerProductIndex()
    owner_index = DeviceOwnerIndex()
    owner_status_index = DeviceOwnerStatusIndex()
    owner_product_index = DeviceOwnerProductIndex()
    batch_index = DeviceBatchIndex()
    id_proof_index = DeviceIdProofIndex()


class DeviceLabelModel(Model):
    """One label of one device: what the label filter queries (a list attribute cannot be indexed)."""

    Meta = _meta("device_labels")
    label = UnicodeAttribute(hash_key=True)
    serial = UnicodeAttribute(range_key=True)


class BatchOrgIndex(GlobalSecondaryIndex):
    """Batches an organization created, oldest first."""

    Meta = _meta("", "org_index")
    org_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)  # "<created_at>#<batch_id>"


class BatchTargetIndex(GlobalSecondaryIndex):
    """Batches addressed to an organization, oldest first."""

    Meta = _meta("", "target_index")
    target_org_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class BatchModel(Model):
    """A batch reference: serials a maker assigns to a target organization (CLAIMING, PENDING, CONFIRMED,
    REJECTED)."""

    Meta = _meta("batches")
    batch_id = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    target_org_id = UnicodeAttribute()
    reference = UnicodeAttribute()
    label = UnicodeAttribute(null=True)
    requires_confirmation = BooleanAttribute(default=False)
    state = UnicodeAttribute()
    count = NumberAttribute(default=0)
    unknown_serials = ListAttribute(of=UnicodeAttribute, default=list)
    unavailable_serials = ListAttribute(of=UnicodeAttribute, default=list)
    created_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    org_index = BatchOrgIndex()
    target_index = BatchTargetIndex()


class BatchReferenceModel(Model):
    """Makes a batch reference unique per organization by a conditional put ("<org_id>#<reference>")."""

    Meta = _meta("batch_references")
    reference_key = UnicodeAttribute(hash_key=True)
    batch_id = UnicodeAttribute()


class BatchSerialModel(Model):
    """One serial of a batch: the batch's own list, what confirm walks (and resumes) and GET pages."""

    Meta = _meta("batch_serials")
    batch_id = UnicodeAttribute(hash_key=True)
    serial = UnicodeAttribute(range_key=True)


class ExportUserIndex(GlobalSecondaryIndex):
    """A user's export jobs, newest last."""

    Meta = _meta("", "user_index")
    user_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)  # "<ISO time>#<export_id>"


class ExportDueIndex(GlobalSecondaryIndex):
    """Jobs by state and the time something is due: a queued/running job's deadline, a file's expiry."""

    Meta = _meta("", "state_due_index")
    state = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class ExportModel(Model):
    """A key export job on a user's download list (QUEUED, RUNNING, READY, FAILED, EXPIRED)."""

    Meta = _meta("exports")
    export_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    org_id = UnicodeAttribute()
    format = UnicodeAttribute()
    filters = JSONAttribute(default=dict)
    recipient_jwk = JSONAttribute(null=True)
    state = UnicodeAttribute()
    count = NumberAttribute(null=True)
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


ALL_MODELS: List[Type[Model]] = [
    OrganizationModel,
    PartnerModel,
    SiteModel,
    OneTimeTokenModel,
    UserModel,
    UserEmailModel,
    SessionModel,
    LoginAttemptModel,
    AuditEventModel,
    InvitationModel,
    MailTemplateModel,
    TemplateSlotModel,
    RateLimitModel,
    DeviceModel,
    DeviceLabelModel,
    BatchModel,
    BatchReferenceModel,
    BatchSerialModel,
    ExportModel,
]


_KEEP = object()


def bind(host=_KEEP, region=_KEEP, prefix=_KEEP) -> None:
    """Point every model at another endpoint or table prefix (DynamoDB Local, isolated test tables)."""
    for model in ALL_MODELS:
        if prefix is not _KEEP:
            model.Meta.table_name = prefix + model.Meta.base_name
        if host is not _KEEP:
            model.Meta.host = host
        if region is not _KEEP:
            model.Meta.region = region
    reset_connections()


def reset_connections() -> None:
    """Forget cached clients so the next call builds them afresh (per test, after bind)."""
    global _transaction_connection
    _transaction_connection = None
    for model in ALL_MODELS:
        model._connection = None


def create_tables() -> List[str]:
    """Create every missing table (with its indexes and TTL); answer the names created."""
    created = []
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True)
            created.append(model.Meta.table_name)
    return created


_transaction_connection = None


def connection() -> Connection:
    """The cached low-level connection for transactions spanning several tables."""
    global _transaction_connection
    if _transaction_connection is None:
        _transaction_connection = Connection(region=OrganizationModel.Meta.region,
                                             host=OrganizationModel.Meta.host)
    return _transaction_connection
