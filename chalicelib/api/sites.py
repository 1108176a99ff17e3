"""Routes of sites (locations)."""

from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.api.http import endpoint
from chalicelib.paging import parse_limit
from chalicelib.services.tenants import sites

bp = Blueprint(__name__)
ONE = "/sites/{site_id}"


@endpoint(
    bp,
    "/sites",
    "GET",
    summary="Sites in scope",
    query=schemas.SITE_QUERY,
    response=schemas.paged(schemas.SITE),
    errors=(400, 404),
)
def list_sites(call):
    return sites.list_sites(
        call.principal,
        org_id=call.query.get("org_id"),
        limit=parse_limit(call.query.get("limit")),
        cursor=call.query.get("cursor"),
    )


@endpoint(
    bp,
    "/sites",
    "POST",
    summary="Create a site",
    status=201,
    body=schemas.SITE_CREATE,
    response=schemas.SITE,
    errors=(404,),
)
def create_site(call):
    return sites.create_site(call.principal, call.body)


@endpoint(bp, ONE, "GET", summary="One site", response=schemas.SITE, errors=(404,))
def get_site(call, site_id):
    return sites.read_site(call.principal, site_id)


@endpoint(bp, ONE, "PATCH", summary="Change a site", body=schemas.SITE_PATCH, response=schemas.SITE, errors=(404,))
def patch_site(call, site_id):
    return sites.update_site(call.principal, site_id, call.body)


@endpoint(bp, ONE, "DELETE", summary="Delete a site", status=204, errors=(404,))
def delete_site(call, site_id):
    sites.delete_site(call.principal, site_id)
