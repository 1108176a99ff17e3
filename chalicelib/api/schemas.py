"""JSON schemas of request bodies and answers: validated at the edge, published in /openapi.json."""
from chalicelib import fields
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


ERROR = obj({
    "error": obj({
        "code": {"type": "string"},
        "message": {"type": "string"},
        "details": {},
    }, required=("code", "message")),
}, required=("error",))

USER = obj({
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
}, required=("id", "name", "email", "org_id", "roles", "permissions", "site_ids", "language",
             "csv_delimiter", "csv_thousands_separator", "status", "must_change_password", "created_at"))

LOGIN = obj({
    # No format check here: a malformed address must answer like any unknown one (401).
    "email": {"type": "string", "minLength": 1, "maxLength": 254},
    "password": fields.PASSWORD,
    "org_reference": {"type": "string", "minLength": 1, "maxLength": 100},
}, required=("email", "password"))

SESSION = obj({
    "token": {"type": "string"},
    "expires_at": fields.TIMESTAMP,
    "idle_expires_at": fields.TIMESTAMP,
    "user": USER,
    "must_change_password": {"type": "boolean"},
}, required=("token", "expires_at", "idle_expires_at", "user", "must_change_password"))

PROFILE_PATCH = obj({
    "name": fields.NAME,
    "language": fields.LANGUAGE,
    "csv_delimiter": {"type": "string", "enum": list(fields.CSV_DELIMITERS)},
    "csv_thousands_separator": {"type": "string", "enum": list(fields.CSV_THOUSANDS_SEPARATORS)},
})

PASSWORD_CHANGE = obj({
    "current_password": fields.PASSWORD,
    "new_password": fields.PASSWORD,
}, required=("current_password", "new_password"))

HEALTH = obj({"status": {"type": "string", "enum": ["ok"]}, "stage": {"type": "string"}},
             required=("status", "stage"))
