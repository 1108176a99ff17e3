"""Sites: the locations of an organization (what SITE_ADMIN scope, devices and portal access refer to)."""

import functools
from typing import Any, Dict, Optional

from pynamodb.exceptions import DoesNotExist

from chalicelib import clock
from chalicelib.errors import Forbidden, NotFound
from chalicelib.models import SiteModel
from chalicelib.paging import binding, page_chain
from chalicelib.permissions import SITES_MANAGE, SITES_READ, Principal, require
from chalicelib.security import new_id
from chalicelib.services.audit.record import record_event
from chalicelib.services.tenants.orgs import listed_org_ids, org_id_in_scope, org_in_scope


class SiteNotFound(NotFound):
    code, message = "site_not_found", "No such site."


def site_view(site: SiteModel) -> Dict[str, Any]:
    """A site as the API shows it."""
    return {
        "id": site.site_id,
        "org_id": site.org_id,
        "name": site.name,
        "address": site.address,
        "created_at": site.created_at.isoformat(),
    }


def _visible(principal: Principal, site_id: str) -> SiteModel:
    try:
        site = SiteModel.get(site_id, consistent_read=True)
    except DoesNotExist:
        raise SiteNotFound() from None
    if not org_id_in_scope(principal, site.org_id) or (principal.site_limited and site_id not in principal.site_ids):
        raise SiteNotFound()
    return site


def list_sites(
    principal: Principal, org_id: Optional[str] = None, limit: int = 50, cursor: Optional[str] = None
) -> Dict[str, Any]:
    """Sites of one organization in scope, or of the whole scope; a SITE_ADMIN sees its own sites."""
    org_ids = listed_org_ids(principal, org_id)
    require(principal, SITES_READ)
    queries = [functools.partial(SiteModel.org_index.query, each) for each in org_ids]
    # A SITE_ADMIN's organization holds other sites: kept out of its pages and its cursors.
    select = (
        (lambda sites: [(site, site) for site in sites if site.site_id in principal.site_ids])
        if principal.site_limited
        else None
    )
    items, next_cursor = page_chain(
        queries, limit, cursor, select=select, bound_to=binding(principal.user_id, "sites", org_id=org_id)
    )
    return {"items": [site_view(site) for site in items], "next_cursor": next_cursor}


def read_site(principal: Principal, site_id: str) -> Dict[str, Any]:
    """One site in scope."""
    site = _visible(principal, site_id)
    require(principal, SITES_READ)
    return site_view(site)


def create_site(principal: Principal, fields: Dict[str, Any]) -> Dict[str, Any]:
    """A new site of an organization in scope (not for SITE_ADMINs: their sites are given to them)."""
    org = org_in_scope(principal, fields.get("org_id") or principal.org_id)
    require(principal, SITES_MANAGE)
    if principal.site_limited:
        raise Forbidden("A SITE_ADMIN manages the sites it was given and creates no new ones.")
    site = SiteModel(
        new_id("site"),
        org_id=org.org_id,
        name=fields["name"],
        address=fields.get("address"),
        created_at=clock.now(),
        created_by=principal.user_id,
    )
    site.save(condition=SiteModel.site_id.does_not_exist())
    record_event(principal.user_id, "site_created", org.org_id, target=site.site_id)
    return site_view(site)


def update_site(principal: Principal, site_id: str, changes: Dict[str, Any]) -> Dict[str, Any]:
    """Rename a site or change its address."""
    site = _visible(principal, site_id)
    require(principal, SITES_MANAGE)
    actions = [getattr(SiteModel, key).set(value) for key, value in changes.items() if key in ("name", "address")]
    if actions:
        site.update(actions=actions, condition=SiteModel.site_id.exists())
    record_event(principal.user_id, "site_changed", site.org_id, target=site_id, detail={"fields": sorted(changes)})
    return site_view(site)


def delete_site(principal: Principal, site_id: str) -> None:
    """Delete a site."""
    site = _visible(principal, site_id)
    require(principal, SITES_MANAGE)
    if principal.site_limited:
        raise Forbidden("A SITE_ADMIN cannot delete the sites it was given.")
    site.delete()
    record_event(principal.user_id, "site_deleted", site.org_id, target=site_id)
