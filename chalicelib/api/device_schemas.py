"""JSON schemas of the device catalog routes."""

from chalicelib import fields
from chalicelib.api.schemas import PAGING_QUERY, RECIPIENT_JWK, nullable, obj, paged
from chalicelib.services.devices.catalog import CLAIM_STATUSES, VIEWS
from chalicelib.services.devices.import_rows import (
    ALGORITHM_BYTES,
    CLAIM_CODE_MIN,
    CODE_MAX,
    ID_CODE_MIN,
    MAX_KEYS,
    MAX_LABEL_LENGTH,
    MAX_LABELS,
    SERIAL_PATTERN,
)
from chalicelib.services.keys.files import FORMATS

LABEL = {"type": "string", "minLength": 1, "maxLength": MAX_LABEL_LENGTH}

DEVICE = obj(
    {
        "serial": {"type": "string"},
        "product_type": {"type": "string"},
        "mac": {"type": "string"},
        "labels": {"type": "array", "items": {"type": "string"}},
        "batch_id": nullable({"type": "string"}),
        "owner_org_id": nullable({"type": "string"}),
        "maker_org_id": {"type": "string"},
        "claim_status": {"type": "string", "enum": list(CLAIM_STATUSES)},
        "claimed_at": nullable(fields.TIMESTAMP),
        "site_id": nullable({"type": "string"}),
        "key_names": {"type": "array", "items": {"type": "string"}},
        "claim_valid_from": nullable(fields.TIMESTAMP),
        "claim_valid_to": nullable(fields.TIMESTAMP),
        "imported_at": nullable(fields.TIMESTAMP),
        "keys_exposed_to": {"type": "array", "items": {"type": "string"}},
    },
    required=(
        "serial",
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
    ),
)

DEVICE_PAGE = paged(DEVICE)

DEVICE_QUERY = {
    "serial": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[A-Za-z0-9._-]+$"},
    "product_type": {"type": "string", "minLength": 1, "maxLength": 100},
    "claim_status": {"type": "string", "enum": list(CLAIM_STATUSES)},
    "label": LABEL,
    "batch_id": fields.ID,
    "org_id": fields.ID,
    "view": {"type": "string", "enum": list(VIEWS)},
    **PAGING_QUERY,
}

DEVICE_PATCH = obj(
    {
        "labels": {"type": "array", "items": LABEL, "maxItems": MAX_LABELS},
        "site_id": nullable(fields.ID),
    },
    minProperties=1,
)

# Items are checked one by one by the import (each bad one is reported with its position, the rest imported),
# so the edge asks only for the envelope; the document describes the items (DEVICE_IMPORT_SHOWN), and a row
# that does not fit is one of the answer's `rejected`, not a refused request. `text/csv` is the file as is.
DEVICE_IMPORT = obj(
    {
        "items": {
            "type": "array",
            "description": "{serial, product_type, mac, id_code, claim_code, labels: [...], "
            "claim_valid_from, claim_valid_to, keys: [{name, algorithm, hex}]}",
        },
    },
    required=("items",),
)

DEVICE_IMPORT_KEY = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$"},
        "algorithm": {"type": "string", "enum": list(ALGORITHM_BYTES)},
        "hex": {
            "type": "string",
            "pattern": "^[0-9a-fA-F]+$",
            "description": "DES 8 bytes, AES128 16, AES192 24, AES256 32 (two hex digits per byte)",
        },
    },
    "required": ["name", "algorithm", "hex"],
}
DEVICE_IMPORT_ITEM = {
    "type": "object",
    "properties": {
        "serial": {"type": "string", "pattern": SERIAL_PATTERN},
        "product_type": {"type": "string", "minLength": 1, "maxLength": 100},
        "mac": {
            "type": "string",
            "description": "MAC-48 or EUI-64: 00:1a:2b:3c:4d:5e, 00-1A-2B-3C-4D-5E, 001a.2b3c.4d5e",
        },
        "id_code": {"type": "string", "description": f"{ID_CODE_MIN} to {CODE_MAX} letters or digits"},
        "claim_code": {"type": "string", "description": f"{CLAIM_CODE_MIN} to {CODE_MAX} letters or digits"},
        "labels": {"type": "array", "items": LABEL, "maxItems": MAX_LABELS},
        "claim_valid_from": {"type": "string", "description": "ISO 8601 date or time"},
        "claim_valid_to": {"type": "string", "description": "ISO 8601 date or time, later than claim_valid_from"},
        "keys": {"type": "array", "items": DEVICE_IMPORT_KEY, "minItems": 1, "maxItems": MAX_KEYS},
    },
    "required": ["serial", "product_type", "mac", "keys"],
}
DEVICE_IMPORT_SHOWN = obj(
    {
        "items": {
            "type": "array",
            "items": DEVICE_IMPORT_ITEM,
            "description": "One device each; an item that does not fit is rejected by its position (line)",
        },
    },
    required=("items",),
)
DEVICE_IMPORT_CSV = {
    "type": "string",
    "format": "binary",
    "description": "The CSV file as is (UTF-8): a header row, one row per key: serial, product_type, "
    "mac, id_code, claim_code, labels (separated by |), key_name, algorithm, key_hex",
}

DEVICE_IMPORT_QUERY = {"org_id": fields.ID}

DEVICE_IMPORT_RESULT = obj(
    {
        "import_id": {"type": "string"},
        "org_id": {"type": "string"},
        "imported": {"type": "integer", "minimum": 0},
        "rejected": {
            "type": "array",
            "items": obj(
                {
                    "line": {"type": "integer"},
                    "serial": nullable({"type": "string"}),
                    "error": {"type": "string"},
                },
                required=("line", "serial", "error"),
            ),
        },
    },
    required=("import_id", "org_id", "imported", "rejected"),
)

CLAIM = obj(
    {
        "claim_code": {"type": "string", "minLength": 1, "maxLength": 100},
        "id_code": {"type": "string", "minLength": 1, "maxLength": 100},
        "mac": {"type": "string", "minLength": 1, "maxLength": 40},
        "org_id": fields.ID,
    },
    anyOf=[{"required": ["claim_code"]}, {"required": ["id_code", "mac"]}],
)

TAKE_OWNERSHIP = obj({"org_id": fields.ID}, required=("org_id",))

BATCH_STATES = ["CREATING", "MOVING", "PENDING", "CONFIRMING", "CONFIRMED", "REJECTING", "REJECTED"]
BATCH = obj(
    {
        "id": {"type": "string"},
        "reference": {"type": "string"},
        "label": nullable({"type": "string"}),
        "org_id": {"type": "string"},
        "target_org_id": {"type": "string"},
        "requires_confirmation": {"type": "boolean"},
        "state": {"type": "string", "enum": BATCH_STATES},
        "count": {"type": "integer"},
        "unknown_serials": {"type": "array", "items": {"type": "string"}},
        "unavailable_serials": {"type": "array", "items": {"type": "string"}},
        "created_at": fields.TIMESTAMP,
        "updated_at": nullable(fields.TIMESTAMP),
    },
    required=("id", "reference", "org_id", "target_org_id", "state", "count", "unknown_serials", "unavailable_serials"),
)
BATCH_DETAIL = {
    **BATCH,
    "properties": {
        **BATCH["properties"],
        "serials": paged(
            obj(
                {
                    "serial": {"type": "string"},
                    "claim_status": nullable({"type": "string", "enum": list(CLAIM_STATUSES)}),
                    "moved": {"type": "boolean"},
                },
                required=("serial", "claim_status", "moved"),
            )
        ),
    },
}
BATCH_CREATE = obj(
    {
        "reference": {"type": "string", "minLength": 1, "maxLength": 100},
        "label": {"type": "string", "minLength": 1, "maxLength": 200},
        "org_id": fields.ID,
        "maker_org_id": fields.ID,
        "requires_confirmation": {"type": "boolean"},
        "serials": {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 50_000},
        "file": obj(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "content": {"type": "string", "maxLength": 6 * 1024 * 1024, **fields.MULTILINE},
            },
            required=("name", "content"),
        ),
    },
    required=("reference", "org_id"),
    anyOf=[{"required": ["serials"]}, {"required": ["file"]}],
)
BATCH_QUERY = {"org_id": fields.ID, **PAGING_QUERY}

KEY = obj(
    {
        "name": {"type": "string"},
        "algorithm": {"type": "string", "enum": ["DES", "AES128", "AES192", "AES256"]},
        "hex": {"type": "string", "pattern": "^[0-9a-f]+$"},
    },
    required=("name", "algorithm", "hex"),
)
DEVICE_KEYS = obj(
    {"serial": {"type": "string"}, "product_type": {"type": "string"}, "keys": {"type": "array", "items": KEY}},
    required=("serial", "product_type", "keys"),
)
KEYS_FILE = obj({"devices": {"type": "array", "items": DEVICE_KEYS}}, required=("devices",))
CATALOG_FILTERS = {name: schema for name, schema in DEVICE_QUERY.items() if name not in ("view", "cursor", "limit")}
FILE_FORMAT = {"type": "string", "enum": list(FORMATS)}

AUDIT_EVENT = obj(
    {
        "at": fields.TIMESTAMP,
        "actor_id": {"type": "string"},
        "org_id": {"type": "string"},
        "action": {"type": "string"},
        "target": nullable({"type": "string"}),
        "detail": {},
    },
    required=("at", "actor_id", "org_id", "action", "target", "detail"),
)
AUDIT_QUERY = {
    "org_id": fields.ID,
    "action": {"type": "string", "minLength": 1, "maxLength": 64},
    "actor_id": fields.ID,
    "since": fields.INSTANT,
    "until": {**fields.INSTANT, "description": "ISO 8601 time; events before it (excluded)"},
    **PAGING_QUERY,
}

KEYS_QUERY = {
    **CATALOG_FILTERS,
    "format": FILE_FORMAT,
    "recipient_jwk": {
        "type": "string",
        "minLength": 2,
        "maxLength": 4000,
        **fields.MULTILINE,  # JSON text
        "description": "format jwe: the recipient's public JWK as JSON (else the profile's)",
    },
}
EXPORT_REQUEST = obj({"format": FILE_FORMAT, "recipient_jwk": RECIPIENT_JWK, **CATALOG_FILTERS}, required=("format",))
EXPORT = obj(
    {
        "id": {"type": "string"},
        "state": {"type": "string", "enum": ["QUEUED", "RUNNING", "READY", "FAILED", "EXPIRED"]},
        "format": FILE_FORMAT,
        "count": nullable({"type": "integer"}),
        "filters": {"type": "object"},
        "org_id": {"type": "string"},
        "size_bytes": nullable({"type": "integer"}),
        "reason": nullable({"type": "string"}),
        "file_name": nullable({"type": "string"}),
        "created_at": fields.TIMESTAMP,
        "finished_at": nullable(fields.TIMESTAMP),
        "expires_at": nullable(fields.TIMESTAMP),
    },
    required=("id", "state", "format", "count", "created_at", "expires_at"),
)
