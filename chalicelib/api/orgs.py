"""Routes of organizations and their partner links."""
from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.api.http import endpoint
from chalicelib.paging import parse_limit
from chalicelib.services import orgs

bp = Blueprint(__name__)
ONE = "/orgs/{org_id}"


@endpoint(bp, "/orgs", "GET", summary="The own organization, its descendants, then partners",
          query=schemas.ORG_QUERY, response=schemas.paged(schemas.ORG), errors=(400, 404))
def list_orgs(call):
    return orgs.list_orgs(call.principal, name=call.query.get("name"), parent_id=call.query.get("parent_id"),
                          limit=parse_limit(call.query.get("limit")), cursor=call.query.get("cursor"))


@endpoint(bp, "/orgs", "POST", summary="Create a sub-organization", status=201, body=schemas.ORG_CREATE,
          response=schemas.ORG, errors=(404,))
def create_org(call):
    return orgs.create_org(call.principal, call.body)


@endpoint(bp, ONE, "GET", summary="One organization", response=schemas.ORG, errors=(404,))
def get_org(call, org_id):
    return orgs.read_org(call.principal, org_id)


@endpoint(bp, ONE, "PATCH", summary="Change or move an organization", body=schemas.ORG_PATCH, response=schemas.ORG,
          errors=(404, 409))
def patch_org(call, org_id):
    return orgs.update_org(call.principal, org_id, call.body)


@endpoint(bp, ONE + "/partners", "GET", summary="Partner links of an organization", query=schemas.PAGING_QUERY,
          response=schemas.paged(schemas.PARTNER), errors=(400, 404))
def list_partners(call, org_id):
    return orgs.list_partners(call.principal, org_id, limit=parse_limit(call.query.get("limit")),
                              cursor=call.query.get("cursor"))


@endpoint(bp, ONE + "/partners", "POST", summary="Link a partner organization by its id", status=201,
          body=schemas.PARTNER_ADD, response=schemas.PARTNER, errors=(404,))
def add_partner(call, org_id):
    return orgs.add_partner(call.principal, org_id, call.body["partner_org_id"])


@endpoint(bp, ONE + "/partners/{partner_id}", "DELETE", summary="Remove a partner link", status=204, errors=(404,))
def remove_partner(call, org_id, partner_id):
    orgs.remove_partner(call.principal, org_id, partner_id)
