"""JSON schemas of request bodies and answers: validated at the edge, published in /openapi.json."""

from typing import Any, Dict

from chalicelib import fields
from chalicelib.mail_types import MAIL_TYPES
from chalicelib.paging import DEFAULT_LIMIT, MAX_LIMIT
from chalicelib.permissions import GRANTABLE_PERMISSIONS, ROLES


def obj(properties, required=(), **extra):
    """A closed JSON object schema: unknown fields are refused."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


def nullable(schema):
    """The schema, or null."""
    return {"anyOf": [schema, {"type": "null"}]}


# A query parameter arrives as a string and is checked as one; the document shows the type it stands for (an
# integer, a boolean) so that generated clients send that type. The validator ignores the keyword.
PUBLISHED_TYPE_KEYWORD = "x-published-type"


def query_as(published, string_schema):
    """A query parameter checked as the string it arrives as, published as the type it stands for."""
    return {**string_schema, PUBLISHED_TYPE_KEYWORD: published}


ERROR = obj(
    {
        "error": obj(
            {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
            required=("code", "message"),
        ),
    },
    required=("error",),
)

B64URL = {"type": "string", "minLength": 1, "maxLength": 2100, "pattern": "^[A-Za-z0-9_-]+$"}
RECIPIENT_JWK = obj(
    {
        "kty": {"type": "string", "enum": ["RSA", "EC"]},
        "n": B64URL,
        "e": B64URL,
        "crv": {"type": "string", "enum": ["P-256", "P-384", "P-521"]},
        "x": B64URL,
        "y": B64URL,
        "kid": {"type": "string", "minLength": 1, "maxLength": 200},
        "use": {"type": "string", "enum": ["enc", "sig"]},
        "alg": {"type": "string", "maxLength": 40},
        "key_ops": {"type": "array", "maxItems": 8, "items": {"type": "string", "maxLength": 20}},
    },
    required=("kty",),
)

USER = obj(
    {
        "id": fields.ID,
        "name": {"type": "string"},
        "email": {"type": "string"},
        "phone": nullable({"type": "string"}),
        "org_id": fields.ID,
        "roles": {"type": "array", "items": {"type": "string", "enum": list(ROLES)}},
        "permissions": {"type": "array", "items": {"type": "string", "enum": list(GRANTABLE_PERMISSIONS)}},
        "site_ids": {"type": "array", "items": {"type": "string"}},
        "language": fields.LANGUAGE,
        "csv_delimiter": {"type": "string", "enum": list(fields.CSV_DELIMITERS)},
        "csv_thousands_separator": {"type": "string", "enum": list(fields.CSV_THOUSANDS_SEPARATORS)},
        "status": {"type": "string", "enum": list(fields.USER_STATUSES)},
        "must_change_password": {"type": "boolean"},
        "created_at": fields.TIMESTAMP,
        "recipient_jwk": nullable(RECIPIENT_JWK),
    },
    required=(
        "id",
        "name",
        "email",
        "org_id",
        "roles",
        "permissions",
        "site_ids",
        "language",
        "csv_delimiter",
        "csv_thousands_separator",
        "status",
        "must_change_password",
        "created_at",
    ),
)

LOGIN = obj(
    {
        # No format check here: a malformed address must answer like any unknown one (401).
        "email": {"type": "string", "minLength": 1, "maxLength": 254},
        "password": fields.PASSWORD,
        "org_reference": {"type": "string", "minLength": 1, "maxLength": 100},
    },
    required=("email", "password"),
)

SESSION = obj(
    {
        "token": {"type": "string"},
        "expires_at": fields.TIMESTAMP,
        "idle_expires_at": fields.TIMESTAMP,
        "user": USER,
        "must_change_password": {"type": "boolean"},
    },
    required=("token", "expires_at", "idle_expires_at", "user", "must_change_password"),
)

PROFILE_PATCH = obj(
    {
        "name": fields.NAME,
        "phone": nullable({"type": "string", "pattern": fields.PHONE_PATTERN, "maxLength": 16}),
        "language": fields.LANGUAGE,
        "csv_delimiter": {"type": "string", "enum": list(fields.CSV_DELIMITERS)},
        "csv_thousands_separator": {"type": "string", "enum": list(fields.CSV_THOUSANDS_SEPARATORS)},
        # The public key jwe key files are sealed for when a request names none; null removes it.
        "recipient_jwk": nullable(RECIPIENT_JWK),
    }
)

PASSWORD_CHANGE = obj(
    {
        "current_password": fields.PASSWORD,
        "new_password": fields.PASSWORD,
    },
    required=("current_password", "new_password"),
)

OPENAPI_DOCUMENT = {"type": "object", "required": ["openapi", "paths"]}

HEALTH = obj({"status": {"type": "string", "enum": ["ok"]}, "stage": {"type": "string"}}, required=("status", "stage"))


def paged(item_schema):
    """The answer of a list route: a page of items and the cursor of the next page."""
    return obj(
        {"items": {"type": "array", "items": item_schema}, "next_cursor": nullable({"type": "string"})},
        required=("items", "next_cursor"),
    )


def paged_with_total(item_schema):
    """A list route's answer with the list's total over every page (null where no counter answers the filters)."""
    schema = paged(item_schema)
    schema["properties"]["total"] = nullable({"type": "integer", "minimum": 0})
    return schema


# parse_limit refuses 0 and anything past MAX_LIMIT (422 invalid_limit); the pattern refuses the rest (422).
LIMIT = query_as(
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    {"type": "string", "pattern": "^[0-9]{1,3}$"},
)
PAGING_QUERY = {
    "cursor": {"type": "string", "minLength": 1, "maxLength": 2000},
    "limit": LIMIT,
}

MAIL_TYPE = {"type": "string", "enum": sorted(MAIL_TYPES)}

TEMPLATE = obj(
    {
        "id": fields.ID,
        "owner": {"type": "string"},
        "org_id": nullable({"type": "string"}),
        "type": MAIL_TYPE,
        "language": {"type": "string", "enum": list(fields.LANGUAGES)},
        "name": {"type": "string"},
        "subject": {"type": "string"},
        "html": {"type": "string"},
        "text": {"type": "string"},
        "state": {"type": "string", "enum": ["ACTIVE", "INACTIVE"]},
        "active": {"type": "boolean"},
        "is_default": {"type": "boolean"},
        "read_only": {"type": "boolean"},
        "created_at": fields.TIMESTAMP,
        "updated_at": fields.TIMESTAMP,
    },
    required=(
        "id",
        "owner",
        "org_id",
        "type",
        "language",
        "name",
        "subject",
        "html",
        "text",
        "state",
        "active",
        "is_default",
        "read_only",
        "created_at",
        "updated_at",
    ),
)

TEMPLATE_QUERY = {
    "type": MAIL_TYPE,
    "language": {"type": "string", "enum": list(fields.LANGUAGES)},
    "active": query_as({"type": "boolean"}, {"type": "string", "enum": ["true", "false"]}),
    "owner": {"type": "string", "minLength": 1, "maxLength": 100},
    **PAGING_QUERY,
}

TEMPLATE_PATCH = obj(
    {
        "name": fields.NAME,
        "subject": {"type": "string", "minLength": 1, "maxLength": 300},
        "html": {"type": "string", "minLength": 1, "maxLength": 100_000, **fields.MULTILINE},
        "text": {"type": "string", "minLength": 1, "maxLength": 50_000, **fields.MULTILINE},
    }
)

TEMPLATE_COPY = obj({"org_id": fields.ID})

TEMPLATE_TEST = obj({"email": fields.EMAIL}, required=("email",))

RENDERED = obj(
    {"subject": {"type": "string"}, "html": {"type": "string"}, "text": {"type": "string"}},
    required=("subject", "html", "text"),
)

MESSAGE = obj({"message_id": {"type": "string"}}, required=("message_id",))

PHONE = {
    "type": "string",
    "pattern": fields.PHONE_PATTERN,
    "maxLength": 16,
    "description": "E.164, e.g. +4915123456789",
}
REFERENCE = {"type": "string", "minLength": 1, "maxLength": 100}
PREFIX = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,20}$", "maxLength": 20}
ROLE = {"type": "string", "enum": list(ROLES)}
ROLE_LIST = {"type": "array", "items": ROLE, "minItems": 1, "maxItems": len(ROLES), "uniqueItems": True}
PERMISSION_LIST: Dict[str, Any] = {
    "type": "array",
    "items": {"type": "string", "enum": list(GRANTABLE_PERMISSIONS)},
    "maxItems": len(GRANTABLE_PERMISSIONS),
    "uniqueItems": True,
}
SITE_LIST = {"type": "array", "items": fields.ID, "maxItems": 200, "uniqueItems": True}
DELIMITER = {"type": "string", "enum": list(fields.CSV_DELIMITERS)}
THOUSANDS = {"type": "string", "enum": list(fields.CSV_THOUSANDS_SEPARATORS)}

ORG = obj(
    {
        "id": fields.ID,
        "name": {"type": "string"},
        "relation": {"type": "string", "enum": ["tree", "partner"]},
        "reference": nullable({"type": "string"}),
        "parent_id": nullable({"type": "string"}),
        "can_create_orgs": {"type": "boolean"},
        "prefix": nullable({"type": "string"}),
        "path": {"type": "array", "items": {"type": "string"}},
        "created_at": fields.TIMESTAMP,
    },
    required=("id", "name", "relation"),
)
ORG_CREATE = obj(
    {
        "name": fields.NAME,
        "reference": REFERENCE,
        "can_create_orgs": {"type": "boolean"},
        "prefix": PREFIX,
        "parent_id": fields.ID,
    },
    required=("name",),
)
ORG_PATCH = obj(
    {
        "name": fields.NAME,
        "reference": REFERENCE,
        "can_create_orgs": {"type": "boolean"},
        "prefix": PREFIX,
        "parent_id": fields.ID,
    }
)
ORG_QUERY = {"name": {"type": "string", "minLength": 1, "maxLength": 200}, "parent_id": fields.ID, **PAGING_QUERY}
# A partner link (ACCEPTED) or a request for one (PENDING; direction says who asked). partner_name is null for an
# outgoing request: the asked organization's name shows once it accepts.
PARTNER = obj(
    {
        "org_id": fields.ID,
        "partner_org_id": fields.ID,
        "partner_name": nullable({"type": "string"}),
        "status": {"type": "string", "enum": ["PENDING", "ACCEPTED"]},
        "direction": {"type": "string", "enum": ["outgoing", "incoming"]},
        "created_at": fields.TIMESTAMP,
        "expires_at": fields.TIMESTAMP,
    },
    required=("org_id", "partner_org_id", "status", "created_at"),
)
PARTNER_ADD = obj({"partner_org_id": fields.ID}, required=("partner_org_id",))
PARTNER_REQUEST_QUERY = {"direction": {"type": "string", "enum": ["outgoing", "incoming"]}, **PAGING_QUERY}

USER_CREATED = {**USER, "properties": {**USER["properties"], "sent": {"type": "array", "items": {"type": "string"}}}}
USER_CREATE = obj(
    {
        "name": fields.NAME,
        "email": fields.EMAIL,
        "phone": PHONE,
        "org_id": fields.ID,
        "roles": ROLE_LIST,
        "permissions": PERMISSION_LIST,
        "site_ids": SITE_LIST,
        "language": fields.LANGUAGE,
        "csv_delimiter": DELIMITER,
        "csv_thousands_separator": THOUSANDS,
        "password": fields.PASSWORD,
        "delivery": {"type": "string", "enum": ["email", "split"]},
    },
    required=("name", "email", "roles"),
)
USER_PATCH = obj(
    {
        "name": fields.NAME,
        "phone": PHONE,
        "org_id": fields.ID,
        "roles": ROLE_LIST,
        "permissions": PERMISSION_LIST,
        "site_ids": SITE_LIST,
        "language": fields.LANGUAGE,
        "csv_delimiter": DELIMITER,
        "csv_thousands_separator": THOUSANDS,
        "status": {"type": "string", "enum": list(fields.USER_STATUSES)},
    }
)
USER_QUERY = {
    "name": {"type": "string", "minLength": 1, "maxLength": 200},
    "email": {"type": "string", "minLength": 1, "maxLength": 254},
    "org_id": fields.ID,
    "role": ROLE,
    **PAGING_QUERY,
}
NEW_PASSWORD = obj({"new_password": fields.PASSWORD}, required=("new_password",))

SITE = obj(
    {
        "id": fields.ID,
        "org_id": fields.ID,
        "name": {"type": "string"},
        "address": nullable({"type": "string"}),
        "created_at": fields.TIMESTAMP,
    },
    required=("id", "org_id", "name", "address", "created_at"),
)
SITE_CREATE = obj(
    {"org_id": fields.ID, "name": fields.NAME, "address": {"type": "string", "minLength": 1, "maxLength": 500}},
    required=("name",),
)
SITE_PATCH = obj({"name": fields.NAME, "address": {"type": "string", "minLength": 1, "maxLength": 500}})
SITE_QUERY = {"org_id": fields.ID, **PAGING_QUERY}

EMAIL_CHANGE = obj({"new_email": fields.EMAIL}, required=("new_email",))
RESET_REQUEST = obj({"email": {"type": "string", "minLength": 1, "maxLength": 254}}, required=("email",))

INVITATION = obj(
    {
        "id": fields.ID,
        "org_id": fields.ID,
        "state": {"type": "string", "enum": ["CREATED", "SENT", "ACCEPTED", "EXPIRED", "REVOKED"]},
        "name": nullable({"type": "string"}),
        "email": nullable({"type": "string"}),
        "roles": {"type": "array", "items": ROLE},
        "site_ids": {"type": "array", "items": {"type": "string"}},
        "language": fields.LANGUAGE,
        "link": nullable({"type": "string"}),
        "created_at": fields.TIMESTAMP,
        "expires_at": fields.TIMESTAMP,
        "sent_at": nullable(fields.TIMESTAMP),
        "accepted_user_id": nullable({"type": "string"}),
    },
    required=("id", "org_id", "state", "roles", "language", "link", "created_at", "expires_at"),
)
INVITATION_CREATE = obj(
    {
        "name": fields.NAME,
        "email": fields.EMAIL,
        "org_id": fields.ID,
        "roles": ROLE_LIST,
        "site_ids": SITE_LIST,
        "language": fields.LANGUAGE,
        "valid_days": {"type": "integer", "minimum": 1, "maximum": 30},
    },
    required=("roles",),
)
INVITATION_PATCH = obj(
    {"name": fields.NAME, "email": fields.EMAIL, "roles": ROLE_LIST, "site_ids": SITE_LIST, "language": fields.LANGUAGE}
)
INVITATION_SEND = obj({"email": fields.EMAIL})
INVITATION_QUERY = {
    "org_id": fields.ID,
    "state": {"type": "string", "enum": ["CREATED", "SENT", "ACCEPTED", "EXPIRED", "REVOKED"]},
    **PAGING_QUERY,
}
INVITATION_TARGETS = obj(
    {
        "orgs": {"type": "array", "items": obj({"id": fields.ID, "name": {"type": "string"}}, required=("id", "name"))},
        "roles": {"type": "array", "items": ROLE},
    },
    required=("orgs", "roles"),
)
PUBLIC_INVITATION = obj(
    {
        "name": nullable({"type": "string"}),
        "email": nullable({"type": "string"}),
        "org_name": {"type": "string"},
        "roles": {"type": "array", "items": ROLE},
        "language": fields.LANGUAGE,
        "expires_at": fields.TIMESTAMP,
    },
    required=("org_name", "roles", "expires_at"),
)
INVITATION_ACCEPT = obj(
    {"name": fields.NAME, "email": fields.EMAIL, "password": fields.PASSWORD, "language": fields.LANGUAGE},
    required=("password",),
)
INVITE_FORM = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 200},
        "email": {"type": "string", "maxLength": 254},
        "password": {"type": "string", "maxLength": 128},
        "password_repeat": {"type": "string", "maxLength": 128},
    },
    "additionalProperties": False,
}
PASSWORD_FORM = {
    "type": "object",
    "properties": {
        "password": {"type": "string", "maxLength": 128},
        "password_repeat": {"type": "string", "maxLength": 128},
    },
    "additionalProperties": False,
}
CONFIRM_FORM = {
    "type": "object",
    "properties": {"confirm": {"type": "string", "enum": ["yes"]}},
    "additionalProperties": False,
}
