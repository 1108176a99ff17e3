"""JSON schemas of registrations, installations and activations."""

from chalicelib import fields
from chalicelib.api.schemas import PAGING_QUERY, PHONE, USER, nullable, obj

TEXT = {"type": "string", "minLength": 1, "maxLength": 500}
ID_CODE = {"type": "string", "minLength": 1, "maxLength": 100}
MAC = {"type": "string", "minLength": 1, "maxLength": 40}
WEB_ADDRESS = {
    "type": "string",
    "maxLength": 500,
    "pattern": r"^https?://[^\s/$.?#][^\s]*$",
    "description": "the device's web interface, e.g. https://alarm-12.example.net",
}

REGISTRATION_CREATE = obj(
    {
        "kind": {"type": "string", "enum": ["installer", "system_manager"]},
        "name": fields.NAME,
        "email": fields.EMAIL,
        "phone": PHONE,
        "company_name": fields.NAME,
        "company_address": TEXT,
        "language": fields.LANGUAGE,
    },
    required=("kind", "name", "email", "company_name"),
)
RECEIVED = obj({"message": {"type": "string"}}, required=("message",))
REGISTRATION_STATE = {"type": "string", "enum": ["PENDING", "APPROVED", "REJECTED"]}
REGISTRATION = obj(
    {
        "id": fields.ID,
        "kind": {"type": "string", "enum": ["installer", "system_manager"]},
        "state": REGISTRATION_STATE,
        "name": {"type": "string"},
        "email": {"type": "string"},
        "phone": nullable({"type": "string"}),
        "company_name": {"type": "string"},
        "company_address": nullable({"type": "string"}),
        "language": fields.LANGUAGE,
        "created_at": fields.TIMESTAMP,
        "decided_at": nullable(fields.TIMESTAMP),
        "decided_by": nullable({"type": "string"}),
        "reason": nullable({"type": "string"}),
        "org_id": nullable({"type": "string"}),
        "user_id": nullable({"type": "string"}),
    },
    required=("id", "kind", "state", "name", "email", "company_name", "language", "created_at"),
)
REGISTRATION_QUERY = {"state": REGISTRATION_STATE, **PAGING_QUERY}
APPROVAL = obj({"parent_id": fields.ID})
REJECTION = obj(
    {"reason": {"type": "string", "minLength": 1, "maxLength": 1000, **fields.MULTILINE}}, required=("reason",)
)

DEVICE_PROOF = obj({"id_code": ID_CODE, "mac": MAC}, required=("id_code", "mac"))
CUSTOMER_DATA = obj(
    {"email": fields.EMAIL, "name": fields.NAME, "phone": PHONE, "address": TEXT}, required=("email", "name")
)
CUSTOMER_VIEW = obj(
    {
        "email": {"type": "string"},
        "name": {"type": "string"},
        "phone": {"type": "string"},
        "address": {"type": "string"},
    },
    required=("email", "name"),
)
CHECKED = obj(
    {
        "serial": {"type": "string"},
        "product_type": {"type": "string"},
        "claim_status": {"type": "string", "enum": ["UNCLAIMED", "PENDING"]},
        "installation_id": nullable({"type": "string"}),
        "customer": nullable(CUSTOMER_VIEW),
    },
    required=("serial", "product_type", "claim_status", "installation_id", "customer"),
)
INSTALLATION_CREATE = obj(
    {
        "id_code": ID_CODE,
        "mac": MAC,
        "web_address": WEB_ADDRESS,
        "customer": CUSTOMER_DATA,
        "site_id": fields.ID,
        "site": obj({"name": fields.NAME, "address": TEXT}, required=("name",)),
        "language": fields.LANGUAGE,
    },
    required=("id_code", "mac", "customer"),
)
INSTALLATION_STATE = {"type": "string", "enum": ["PENDING", "ACTIVE", "CANCELLED", "EXPIRED"]}
INSTALLATION = obj(
    {
        "id": fields.ID,
        "state": INSTALLATION_STATE,
        "serial": {"type": "string"},
        "product_type": {"type": "string"},
        "installer_org_id": {"type": "string"},
        "installer_name": nullable({"type": "string"}),
        "customer_org_id": {"type": "string"},
        "customer_user_id": {"type": "string"},
        "customer": CUSTOMER_VIEW,
        "web_address": nullable({"type": "string"}),
        "site_id": nullable({"type": "string"}),
        "device": nullable(
            obj(
                {
                    "serial": {"type": "string"},
                    "product_type": {"type": "string"},
                    "claim_status": {"type": "string"},
                    "site_id": nullable({"type": "string"}),
                }
            )
        ),
        "created_at": fields.TIMESTAMP,
        "activation_expires_at": fields.TIMESTAMP,
        "activated_at": nullable(fields.TIMESTAMP),
        "ended_at": nullable(fields.TIMESTAMP),
    },
    required=(
        "id",
        "state",
        "serial",
        "product_type",
        "installer_org_id",
        "customer_org_id",
        "customer_user_id",
        "customer",
        "created_at",
    ),
)
INSTALLATION_CREATED = obj(
    {
        "installation_id": fields.ID,
        "customer_user_id": fields.ID,
        "customer_org_id": fields.ID,
        "mails_sent": {"type": "array", "items": {"type": "string", "enum": ["credentials", "activation"]}},
        "installation": INSTALLATION,
    },
    required=("installation_id", "customer_user_id", "customer_org_id", "mails_sent", "installation"),
)
INSTALLATION_QUERY = {"org_id": fields.ID, "state": INSTALLATION_STATE, **PAGING_QUERY}

ACTIVATION = obj(
    {
        "installation_id": fields.ID,
        "serial": {"type": "string"},
        "product_type": {"type": "string"},
        "installer_name": nullable({"type": "string"}),
        "web_address": nullable({"type": "string"}),
        "customer": CUSTOMER_VIEW,
        "password_required": {"type": "boolean"},
        "language": fields.LANGUAGE,
        "expires_at": fields.TIMESTAMP,
    },
    required=("installation_id", "serial", "product_type", "customer", "password_required", "expires_at"),
)
ACTIVATION_CONFIRM = obj(
    {"email": fields.EMAIL, "name": fields.NAME, "phone": PHONE, "address": TEXT, "password": fields.PASSWORD}
)
ACTIVATED = obj({"installation": INSTALLATION, "user": USER}, required=("installation", "user"))
ACTIVATION_FORM = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 200},
        "phone": {"type": "string", "maxLength": 16},
        "address": {"type": "string", "maxLength": 500},
        "password": {"type": "string", "maxLength": 128},
        "password_repeat": {"type": "string", "maxLength": 128},
    },
    "additionalProperties": False,
}

SCOPE_TYPE = {"type": "string", "enum": ["org", "site", "installation"]}
PORTAL_SCOPE = obj({"type": SCOPE_TYPE, "id": fields.ID}, required=("type", "id"))
PORTAL_ACCESS_CREATE = obj({"scope": PORTAL_SCOPE}, required=("scope",))
PORTAL_ACCESS = obj(
    {
        "id": nullable({"type": "string"}),
        "scope": PORTAL_SCOPE,
        "enabled": {"type": "boolean"},
        "state": {"type": "string", "enum": ["ACTIVE", "REVOKED", "DISABLED"]},
        "code": nullable({"type": "string"}),
        "link": {"type": "string"},
        "needs_token": {"type": "boolean"},
        "token": {"type": "string"},
        "created_at": nullable(fields.TIMESTAMP),
        "changed_at": nullable(fields.TIMESTAMP),
    },
    required=("id", "scope", "enabled", "state", "code", "link", "needs_token"),
)
PORTAL_ACCESS_QUERY = {"scope_type": SCOPE_TYPE, "scope_id": fields.ID}
PORTAL_LOGIN = obj(
    {
        "code": {"type": "string", "minLength": 1, "maxLength": 100},
        "token": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    required=("code",),
)
PORTAL_SESSION = obj(
    {
        "token": {"type": "string"},
        "expires_at": fields.TIMESTAMP,
        "scope": obj({"type": SCOPE_TYPE, "id": {"type": "string"}, "name": {"type": "string"}}),
    },
    required=("token", "expires_at", "scope"),
)
PORTAL_DEVICE = obj(
    {
        "serial": {"type": "string"},
        "product_type": {"type": "string"},
        "claim_status": {"type": "string"},
        "site_id": nullable({"type": "string"}),
        "labels": {"type": "array", "items": {"type": "string"}},
        "claimed_at": nullable(fields.TIMESTAMP),
    },
    required=("serial", "product_type", "claim_status"),
)
PORTAL_INSTALLATION = obj(
    {
        "id": {"type": "string"},
        "state": INSTALLATION_STATE,
        "serial": {"type": "string"},
        "product_type": {"type": "string"},
        "web_address": nullable({"type": "string"}),
        "site_id": nullable({"type": "string"}),
        "created_at": fields.TIMESTAMP,
        "activated_at": nullable(fields.TIMESTAMP),
    },
    required=("id", "state", "serial", "product_type"),
)
