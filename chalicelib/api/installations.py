"""Routes of installations and the public activation (the page the activation mail links to is chalicelib/web's)."""

from chalice import Blueprint

from chalicelib.api import installer_schemas as schemas
from chalicelib.api.http import endpoint
from chalicelib.api.schemas import paged
from chalicelib.paging import parse_limit
from chalicelib.services.installers import activations, installations

bp = Blueprint(__name__)
ONE = "/installations/{installation_id}"


@endpoint(
    bp,
    "/installations/check",
    "POST",
    summary="Which device an ID code and MAC name (installers)",
    body=schemas.DEVICE_PROOF,
    response=schemas.CHECKED,
    errors=(404, 409, 429),
)
def check_installation(call):
    return installations.check_installation(call.principal, call.body, call.source_ip)


@endpoint(
    bp,
    "/installations",
    "POST",
    summary="Register a customer's device: reserves it and mails the customer",
    status=201,
    body=schemas.INSTALLATION_CREATE,
    response=schemas.INSTALLATION_CREATED,
    errors=(404, 409, 429, 502),
)
def create_installation(call):
    return installations.create_installation(call.principal, call.body, call.source_ip)


@endpoint(
    bp,
    "/installations",
    "GET",
    summary="The installer's installations, or the customer's own",
    query=schemas.INSTALLATION_QUERY,
    response=paged(schemas.INSTALLATION),
    errors=(400, 404),
)
def list_installations(call):
    return installations.list_installations(
        call.principal,
        org_id=call.query.get("org_id"),
        state=call.query.get("state"),
        limit=parse_limit(call.query.get("limit")),
        cursor=call.query.get("cursor"),
    )


@endpoint(bp, ONE, "GET", summary="One installation and its device", response=schemas.INSTALLATION, errors=(404,))
def get_installation(call, installation_id):
    return installations.read_installation(call.principal, installation_id)


@endpoint(
    bp,
    ONE + "/cancel",
    "POST",
    summary="Cancel a pending installation: the device is free again",
    response=schemas.INSTALLATION,
    errors=(404, 409),
)
def cancel_installation(call, installation_id):
    return installations.cancel_installation(call.principal, installation_id)


@endpoint(
    bp,
    ONE + "/resend",
    "POST",
    summary="Mail the customer a new activation link (the old one stops)",
    response=schemas.INSTALLATION,
    errors=(404, 409, 429, 502),
)
def resend_activation(call, installation_id):
    return installations.resend_activation(call.principal, installation_id)


@endpoint(
    bp,
    "/public/activations/{token}",
    "GET",
    summary="What an activation link shows",
    public=True,
    response=schemas.ACTIVATION,
    errors=(410,),
)
def view_activation(call, token):
    return activations.view_activation(token)


@endpoint(
    bp,
    "/public/activations/{token}",
    "POST",
    summary="Confirm or correct the data: activates the device",
    public=True,
    body=schemas.ACTIVATION_CONFIRM,
    response=schemas.ACTIVATED,
    errors=(410,),
)
def activate(call, token):
    return activations.activate_installation(token, call.body)
