"""Routes of the device catalog: import, list, read, change."""

from chalice import Blueprint

from chalicelib.api import device_schemas as schemas
from chalicelib.api.http import endpoint, file_response
from chalicelib.config import get_settings
from chalicelib.paging import parse_limit
from chalicelib.services.devices import catalog as devices
from chalicelib.services.devices import claims
from chalicelib.services.devices import importing as device_import
from chalicelib.services.keys import downloads as keys

bp = Blueprint(__name__)
ONE = "/devices/{serial}"
FILTERS = ("serial", "product_type", "claim_status", "label", "batch_id")


@endpoint(
    bp,
    "/devices/import",
    "POST",
    summary="Import devices and their keys (CSV or JSON); bad rows are reported",
    body=schemas.DEVICE_IMPORT,
    text_types=("text/csv",),
    query=schemas.DEVICE_IMPORT_QUERY,
    body_shown={"application/json": schemas.DEVICE_IMPORT_SHOWN, "text/csv": schemas.DEVICE_IMPORT_CSV},
    response=schemas.DEVICE_IMPORT_RESULT,
    errors=(400, 404, 413),
    max_body=get_settings().import_max_body_bytes,
)
def import_devices(call):
    return device_import.import_devices(
        call.principal, csv_text=call.text, items=call.body.get("items"), org_id=call.query.get("org_id")
    )


@endpoint(
    bp,
    "/devices",
    "GET",
    summary="The catalog in scope: " + "; ".join(devices.plan_description()),
    query=schemas.DEVICE_QUERY,
    response=schemas.DEVICE_PAGE,
    errors=(400, 404),
)
def list_devices(call):
    return devices.list_devices(
        call.principal,
        {name: call.query[name] for name in FILTERS if name in call.query},
        view=call.query.get("view"),
        org_id=call.query.get("org_id"),
        limit=parse_limit(call.query.get("limit")),
        cursor=call.query.get("cursor"),
    )


@endpoint(
    bp,
    "/devices/keys",
    "GET",
    summary="Every CLAIMED device in scope that matches, with its keys, as a file "
    "(csv: serial, product_type, key_name, algorithm, key_hex in your delimiter; json: {devices})",
    query=schemas.KEYS_QUERY,
    response=schemas.KEYS_FILE,
    alt_media_types=("text/csv", "application/jose"),
    errors=(400, 404, 413, 422),
)
def download_keys(call):
    file = keys.download_keys(
        call.principal,
        call.query.get("format") or "csv",
        {name: call.query[name] for name in FILTERS if name in call.query},
        org_id=call.query.get("org_id"),
        recipient_jwk=call.query.get("recipient_jwk"),
    )
    return file_response(file["body"], file["media_type"], file["file_name"])


@endpoint(
    bp, ONE + "/keys", "GET", summary="The keys of one CLAIMED device", response=schemas.DEVICE_KEYS, errors=(404, 409)
)
def get_device_keys(call, serial):
    return keys.device_keys(call.principal, serial)


@endpoint(bp, ONE, "GET", summary="One device (never its keys or codes)", response=schemas.DEVICE, errors=(404,))
def get_device(call, serial):
    return devices.read_device(call.principal, serial)


@endpoint(
    bp,
    ONE,
    "PATCH",
    summary="Change a device's labels or site",
    body=schemas.DEVICE_PATCH,
    response=schemas.DEVICE,
    errors=(404, 422),
)
def patch_device(call, serial):
    return devices.update_device(call.principal, serial, call.body)


@endpoint(
    bp,
    ONE + "/claim",
    "POST",
    summary="Claim a device with its claim code, or its ID code and MAC",
    body=schemas.CLAIM,
    response=schemas.DEVICE,
    errors=(404, 409, 410, 429),
)
def claim_device(call, serial):
    return claims.claim_device(call.principal, serial, call.body)


@endpoint(
    bp,
    ONE + "/release",
    "POST",
    summary="Give a device up (UNCLAIMED again; the keys count as exposed)",
    response=schemas.DEVICE,
    errors=(404, 409),
)
def release_device(call, serial):
    return claims.release_device(call.principal, serial)


@endpoint(
    bp,
    ONE + "/take-ownership",
    "POST",
    summary="Move a device to an organization you act for",
    body=schemas.TAKE_OWNERSHIP,
    response=schemas.DEVICE,
    errors=(404, 409),
)
def take_ownership(call, serial):
    return claims.take_ownership(call.principal, serial, call.body["org_id"])
