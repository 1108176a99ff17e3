"""The OpenAPI 3.1 document of every registered route, built from the RouteSpecs."""
import copy
import functools
import re
from typing import Any, Dict, Iterable

from chalicelib.api import schemas
from chalicelib.api.http import MAX_PATH_PARAM, RouteSpec
from chalicelib.errors import domain_errors

_DESCRIPTIONS = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No content", 400: "Malformed request",
    401: "Not authenticated", 403: "Not allowed", 404: "Not found or not yours", 409: "Conflict",
    410: "Expired or used", 413: "Body too large", 414: "URI too long", 415: "Unsupported media type",
    422: "Invalid fields",
    429: "Locked or rate limited", 500: "Internal error", 502: "A mail could not be sent",
}


def build_document(routes: Iterable[RouteSpec], version: str = "1") -> Dict[str, Any]:
    """An OpenAPI 3.1 document describing the routes."""
    paths: Dict[str, Dict[str, Any]] = {}
    for spec in routes:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    return {
        "openapi": "3.1.0",
        "info": {"title": "keyport", "version": version,
                 "description": "Device onboarding and key custody. Errors share one shape: "
                                "{\"error\": {\"code\", \"message\"}}."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "The token answered by POST /auth/login."}},
            "schemas": {"Error": _error_schema()},
        },
    }


@functools.lru_cache(maxsize=1)
def _error_schema() -> Dict[str, Any]:
    """The one error shape, its code one of every domain error's code (grouped by status in the description)."""
    import importlib
    import pkgutil

    from chalicelib import services

    for module in pkgutil.iter_modules(services.__path__):  # every error is defined once its module is loaded
        importlib.import_module(f"chalicelib.services.{module.name}")
    by_status: Dict[int, set] = {}
    for error_class in domain_errors():
        by_status.setdefault(error_class.status, set()).add(error_class.code)
    codes = sorted(set().union(*by_status.values()))
    described = "; ".join(f"{status}: {', '.join(sorted(found))}" for status, found in sorted(by_status.items()))
    error = copy.deepcopy(schemas.ERROR)
    error["properties"]["error"]["properties"]["code"] = {"type": "string", "enum": codes,
                                                          "description": "By status: " + described}
    return error


def _operation(spec: RouteSpec) -> Dict[str, Any]:
    operation: Dict[str, Any] = {
        "operationId": _operation_id(spec),
        "summary": spec.summary,
        "tags": [spec.tag],
        "security": [] if spec.public else [{"bearer": []}],
        "responses": _responses(spec),
    }
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "string", "minLength": 1, "maxLength": MAX_PATH_PARAM}}
                  for name in re.findall(r"{(\w+)}", spec.path)]
    parameters += [{"name": name, "in": "query", "required": False, "schema": schema}
                   for name, schema in (spec.query or {}).items()]
    if parameters:
        operation["parameters"] = parameters
    # A body whose fields are all optional may be left out (the edge reads a missing body as {}).
    if spec.body is not None:
        content = {"application/json": {"schema": spec.body}}
        content.update({media: {"schema": {"type": "string"}} for media in spec.text_types})
        operation["requestBody"] = {"required": bool(spec.body.get("required")), "content": content}
    elif spec.form is not None:
        operation["requestBody"] = {"required": bool(spec.form.get("required")),
                                    "content": {"application/x-www-form-urlencoded": {"schema": spec.form}}}
    return operation


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
        responses["302"] = {"description": "Found: the file at a short-lived link",
                            "headers": {"Location": {"schema": {"type": "string"}}}}
    for status in sorted(error_statuses):
        responses[str(status)] = {"description": _DESCRIPTIONS[status]}
        if status != 414:  # the server's own page, not keyport's error shape
            responses[str(status)]["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        if status == 429:
            responses["429"]["headers"] = {"Retry-After": {
                "description": "Seconds to wait before trying again", "schema": {"type": "integer", "minimum": 1}}}
    return responses


def _operation_id(spec: RouteSpec) -> str:
    words = re.sub(r"[{}]", "", spec.path).strip("/").replace("-", "_").replace("/", "_")
    return f"{spec.method.lower()}_{words or 'root'}"
