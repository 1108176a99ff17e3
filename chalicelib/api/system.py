"""Public routes about the service itself: health and the OpenAPI document."""
from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.api.http import ROUTES, endpoint
from chalicelib.api.openapi import build_document
from chalicelib.config import get_settings

bp = Blueprint(__name__)


@endpoint(bp, "/health", "GET", summary="Liveness", public=True, response=schemas.HEALTH)
def health(call):
    return {"status": "ok", "stage": get_settings().stage}


@endpoint(bp, "/openapi.json", "GET", summary="This API's OpenAPI 3.1 document", public=True,
          response={"type": "object", "required": ["openapi", "paths"]})
def openapi(call):
    return build_document(ROUTES)
