"""Organizations: the tenant tree, whether two are partners, and the scope rule every service asks.

Partner links and the requests for them: chalicelib/services/tenants/partners.py."""

import functools
from typing import Any, Dict, List, Optional

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.models import OrganizationModel, PartnerModel
from chalicelib.paging import binding, page_chain
from chalicelib.permissions import ORGS_CREATE, ORGS_MANAGE, ORGS_READ, Principal, require
from chalicelib.security import new_id
from chalicelib.services.audit.record import record_event

MAX_MOVE = 99  # a move rewrites the subtree's paths in one transaction (100 items at most)


class OrgNotFound(NotFound):
    code, message = "org_not_found", "No such organization."


class OrgCycle(Conflict):
    code, message = "org_cycle", "An organization cannot be moved below itself or one of its descendants."


class OrgChanged(Conflict):
    code, message = "org_changed", "The organization tree changed meanwhile; reload and try again."


# No id of ours is longer (paths refuse longer ones too); DynamoDB refuses a key over 2 KB with an error, not None.
MAX_ORG_ID = 200


def get_org(org_id: str) -> Optional[OrganizationModel]:
    """The organization with this id, or None."""
    if len(org_id) > MAX_ORG_ID:
        return None
    try:
        return OrganizationModel.get(org_id, consistent_read=True)
    except DoesNotExist:
        return None


def in_scope(principal: Principal, org: Optional[OrganizationModel]) -> bool:
    """True when the organization is the principal's own or one of its descendants (operators: every one)."""
    if org is None:
        return False
    return principal.is_operator or OrganizationModel.path_holds(org.path, principal.org_id)


def org_in_scope(principal: Principal, org_id: Optional[str]) -> OrganizationModel:
    """The organization if it is within the principal's scope; OrgNotFound otherwise (unknown or foreign alike)."""
    org = get_org(org_id) if org_id else None
    if org is None or not in_scope(principal, org):
        raise OrgNotFound()
    return org


def org_id_in_scope(principal: Principal, org_id: Optional[str]) -> bool:
    """True when the organization with this id is within the principal's scope (operators: every one)."""
    return in_scope(principal, get_org(org_id) if org_id else None)


def is_partner(org_id: str, partner_org_id: str) -> bool:
    """True when the two organizations are linked as partners (accepted links only: requests live elsewhere)."""
    try:
        PartnerModel.get(org_id, partner_org_id)
        return True
    except DoesNotExist:
        return False


def org_view(org: OrganizationModel, relation: str = "tree") -> Dict[str, Any]:
    """An organization as the API shows it; partners show only who they are."""
    view = {"id": org.org_id, "name": org.name, "relation": relation}
    if relation == "partner":
        return view
    return {
        **view,
        "reference": org.reference,
        "parent_id": org.parent_id,
        "can_create_orgs": org.can_create_orgs,
        "prefix": org.prefix,
        "path": [part for part in (org.path or "").split("/") if part],
        "created_at": org.created_at.isoformat(),
    }


def read_org(principal: Principal, org_id: str) -> Dict[str, Any]:
    """One organization of the principal's tree, or a partner of its own organization."""
    org = get_org(org_id)
    if org is not None and in_scope(principal, org):
        require(principal, ORGS_READ)
        return org_view(org)
    if org is not None and is_partner(principal.org_id, org_id):
        require(principal, ORGS_READ)
        return org_view(org, "partner")
    raise OrgNotFound()


def list_orgs(
    principal: Principal,
    name: Optional[str] = None,
    parent_id: Optional[str] = None,
    limit: int = 50,
    cursor: Optional[str] = None,
) -> Dict[str, Any]:
    """The principal's organization, its descendants, then the partners of its organization (filtered, paged)."""
    own = org_in_scope(principal, principal.org_id)
    if parent_id:
        org_in_scope(principal, parent_id)
    require(principal, ORGS_READ)
    name_filter = OrganizationModel.name_lower.contains(name.lower()) if name else None
    if parent_id:
        queries = [functools.partial(OrganizationModel.parent_index.query, parent_id, None, name_filter)]
    else:
        queries = [
            functools.partial(
                OrganizationModel.tree_index.query, "orgs", OrganizationModel.path.startswith(own.path), name_filter
            ),
            functools.partial(PartnerModel.query, principal.org_id),
        ]
    items, next_cursor = page_chain(
        queries, limit, cursor, bound_to=binding(principal.user_id, "orgs", name=name, parent_id=parent_id)
    )
    views = []
    partners = [item.partner_org_id for item in items if isinstance(item, PartnerModel)]
    found = {org.org_id: org for org in OrganizationModel.batch_get(partners)} if partners else {}
    for item in items:
        if isinstance(item, OrganizationModel):
            views.append(org_view(item))
        elif item.partner_org_id in found and (not name or name.lower() in found[item.partner_org_id].name.lower()):
            views.append(org_view(found[item.partner_org_id], "partner"))
    return {"items": views, "next_cursor": next_cursor}


def create_org(principal: Principal, fields: Dict[str, Any]) -> Dict[str, Any]:
    """A sub-organization below the given parent (default: the principal's own organization)."""
    parent = org_in_scope(principal, fields.get("parent_id") or principal.org_id)
    own = org_in_scope(principal, principal.org_id)
    if not (principal.may(ORGS_MANAGE) or principal.may(ORGS_CREATE)):
        raise Forbidden("Creating organizations needs ORG_ADMIN or the permission orgs.create.")
    if not principal.is_operator and not own.can_create_orgs:
        raise Forbidden("Your organization may not create sub-organizations (can_create_orgs is off).")
    if fields.get("can_create_orgs") and not own.can_create_orgs:
        raise Forbidden("You cannot grant can_create_orgs.")
    now = clock.now()
    org_id = new_id("org")
    org = OrganizationModel(
        org_id,
        name=fields["name"],
        name_lower=fields["name"].lower(),
        reference=fields.get("reference"),
        parent_id=parent.org_id,
        path=OrganizationModel.path_of(parent.path, org_id),
        can_create_orgs=bool(fields.get("can_create_orgs")),
        prefix=fields.get("prefix"),
        created_at=now,
        created_by=principal.user_id,
        updated_at=now,
    )
    org.save(condition=OrganizationModel.org_id.does_not_exist())
    record_event(principal.user_id, "org_created", org_id, target=org_id, detail={"parent_id": parent.org_id})
    return org_view(org)


def update_org(principal: Principal, org_id: str, changes: Dict[str, Any]) -> Dict[str, Any]:
    """Change name, reference, prefix, can_create_orgs, or move the organization to another parent."""
    org = org_in_scope(principal, org_id)
    require(principal, ORGS_MANAGE)
    if (
        org.org_id == principal.org_id
        and not principal.is_operator
        and ("parent_id" in changes or changes.get("can_create_orgs") is not None)
    ):
        raise Forbidden("Your own organization's place and rights are set from above.")
    if changes.get("can_create_orgs") and not (
        principal.is_operator or org_in_scope(principal, principal.org_id).can_create_orgs
    ):
        raise Forbidden("You cannot grant can_create_orgs.")
    if "parent_id" in changes and changes["parent_id"] != org.parent_id:
        _move(principal, org, changes["parent_id"])
    simple = {key: value for key, value in changes.items() if key in ("name", "reference", "prefix", "can_create_orgs")}
    if simple:
        actions = [getattr(OrganizationModel, key).set(value) for key, value in simple.items()]
        if "name" in simple:
            actions.append(OrganizationModel.name_lower.set(simple["name"].lower()))
        org.update(actions=actions + [OrganizationModel.updated_at.set(clock.now())])
    record_event(principal.user_id, "org_changed", org.org_id, target=org.org_id, detail={"fields": sorted(changes)})
    org.refresh(consistent_read=True)
    return org_view(org)


def _move(principal: Principal, org: OrganizationModel, new_parent_id: Optional[str]) -> None:
    if not new_parent_id:
        raise ValidationFailed("parent_id: an organization needs a parent.")
    new_parent = org_in_scope(principal, new_parent_id)
    if new_parent.path.startswith(org.path):
        raise OrgCycle()
    subtree = list(
        OrganizationModel.tree_index.query("orgs", OrganizationModel.path.startswith(org.path), limit=MAX_MOVE + 1)
    )
    if len(subtree) > MAX_MOVE:
        raise Conflict(f"Moving more than {MAX_MOVE} organizations at once is not supported.")
    new_path = OrganizationModel.path_of(new_parent.path, org.org_id)
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            # The new parent must still sit where we saw it: a concurrent move could otherwise make a cycle.
            transaction.condition_check(
                OrganizationModel, new_parent.org_id, condition=OrganizationModel.path == new_parent.path
            )
            for member in subtree:
                actions: List[Action] = [OrganizationModel.path.set(new_path + member.path[len(org.path) :])]
                if member.org_id == org.org_id:
                    actions.append(OrganizationModel.parent_id.set(new_parent.org_id))
                transaction.update(member, actions=actions, condition=OrganizationModel.path == member.path)
    except TransactWriteError:
        raise OrgChanged() from None
    record_event(
        principal.user_id,
        "org_moved",
        org.org_id,
        target=org.org_id,
        detail={"from": org.parent_id, "to": new_parent.org_id, "subtree": len(subtree)},
    )


def descendant_org_ids(principal: Principal) -> List[str]:
    """Ids of the principal's organization and its descendants (for lists spanning the scope)."""
    own = org_in_scope(principal, principal.org_id)
    return [
        org.org_id for org in OrganizationModel.tree_index.query("orgs", OrganizationModel.path.startswith(own.path))
    ]


def listed_org_ids(principal: Principal, org_id: Optional[str]) -> List[str]:
    """The organizations a list covers: the one asked for (if in scope, else OrgNotFound), or the whole scope."""
    return [org_in_scope(principal, org_id).org_id] if org_id else descendant_org_ids(principal)
