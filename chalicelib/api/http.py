"""The route decorator every Blueprint uses: auth, body parsing and validation, rendering, errors."""

import contextvars
import functools
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from chalice import Blueprint, Response

from chalicelib import fields
from chalicelib.api.statuses import status_of
from chalicelib.errors import (
    DomainError,
    InternalError,
    InvalidEncoding,
    InvalidJson,
    NotFound,
    UnsupportedMediaType,
    ValidationFailed,
)
from chalicelib.permissions import Principal

log = logging.getLogger("keyport.api")

# Chalice answers 415 in its own shape for content types a route does not list; listing the
# common ones lets our parser answer in the one error shape instead.
ACCEPTED_CONTENT_TYPES = [
    "application/json",
    "text/plain",
    "text/csv",
    "text/html",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/octet-stream",
    "application/xml",
    "text/xml",
]

# The actor of the request in flight, for the access log written by the edge middleware.
current_actor: contextvars.ContextVar = contextvars.ContextVar("current_actor", default=None)


@dataclass(frozen=True)
class RouteSpec:
    """Everything the edge and the OpenAPI document know of one route."""

    path: str
    method: str
    summary: str
    status: int = 200
    body: Optional[Dict[str, Any]] = None
    response: Optional[Dict[str, Any]] = None
    public: bool = False
    pending_password_ok: bool = False
    errors: Tuple[int, ...] = ()
    query: Optional[Dict[str, Dict[str, Any]]] = None  # name -> schema of a string query parameter
    form: Optional[Dict[str, Any]] = None  # schema of an application/x-www-form-urlencoded body (HTML pages)
    tag: str = ""
    media_type: str = "application/json"
    text_types: Tuple[str, ...] = ()  # content types taken as UTF-8 text instead of JSON (e.g. a CSV import)
    max_body: Optional[int] = None  # bytes; the settings' max_body_bytes when None
    alt_media_types: Tuple[str, ...] = ()  # other media types the success answer may have (e.g. a CSV file)
    redirects: bool = False  # may answer 302 to a short-lived link instead
    portal: bool = False  # authenticated by a portal session (an access code's), never by a user session
    # media type -> the schema the document shows instead of the one checked here, where the service checks more
    # (an import's rows, one by one, each bad one reported rather than the request refused)
    body_shown: Optional[Dict[str, Dict[str, Any]]] = None


@dataclass
class Call:
    """A parsed request handed to a view: who acts, the validated body, query and client address."""

    principal: Optional[Principal]
    body: Dict[str, Any] = field(default_factory=dict)
    query: Dict[str, str] = field(default_factory=dict)
    source_ip: Optional[str] = None
    accept_language: str = ""
    text: Optional[str] = None  # the body of a text_types request, decoded
    portal: Any = None  # the portal principal of a portal route


ROUTES: List[RouteSpec] = []


def endpoint(blueprint: Blueprint, path: str, method: str, *, summary: str, **options) -> Callable:
    """Register a view on the blueprint under one RouteSpec; the view takes (call, **path_params)."""
    spec = RouteSpec(path=path, method=method, summary=summary, tag=path.strip("/").split("/")[0], **options)
    ROUTES.append(spec)

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def handler(**path_params):
            try:
                _check_path(path_params)
                call = _parse(blueprint.current_request, spec)
                return render(spec, view(call, **path_params))
            except DomainError as error:
                return error_response(error)
            except Exception:  # the one place an unexpected failure becomes a clean 500
                log.exception("unhandled error in %s %s", method, path)
                return error_response(InternalError())

        blueprint.route(path, methods=[method], content_types=ACCEPTED_CONTENT_TYPES)(handler)
        return view

    return decorator


MAX_PATH_PARAM = 200


def _check_path(path_params: Dict[str, str]) -> None:
    # No id or token of ours is empty or longer than this: such a path names nothing (and DynamoDB would
    # refuse a key over 2 KB with an error, not an answer).
    if any(not value or len(value) > MAX_PATH_PARAM for value in path_params.values()):
        raise NotFound()


def _parse(request, spec: RouteSpec) -> Call:
    principal, portal = None, None
    if spec.portal:
        from chalicelib.services.portal.sessions import authenticate_portal

        portal = authenticate_portal(_bearer_token(request.headers.get("authorization")))
        current_actor.set("portal:" + portal.access_id)
    elif not spec.public:
        from chalicelib.services.accounts.sessions import authenticate

        principal = authenticate(
            _bearer_token(request.headers.get("authorization")), allow_pending_password_change=spec.pending_password_ok
        )
        current_actor.set(principal.user_id)
    body: Dict[str, Any] = {}
    text = None
    if spec.text_types and _content_type(request) in spec.text_types:
        text = _text_body(request)
    elif spec.body is not None:
        body = _json_body(request, spec.text_types)
        validate(spec.body, body)
    elif spec.form is not None:
        body = _form_body(request)
        validate(spec.form, body)
    query = {name: value for name, value in (request.query_params or {}).items() if name in (spec.query or {})}
    if spec.query:
        validate({"type": "object", "properties": spec.query}, query)
    identity = (request.context or {}).get("identity") or {}
    return Call(
        principal=principal,
        body=body,
        query=query,
        source_ip=identity.get("sourceIp"),
        accept_language=(request.headers.get("accept-language") or "")[:200],
        text=text,
        portal=portal,
    )


def _content_type(request) -> str:
    return (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()


def _text_body(request) -> str:
    try:
        return (request.raw_body or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidEncoding() from None


def _bearer_token(header: Optional[str]) -> Optional[str]:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _json_body(request, text_types: Tuple[str, ...] = ()) -> Any:
    raw = request.raw_body or b""
    content_type = _content_type(request)
    if content_type != "application/json" and raw.strip():
        allowed = " or ".join(("application/json",) + text_types)
        raise UnsupportedMediaType(f"Send the body as {allowed}, not {content_type[:100]}.")
    if not raw:  # no body at all; whitespace alone is malformed JSON
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested past the parser's stack
        raise InvalidJson() from None
    if _nests_deeper(body, MAX_JSON_DEPTH):
        raise InvalidJson(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    return body


# No body of ours nests more than a few levels; the schema validator recurses per level, so a deeper body
# (one the parser still took) is refused before validation sees it.
MAX_JSON_DEPTH = 32


def _nests_deeper(value: Any, limit: int) -> bool:
    """Some array or object inside the value sits deeper than the limit (walked without recursion)."""
    pending = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return False


def _form_body(request) -> Dict[str, str]:
    from urllib.parse import parse_qsl

    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("Send the form as application/x-www-form-urlencoded.")
    try:
        pairs = parse_qsl((request.raw_body or b"").decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise InvalidJson("The form is not valid UTF-8.") from None
    return dict(pairs)


@functools.lru_cache(maxsize=None)
def _validator(schema_json: str):
    # jsonschema loads on the first validated body, not at `import app`.
    return _text_checking_validator()(json.loads(schema_json))


@functools.lru_cache(maxsize=None)
def _text_checking_validator():
    """Draft 2020-12 where every string a schema types as one (bodies, forms, query parameters) must also be
    text (fields.text_problem): one rule at the edge for every field, present and future. An enum names its
    values itself (the CSV delimiter may be a tab)."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    check_type = Draft202012Validator.VALIDATORS["type"]

    def type_and_text(validator, types, instance, schema):
        yield from check_type(validator, types, instance, schema)
        if isinstance(instance, str) and "enum" not in schema:
            problem = fields.text_problem(instance, multiline=schema.get(fields.MULTILINE_KEYWORD, False))
            if problem:
                yield ValidationError(problem, validator="text")

    return validators.extend(Draft202012Validator, {"type": type_and_text})


def validate(schema: Dict[str, Any], instance: Any) -> None:
    """Raise ValidationFailed listing every problem of the instance against the JSON schema."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    found = {tuple(problem.items()) for error in validator.iter_errors(instance) for problem in _describe(error)}
    problems = [dict(problem) for problem in sorted(found)]
    if problems:
        summary = "; ".join(f"{p['field'] or 'body'}: {p['problem']}" for p in problems[:5])
        raise ValidationFailed(f"Invalid request: {summary}.", details=problems)


def _describe(error) -> List[Dict[str, str]]:
    """Short messages that never echo the submitted value (it may be a password or 1 MB long)."""
    where = ".".join(str(part) for part in error.absolute_path)
    keyword, expected = error.validator, error.validator_value
    if keyword == "required":
        missing = [name for name in expected if name not in error.instance]
        return [{"field": ".".join(filter(None, [where, name])), "problem": "is required"} for name in missing]
    if keyword == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return [{"field": ".".join(filter(None, [where, name])), "problem": "is not a known field"} for name in extra]
    if keyword == "text":
        return [{"field": where, "problem": error.message}]
    if keyword == "anyOf":  # e.g. nullable text: the text branch's own problem says more than "is not valid"
        text_errors = [branch_error for branch_error in error.context if branch_error.validator == "text"]
        if text_errors:
            return [
                {
                    "field": ".".join(str(part) for part in text_errors[0].absolute_path),
                    "problem": text_errors[0].message,
                }
            ]
    if keyword == "anyOf" and all(set(branch) == {"required"} for branch in expected):
        choices = " or ".join(" and ".join(branch["required"]) for branch in expected)
        return [{"field": where, "problem": f"needs {choices}"}]
    messages = {
        "type": lambda: f"must be of type {expected if isinstance(expected, str) else ' or '.join(expected)}",
        "maxLength": lambda: f"must be at most {expected} characters long",
        "minLength": lambda: f"must be at least {expected} characters long",
        "enum": lambda: "must be one of " + ", ".join(repr(v) for v in expected),
        "pattern": lambda: "has the wrong format",
        "format": lambda: f"must be a valid {expected}",
        "maxItems": lambda: f"must have at most {expected} items",
        "minItems": lambda: f"must have at least {expected} items",
        "uniqueItems": lambda: "must not repeat items",
        "minimum": lambda: f"must be at least {expected}",
        "maximum": lambda: f"must be at most {expected}",
        "minProperties": lambda: f"must name at least {expected} field(s)",
    }
    return [{"field": where, "problem": messages.get(keyword, lambda: "is not valid")()}]


def render(spec: RouteSpec, result: Any) -> Response:
    """Turn a view's result into the route's success response."""
    if isinstance(result, Response):
        return result
    if result is None or spec.status == 204:  # 204, or 202 "accepted" with nothing to show
        return Response(body="", status_code=spec.status)
    return Response(body=result, status_code=spec.status, headers={"Content-Type": "application/json"})


def file_response(body, media_type: str, file_name: str) -> Response:
    """A file download: the body with its type, saved under the file name."""
    return Response(
        body=body,
        status_code=200,
        headers={"Content-Type": media_type, "Content-Disposition": f'attachment; filename="{file_name}"'},
    )


def redirect_response(url: str) -> Response:
    """A 302 to a short-lived link (a presigned S3 URL)."""
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"})


def error_response(error: DomainError, status: Optional[int] = None) -> Response:
    """The one error shape with the status of the error's kind, or the one given (and Retry-After when the error
    names a wait)."""
    headers: Dict[str, Union[str, List[str]]] = {"Content-Type": "application/json"}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return Response(body=error.to_body(), status_code=status or status_of(error), headers=headers)
