"""The OpenAPI 3.1 document of every registered route, built from the RouteSpecs.

Schemas named in component_schemas are published once under components/schemas and referenced by `$ref`;
query parameters show the type they stand for; a body is required when an empty one would be refused.
"""

import copy
import functools
import json
import re
from typing import Any, Dict, Iterable

from chalicelib.api import schemas
from chalicelib.api.component_schemas import COMPONENTS
from chalicelib.api.http import MAX_PATH_PARAM, RouteSpec
from chalicelib.api.statuses import status_of
from chalicelib.errors import domain_errors

_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No content",
    400: "Malformed request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found or not yours",
    409: "Conflict",
    410: "Expired or used",
    413: "Body too large",
    414: "URI too long",
    415: "Unsupported media type",
    422: "Invalid fields",
    429: "Locked or rate limited",
    500: "Internal error",
    502: "A mail could not be sent",
}


def build_document(routes: Iterable[RouteSpec], version: str = "1") -> Dict[str, Any]:
    """An OpenAPI 3.1 document describing the routes."""
    paths: Dict[str, Dict[str, Any]] = {}
    for spec in routes:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    components = {name: _referenced(schema, itself=name) for name, schema in _named_components().items()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "keyport",
            "version": version,
            "description": 'Device onboarding and key custody. Errors share one shape: {"error": {"code", "message"}}.',
        },
        "paths": _referenced(paths),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The token answered by POST /auth/login."}
            },
            "schemas": {"Error": _error_schema(), **components},
        },
    }


@functools.lru_cache(maxsize=1)
def _error_schema() -> Dict[str, Any]:
    """The one error shape, its code one of every domain error's code (grouped by status in the description)."""
    import importlib
    import pkgutil

    from chalicelib import services

    # every error is defined once its module is loaded
    for module in pkgutil.walk_packages(services.__path__, prefix="chalicelib.services."):
        importlib.import_module(module.name)
    by_status: Dict[int, set] = {}
    for error_class in domain_errors():
        by_status.setdefault(status_of(error_class), set()).add(error_class.code)
    codes = sorted(set().union(*by_status.values()))
    described = "; ".join(f"{status}: {', '.join(sorted(found))}" for status, found in sorted(by_status.items()))
    error = copy.deepcopy(schemas.ERROR)
    error["properties"]["error"]["properties"]["code"] = {
        "type": "string",
        "enum": codes,
        "description": "By status: " + described,
    }
    return error


def _operation(spec: RouteSpec) -> Dict[str, Any]:
    operation: Dict[str, Any] = {
        "operationId": _operation_id(spec),
        "summary": spec.summary,
        "tags": [spec.tag],
        "security": [] if spec.public else [{"bearer": []}],
        "responses": _responses(spec),
    }
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_PATH_PARAM},
        }
        for name in re.findall(r"{(\w+)}", spec.path)
    ]
    parameters += [
        {"name": name, "in": "query", "required": False, "schema": schema.get(schemas.PUBLISHED_TYPE_KEYWORD, schema)}
        for name, schema in (spec.query or {}).items()
    ]
    if parameters:
        operation["parameters"] = parameters
    # A body the edge would accept empty may be left out (the edge reads a missing body as {}).
    if spec.body is not None:
        content = {"application/json": {"schema": _proof_branches(spec.body)}}
        content.update({media: {"schema": {"type": "string"}} for media in spec.text_types})
        content.update({media: {"schema": schema} for media, schema in (spec.body_shown or {}).items()})
        operation["requestBody"] = {"required": _refuses_empty(spec.body), "content": content}
    elif spec.form is not None:
        operation["requestBody"] = {
            "required": _refuses_empty(spec.form),
            "content": {"application/x-www-form-urlencoded": {"schema": spec.form}},
        }
    return operation


def _refuses_empty(schema: Dict[str, Any]) -> bool:
    from jsonschema import Draft202012Validator

    return not Draft202012Validator(schema).is_valid({})


def _proof_branches(schema: Dict[str, Any]) -> Dict[str, Any]:
    """A closed object that needs one of several sets of fields (anyOf of `required` alone), as the anyOf of one
    closed object per set: it accepts the same bodies, and generated clients get one model per choice."""
    branches = schema.get("anyOf") or []
    if schema.get("type") != "object" or not branches or any(set(branch) != {"required"} for branch in branches):
        return schema
    base = {key: value for key, value in schema.items() if key != "anyOf"}
    return {
        "anyOf": [
            {**base, "required": list(dict.fromkeys(base.get("required", []) + branch["required"]))}
            for branch in branches
        ]
    }


def _canonical(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True)


@functools.lru_cache(maxsize=1)
def _named_components() -> Dict[str, Dict[str, Any]]:
    """Every named schema, the branches of a body that needs one set of fields among several named after them."""
    named: Dict[str, Dict[str, Any]] = {}
    for name, schema in COMPONENTS.items():
        published = _proof_branches(schema)
        if published is not schema:
            for branch in published["anyOf"]:
                chosen = [field for field in branch["required"] if field not in schema.get("required", [])]
                named[name + "With" + "And".join(_camel(field) for field in chosen)] = branch
        named[name] = published
    seen: Dict[str, str] = {}
    for name, schema in named.items():
        other = seen.setdefault(_canonical(schema), name)
        if other != name:
            raise ValueError(f"component schemas {other} and {name} are the same schema; name it once")
    return named


def _camel(field: str) -> str:
    return "".join(part.capitalize() for part in field.split("_"))


def _referenced(value: Any, itself: str = "") -> Any:
    """The value with every schema equal to a named component (other than `itself`) replaced by its $ref."""
    lookup = _lookup()

    def visit(node: Any, top: bool) -> Any:
        if isinstance(node, dict):
            name = lookup.get(_canonical(node)) if node else None
            if name and not (top and name == itself):
                return {"$ref": f"#/components/schemas/{name}"}
            return {key: visit(child, False) for key, child in node.items()}
        if isinstance(node, list):
            return [visit(child, False) for child in node]
        return node

    return visit(value, True)


@functools.lru_cache(maxsize=1)
def _lookup() -> Dict[str, str]:
    return {_canonical(schema): name for name, schema in _named_components().items()}


def _responses(spec: RouteSpec) -> Dict[str, Any]:
    success: Dict[str, Any] = {"description": _DESCRIPTIONS.get(spec.status, "OK")}
    if spec.status != 204 and not (spec.status == 202 and spec.response is None):
        schema = spec.response or ({"type": "string"} if spec.media_type == "text/html" else {})
        success["content"] = {spec.media_type: {"schema": schema}}
        success["content"].update({media: {"schema": {"type": "string"}} for media in spec.alt_media_types})
    error_statuses = set(spec.errors) | {413, 500}
    if re.search(r"{\w+}", spec.path):
        error_statuses |= {404}  # an id or token that names nothing
    if re.search(r"{\w+}", spec.path) or spec.query:
        error_statuses |= {414}  # the server's (API Gateway's, chalice local's) own limit on the URL's length
    if spec.body is not None or spec.form is not None:
        error_statuses |= {400, 415, 422}
    if spec.query:
        error_statuses |= {422}
    if not spec.public:
        error_statuses |= {401, 403, 404}  # 404: anything outside the actor's scope
    responses = {str(spec.status): success}
    if spec.redirects:
        responses["302"] = {
            "description": "Found: the file at a short-lived link",
            "headers": {"Location": {"schema": {"type": "string"}}},
        }
    for status in sorted(error_statuses):
        responses[str(status)] = {"description": _DESCRIPTIONS[status]}
        if status != 414:  # the server's own page, not keyport's error shape
            responses[str(status)]["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        if status == 429:
            responses["429"]["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before trying again",
                    "schema": {"type": "integer", "minimum": 1},
                }
            }
    return responses


def _operation_id(spec: RouteSpec) -> str:
    words = re.sub(r"[{}]", "", spec.path).strip("/").replace("-", "_").replace("/", "_")
    return f"{spec.method.lower()}_{words or 'root'}"
