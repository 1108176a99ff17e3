"""Routes of batch references."""

from chalice import Blueprint

from chalicelib.api import device_schemas as schemas
from chalicelib.api.http import endpoint
from chalicelib.config import get_settings
from chalicelib.paging import parse_limit
from chalicelib.services.devices import batches

bp = Blueprint(__name__)
ONE = "/batches/{batch_id}"


@endpoint(
    bp,
    "/batches",
    "GET",
    summary="Batches the organizations in scope created or received",
    query=schemas.BATCH_QUERY,
    response=schemas.paged(schemas.BATCH),
    errors=(400, 404),
)
def list_batches(call):
    return batches.list_batches(
        call.principal,
        org_id=call.query.get("org_id"),
        limit=parse_limit(call.query.get("limit")),
        cursor=call.query.get("cursor"),
    )


@endpoint(
    bp,
    "/batches",
    "POST",
    summary="Assign serials to an organization (at once, or after its confirmation)",
    status=201,
    body=schemas.BATCH_CREATE,
    response=schemas.BATCH,
    errors=(404, 409, 413, 422, 429),
    max_body=get_settings().import_max_body_bytes,
)
def create_batch(call):
    return batches.create_batch(call.principal, call.body)


@endpoint(
    bp,
    ONE,
    "GET",
    summary="A batch and a page of its serials",
    query=schemas.PAGING_QUERY,
    response=schemas.BATCH_DETAIL,
    errors=(400, 404),
)
def get_batch(call, batch_id):
    return batches.read_batch(
        call.principal, batch_id, limit=parse_limit(call.query.get("limit")), cursor=call.query.get("cursor")
    )


@endpoint(
    bp,
    ONE + "/confirm",
    "POST",
    summary="The target confirms (or resumes) a batch",
    response=schemas.BATCH,
    errors=(404, 409),
)
def confirm_batch(call, batch_id):
    return batches.confirm_batch(call.principal, batch_id)


@endpoint(
    bp,
    ONE + "/reject",
    "POST",
    summary="The target refuses (or resumes refusing) a batch; refused once a confirmation began",
    response=schemas.BATCH,
    errors=(404, 409),
)
def reject_batch(call, batch_id):
    return batches.reject_batch(call.principal, batch_id)
