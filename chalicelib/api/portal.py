"""Routes of customer-portal access (staff), the portal login, and what a portal session reads."""

from chalice import Blueprint

from chalicelib.api import installer_schemas as schemas
from chalicelib.api.http import endpoint
from chalicelib.api.schemas import PAGING_QUERY, paged
from chalicelib.paging import parse_limit
from chalicelib.services.portal import access_codes as portal_access
from chalicelib.services.portal import sessions as portal

bp = Blueprint(__name__)
ONE = "/portal-access/{access_id}"


@endpoint(
    bp,
    "/portal-access",
    "POST",
    summary="Enable portal access to a scope: a code (and token)",
    status=201,
    body=schemas.PORTAL_ACCESS_CREATE,
    response=schemas.PORTAL_ACCESS,
    errors=(404, 409),
)
def enable_portal_access(call):
    return portal_access.enable_portal_access(call.principal, call.body["scope"])


@endpoint(
    bp,
    "/portal-access",
    "GET",
    summary="The portal access of one scope, its code readable again",
    query=schemas.PORTAL_ACCESS_QUERY,
    response=schemas.PORTAL_ACCESS,
    errors=(404,),
)
def read_portal_access(call):
    return portal_access.read_portal_access(call.principal, call.query.get("scope_type"), call.query.get("scope_id"))


@endpoint(
    bp,
    ONE + "/regenerate",
    "POST",
    summary="A new code: the old one and its sessions stop at once",
    response=schemas.PORTAL_ACCESS,
    errors=(404, 409),
)
def regenerate_portal_access(call, access_id):
    return portal_access.regenerate_portal_access(call.principal, access_id)


@endpoint(
    bp,
    ONE,
    "DELETE",
    summary="Revoke portal access: the code and its sessions stop at once",
    status=204,
    errors=(404, 409),
)
def revoke_portal_access(call, access_id):
    return portal_access.revoke_portal_access(call.principal, access_id)


@endpoint(
    bp,
    "/public/portal/sessions",
    "POST",
    summary="Portal login with an access code (and token)",
    status=201,
    public=True,
    body=schemas.PORTAL_LOGIN,
    response=schemas.PORTAL_SESSION,
    errors=(401, 429),
)
def open_portal_session(call):
    return portal.open_portal_session(call.body, call.source_ip)


@endpoint(
    bp,
    "/portal/devices",
    "GET",
    summary="The devices the portal session may see",
    portal=True,
    query=PAGING_QUERY,
    response=paged(schemas.PORTAL_DEVICE),
    errors=(400,),
)
def portal_devices(call):
    return portal.portal_devices(
        call.portal, limit=parse_limit(call.query.get("limit")), cursor=call.query.get("cursor")
    )


@endpoint(
    bp,
    "/portal/installations",
    "GET",
    summary="The installations the portal session may see",
    portal=True,
    query=PAGING_QUERY,
    response=paged(schemas.PORTAL_INSTALLATION),
    errors=(400,),
)
def portal_installations(call):
    return portal.portal_installations(
        call.portal, limit=parse_limit(call.query.get("limit")), cursor=call.query.get("cursor")
    )
