"""Routes of the download list: key exports of any size, run in the background."""

from chalice import Blueprint

from chalicelib.api import device_schemas as schemas
from chalicelib.api.devices import FILTERS
from chalicelib.api.http import endpoint, file_response, redirect_response
from chalicelib.api.schemas import PAGING_QUERY, paged
from chalicelib.paging import parse_limit
from chalicelib.services.keys import exports

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/exports",
    "POST",
    summary="Queue a key export of every CLAIMED device in scope that matches "
    "(csv, json, or jwe sealed for recipient_jwk or your profile's key)",
    status=202,
    body=schemas.EXPORT_REQUEST,
    response=schemas.EXPORT,
    errors=(400, 404, 422),
)
def request_export(call):
    return exports.request_export(
        call.principal,
        call.body["format"],
        {name: call.body[name] for name in FILTERS if name in call.body},
        org_id=call.body.get("org_id"),
        recipient_jwk=call.body.get("recipient_jwk"),
    )


@endpoint(
    bp,
    "/exports",
    "GET",
    summary="Your download list, newest first",
    query=PAGING_QUERY,
    response=paged(schemas.EXPORT),
    errors=(400,),
)
def list_exports(call):
    return exports.list_exports(
        call.principal, limit=parse_limit(call.query.get("limit")), cursor=call.query.get("cursor")
    )


@endpoint(
    bp,
    "/exports/{export_id}",
    "GET",
    summary="One export of your download list",
    response=schemas.EXPORT,
    errors=(404,),
)
def get_export(call, export_id):
    return exports.read_export(call.principal, export_id)


@endpoint(
    bp,
    "/exports/{export_id}/file",
    "GET",
    summary="The file of a READY export (on AWS a redirect to a presigned link valid 5 minutes)",
    response=schemas.KEYS_FILE,
    errors=(404, 409, 410),
    redirects=True,
    alt_media_types=("text/csv", "application/jose"),
)
def get_export_file(call, export_id):
    file = exports.export_file(call.principal, export_id)
    if "url" in file:
        return redirect_response(file["url"])
    return file_response(file["body"], file["media_type"], file["file_name"])
