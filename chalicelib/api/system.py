"""Public routes about the service itself: health and the OpenAPI document."""

import functools

from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.api.http import ROUTES, endpoint
from chalicelib.api.openapi import build_document
from chalicelib.config import get_settings

bp = Blueprint(__name__)


@endpoint(bp, "/health", "GET", summary="Liveness", public=True, response=schemas.HEALTH)
def health(call):
    return {"status": "ok", "stage": get_settings().stage}


@endpoint(
    bp,
    "/openapi.json",
    "GET",
    summary="This API's OpenAPI 3.1 document",
    public=True,
    response=schemas.OPENAPI_DOCUMENT,
)
def openapi(call):
    return _document()


@functools.lru_cache(maxsize=1)
def _document():
    # Built once per container, at the first request (every route is registered by then).
    return build_document(ROUTES)
