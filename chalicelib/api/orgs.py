"""Routes of organizations and their partner links."""

from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.api.http import endpoint
from chalicelib.paging import parse_limit
from chalicelib.services.tenants import orgs, partners

bp = Blueprint(__name__)
ONE = "/orgs/{org_id}"


@endpoint(
    bp,
    "/orgs",
    "GET",
    summary="The own organization, its descendants, then partners",
    query=schemas.ORG_QUERY,
    response=schemas.paged(schemas.ORG),
    errors=(400, 404),
)
def list_orgs(call):
    return orgs.list_orgs(
        call.principal,
        name=call.query.get("name"),
        parent_id=call.query.get("parent_id"),
        limit=parse_limit(call.query.get("limit")),
        cursor=call.query.get("cursor"),
    )


@endpoint(
    bp,
    "/orgs",
    "POST",
    summary="Create a sub-organization",
    status=201,
    body=schemas.ORG_CREATE,
    response=schemas.ORG,
    errors=(404,),
)
def create_org(call):
    return orgs.create_org(call.principal, call.body)


@endpoint(bp, ONE, "GET", summary="One organization", response=schemas.ORG, errors=(404,))
def get_org(call, org_id):
    return orgs.read_org(call.principal, org_id)


@endpoint(
    bp,
    ONE,
    "PATCH",
    summary="Change or move an organization",
    body=schemas.ORG_PATCH,
    response=schemas.ORG,
    errors=(404, 409),
)
def patch_org(call, org_id):
    return orgs.update_org(call.principal, org_id, call.body)


@endpoint(
    bp,
    ONE + "/partners",
    "GET",
    summary="Partner links of an organization",
    query=schemas.PAGING_QUERY,
    response=schemas.paged(schemas.PARTNER),
    errors=(400, 404),
)
def list_partners(call, org_id):
    return partners.list_partners(
        call.principal, org_id, limit=parse_limit(call.query.get("limit")), cursor=call.query.get("cursor")
    )


@endpoint(
    bp,
    ONE + "/partners",
    "POST",
    status=201,
    body=schemas.PARTNER_ADD,
    response=schemas.PARTNER,
    summary="Ask an organization (by its id) to be partners: a PENDING request until its admin accepts "
    "(the same answer whether or not the id names one); an OPERATOR links at once (ACCEPTED)",
    errors=(404, 409, 422, 429),
)
def add_partner(call, org_id):
    return partners.add_partner(call.principal, org_id, call.body["partner_org_id"])


@endpoint(
    bp,
    ONE + "/partners/{partner_id}",
    "DELETE",
    summary="Remove a partner link (either side may)",
    status=204,
    errors=(404,),
)
def remove_partner(call, org_id, partner_id):
    partners.remove_partner(call.principal, org_id, partner_id)


REQUESTS = ONE + "/partner-requests"


@endpoint(
    bp,
    REQUESTS,
    "GET",
    summary="Pending partner requests: incoming ones name the asker, outgoing ones only the id asked",
    query=schemas.PARTNER_REQUEST_QUERY,
    response=schemas.paged(schemas.PARTNER),
    errors=(400, 404),
)
def list_partner_requests(call, org_id):
    return partners.list_partner_requests(
        call.principal,
        org_id,
        direction=call.query.get("direction"),
        limit=parse_limit(call.query.get("limit")),
        cursor=call.query.get("cursor"),
    )


@endpoint(
    bp,
    REQUESTS + "/{partner_id}/accept",
    "POST",
    summary="Accept an incoming partner request: both organizations become partners",
    response=schemas.PARTNER,
    errors=(404, 409),
)
def accept_partner_request(call, org_id, partner_id):
    return partners.accept_partner_request(call.principal, org_id, partner_id)


@endpoint(
    bp,
    REQUESTS + "/{partner_id}/decline",
    "POST",
    summary="Decline an incoming partner request",
    status=204,
    errors=(404, 409),
)
def decline_partner_request(call, org_id, partner_id):
    partners.decline_partner_request(call.principal, org_id, partner_id)


@endpoint(
    bp,
    REQUESTS + "/{partner_id}",
    "DELETE",
    summary="Withdraw an outgoing partner request",
    status=204,
    errors=(404, 409),
)
def cancel_partner_request(call, org_id, partner_id):
    partners.cancel_partner_request(call.principal, org_id, partner_id)
