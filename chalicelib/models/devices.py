"""The device catalog: devices, their indexes and labels."""

from typing import Any, Dict, Optional

from pynamodb.attributes import (
    BinaryAttribute,
    ListAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from chalicelib.models.meta import table_meta

DEVICE_VIEW_ATTRIBUTES = [
    "product_type",
    "mac",
    "labels",
    "batch_id",
    "owner_org_id",
    "maker_org_id",
    "claim_status",
    "claimed_at",
    "site_id",
    "key_names",
    "claim_valid_from",
    "claim_valid_to",
    "imported_at",
    "keys_exposed_to",
]


def _device_index(name: str, hash_key: str, doc: str) -> type:
    """A catalog index: one organization's devices (by a filter value) ordered by serial."""
    attributes = {
        "__doc__": doc,
        "Meta": table_meta("", name, IncludeProjection([a for a in DEVICE_VIEW_ATTRIBUTES if a != hash_key])),
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

    Meta = table_meta("", "id_proof_index", IncludeProjection(["claim_status", "product_type"]))
    id_proof = UnicodeAttribute(hash_key=True)


class DeviceModel(Model):
    """A device of the catalog and its wrapped keys."""

    Meta = table_meta("devices")
    serial = UnicodeAttribute(hash_key=True)
    product_type = UnicodeAttribute()
    mac = UnicodeAttribute()
    # Codes are kept only as HMAC-SHA256 under the server secret (see security.keyed_digest).
    id_proof = UnicodeAttribute(null=True)
    claim_code_hash = UnicodeAttribute(null=True)
    spent_claim_code_hash = UnicodeAttribute(null=True)  # a claim spends the code; kept to answer precisely
    # ignore[arg-type] on each ListAttribute[str]: pynamodb types `of` as the element's Python type,
    # yet it takes the Attribute class; ListAttribute[str] gives the values their real type, list[str].
    # past owners who could read the keys
    keys_exposed_to = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    claim_valid_from = UTCDateTimeAttribute(null=True)
    claim_valid_to = UTCDateTimeAttribute(null=True)
    labels = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    batch_id = UnicodeAttribute(null=True)
    maker_org_id = UnicodeAttribute()
    owner_org_id = UnicodeAttribute(null=True)
    claim_status = UnicodeAttribute(default="UNCLAIMED")
    claimed_at = UTCDateTimeAttribute(null=True)
    site_id = UnicodeAttribute(null=True)
    installation_id = UnicodeAttribute(null=True)  # the installation a PENDING device is reserved for
    key_names = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    key_algorithms = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
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

    @staticmethod
    def catalog_key(org_id: str, value: str) -> str:
        """The hash key "<org>#<value>" of the status and product indexes: one organization's devices of a claim
        status or a product type."""
        return f"{org_id}#{value}"

    @classmethod
    def index_keys(
        cls, maker_org_id: str, owner_org_id: Optional[str], status: str, product_type: str
    ) -> Dict[str, Any]:
        """The catalog_key attributes of a device in this state (the owner's are None while nobody owns it)."""
        return {
            "maker_status": cls.catalog_key(maker_org_id, status),
            "maker_product": cls.catalog_key(maker_org_id, product_type),
            "owner_status": cls.catalog_key(owner_org_id, status) if owner_org_id else None,
            "owner_product": cls.catalog_key(owner_org_id, product_type) if owner_org_id else None,
        }


class DeviceLabelModel(Model):
    """One label of one device: what the label filter queries (a list attribute cannot be indexed)."""

    Meta = table_meta("device_labels")
    label = UnicodeAttribute(hash_key=True)
    serial = UnicodeAttribute(range_key=True)
