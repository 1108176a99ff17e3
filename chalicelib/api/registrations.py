"""Routes of self-registration (public) and the operator's review."""

from chalice import Blueprint

from chalicelib.api import installer_schemas as schemas
from chalicelib.api.http import endpoint
from chalicelib.api.schemas import paged
from chalicelib.paging import parse_limit
from chalicelib.services.installers import registrations

bp = Blueprint(__name__)
ONE = "/registrations/{registration_id}"


@endpoint(
    bp,
    "/public/registrations",
    "POST",
    summary="Register as an installer or system manager",
    status=202,
    public=True,
    body=schemas.REGISTRATION_CREATE,
    response=schemas.RECEIVED,
    errors=(429,),
)
def register(call):
    return registrations.register(call.body, call.source_ip)


@endpoint(
    bp,
    "/registrations",
    "GET",
    summary="Registrations to review (operators)",
    query=schemas.REGISTRATION_QUERY,
    response=paged(schemas.REGISTRATION),
    errors=(400,),
)
def list_registrations(call):
    return registrations.list_registrations(
        call.principal,
        state=call.query.get("state"),
        limit=parse_limit(call.query.get("limit")),
        cursor=call.query.get("cursor"),
    )


@endpoint(bp, ONE, "GET", summary="One registration", response=schemas.REGISTRATION, errors=(404,))
def get_registration(call, registration_id):
    return registrations.read_registration(call.principal, registration_id)


@endpoint(
    bp,
    ONE + "/approve",
    "POST",
    summary="Approve: creates the company and its first user",
    body=schemas.APPROVAL,
    response=schemas.REGISTRATION,
    errors=(404, 409, 502),
)
def approve_registration(call, registration_id):
    return registrations.approve_registration(call.principal, registration_id, call.body)


@endpoint(
    bp,
    ONE + "/reject",
    "POST",
    summary="Reject with a reason (mailed)",
    body=schemas.REJECTION,
    response=schemas.REGISTRATION,
    errors=(404, 409, 502),
)
def reject_registration(call, registration_id):
    return registrations.reject_registration(call.principal, registration_id, call.body["reason"])
