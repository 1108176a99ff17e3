"""HTTP middleware around every request: size limit, one error shape, security headers, access log."""

import json
import logging
import time
import uuid

from chalice import Response

from chalicelib.api.http import ROUTES, current_actor, error_response
from chalicelib.api.statuses import status_of
from chalicelib.config import get_settings
from chalicelib.errors import BodyTooLarge, DomainError, InternalError, MethodNotAllowed, UnsupportedMediaType
from chalicelib.observability import request_id_of

access_log = logging.getLogger("keyport.access")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    # JSON needs no sources at all; HTML pages set their own policy.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

# Chalice answers some errors itself, in its own {"Code", "Message"} shape.
_CHALICE_ERRORS = {status_of(error): error for error in (MethodNotAllowed, UnsupportedMediaType, InternalError)}


def http_edge(request, get_response) -> Response:
    """Chalice 'http' middleware: wraps every API request."""
    started = time.perf_counter()
    request_id = request_id_of(request) or uuid.uuid4().hex  # the id every log line of the request carries
    current_actor.set(None)
    limit = body_limit(request)
    if len(request.raw_body or b"") > limit:
        response = error_response(BodyTooLarge(f"The body may be at most {limit:,} bytes."))
    else:
        response = _in_one_shape(get_response(request))
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["X-Request-Id"] = request_id
    access_log.info(
        json.dumps(
            {
                "request_id": request_id,
                "method": request.method,
                "route": (request.context or {}).get("resourcePath"),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "actor_id": current_actor.get(),
            }
        )
    )
    return response


def body_limit(request) -> int:
    """The route's own limit (e.g. device imports) or the settings' max_body_bytes."""
    path, method = (request.context or {}).get("resourcePath"), request.method
    special = [spec.max_body for spec in ROUTES if spec.path == path and spec.method == method and spec.max_body]
    return special[0] if special else get_settings().max_body_bytes


def _in_one_shape(response: Response) -> Response:
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        error_class = _CHALICE_ERRORS.get(response.status_code, DomainError)
        shaped = error_response(error_class(), status=response.status_code)
        shaped.headers.update({k: v for k, v in response.headers.items() if k.lower() == "allow"})
        return shaped
    return response
