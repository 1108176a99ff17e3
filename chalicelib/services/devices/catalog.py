"""The device catalog: what a maker imported and what an organization owns; who sees and edits which device."""

import functools
from typing import Any, Callable, Dict, List, Optional, Sequence

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.errors import BadRequest, Forbidden, NotFound, Unprocessable, ValidationFailed
from chalicelib.fields import iso_time
from chalicelib.models import BatchModel, DeviceLabelModel, DeviceModel, SiteModel
from chalicelib.paging import binding, page_chain
from chalicelib.permissions import CATALOG_READ, DEVICES_CLAIM, DEVICES_IMPORT, Principal
from chalicelib.security import keyed_digest
from chalicelib.services.audit.record import record_event
from chalicelib.services.devices.import_rows import RowInvalid, parse_labels
from chalicelib.services.tenants.orgs import get_org, in_scope, listed_org_ids

CLAIM_STATUSES = ("UNCLAIMED", "PENDING", "CLAIMED")
VIEWS = ("owned", "imported")
INDEXED_FILTERS = ("claim_status", "product_type", "batch_id", "label")  # each served by its own index


class DeviceNotFound(NotFound):
    code, message = "device_not_found", "No such device."


class FilterNotIndexed(BadRequest):
    code = "filter_not_indexed"
    message = (
        "Filter by at most one of claim_status, product_type, batch_id and label (each combines with a serial "
        "prefix): no index serves the combination, and the catalog is never scanned."
    )


def indexed_filter(filters: Dict[str, str]) -> Optional[str]:
    """The one filter of INDEXED_FILTERS given (None: at most a serial prefix); FilterNotIndexed for two or more,
    since the catalog (and a key file's selection) is read from one index, never scanned."""
    named = [name for name in INDEXED_FILTERS if filters.get(name)]
    if len(named) > 1:
        raise FilterNotIndexed()
    return named[0] if named else None


def id_proof(id_code: str, mac: str) -> str:
    """The lookup hash of an ID code and MAC pair (normalized): HMAC-SHA256 under the server secret."""
    return keyed_digest("device-id-proof", id_code, mac)


def claim_code_digest(serial: str, claim_code: str) -> str:
    """The stored form of a claim code, bound to its device: HMAC-SHA256 under the server secret."""
    return keyed_digest("device-claim-code", serial, claim_code)


def device_view(device: DeviceModel, for_maker: bool = False) -> Dict[str, Any]:
    """A device as the API shows it: never its keys, claim code or ID code. The maker also sees every past
    owner that could read the keys (keys_exposed_to)."""
    view = {
        "serial": device.serial,
        "product_type": device.product_type,
        "mac": device.mac,
        "labels": list(device.labels or []),
        "batch_id": device.batch_id,
        "owner_org_id": device.owner_org_id,
        "maker_org_id": device.maker_org_id,
        "claim_status": device.claim_status,
        "claimed_at": iso_time(device.claimed_at),
        "site_id": device.site_id,
        "key_names": list(device.key_names or []),
        "claim_valid_from": iso_time(device.claim_valid_from),
        "claim_valid_to": iso_time(device.claim_valid_to),
        "imported_at": iso_time(device.imported_at),
    }
    if for_maker:
        view["keys_exposed_to"] = list(device.keys_exposed_to or [])
    return view


def _maker_side(principal: Principal, device: DeviceModel) -> bool:
    """The device was imported by an organization in scope (site-limited principals see only owned devices)."""
    return not principal.site_limited and in_scope(principal, get_org(device.maker_org_id))


def owner_side(principal: Principal, device: DeviceModel) -> bool:
    """The device is owned by an organization in scope (for a SITE_ADMIN: and stands on one of its sites)."""
    if not device.owner_org_id or (principal.site_limited and device.site_id not in principal.site_ids):
        return False
    return in_scope(principal, get_org(device.owner_org_id))


def get_device(serial: str) -> DeviceModel:
    """The device with this serial; DeviceNotFound otherwise."""
    try:
        return DeviceModel.get(serial, consistent_read=True)
    except DoesNotExist:
        raise DeviceNotFound() from None


def read_devices(serials: List[str], attributes: Optional[List[str]] = None) -> List[DeviceModel]:
    """The devices with these serials that exist, in the given order (BatchGet, 100 keys a call, consistent;
    only the named attributes when given)."""
    found: Dict[str, DeviceModel] = {}
    for start in range(0, len(serials), 100):
        for device in DeviceModel.batch_get(
            serials[start : start + 100], consistent_read=True, attributes_to_get=attributes
        ):
            found[device.serial] = device
    return [found[serial] for serial in serials if serial in found]


def visible_device(principal: Principal, serial: str) -> DeviceModel:
    """The device if an organization in scope made it or owns it; DeviceNotFound otherwise (unknown alike)."""
    device = get_device(serial)
    if not (owner_side(principal, device) or _maker_side(principal, device)):
        raise DeviceNotFound()
    return device


def read_device(principal: Principal, serial: str) -> Dict[str, Any]:
    """One device of the actor's catalog."""
    device = visible_device(principal, serial)
    if not (principal.may(CATALOG_READ) or (_maker_side(principal, device) and principal.may(DEVICES_IMPORT))):
        raise Forbidden("Your roles do not allow reading the catalog.")
    return device_view(device, for_maker=_maker_side(principal, device))


def default_view(principal: Principal) -> str:
    """Makers (and operators) list what they imported by default; everybody else what they own."""
    return "imported" if principal.may(DEVICES_IMPORT) else "owned"


def list_devices(
    principal: Principal,
    filters: Dict[str, str],
    view: Optional[str] = None,
    org_id: Optional[str] = None,
    limit: int = 50,
    cursor: Optional[str] = None,
) -> Dict[str, Any]:
    """One page of the catalog in scope, each filter served by one index (see `_plan`); never a scan."""
    view = view or default_view(principal)
    org_ids = listed_org_ids(principal, org_id)
    if view == "imported":
        allowed = not principal.site_limited and (principal.may(DEVICES_IMPORT) or principal.may(CATALOG_READ))
    else:
        allowed = principal.may(CATALOG_READ)
    if not allowed:
        raise Forbidden("Your roles do not allow reading this catalog.")
    prefix = filters.get("serial") or None
    indexed = indexed_filter(filters)
    bound_to = binding(principal.user_id, "devices", view=view, org_id=org_id, filters=filters)
    visible = functools.partial(_visible_in_list, principal, view, set(org_ids))
    if indexed in ("batch_id", "label"):
        if indexed == "batch_id" and not _batch_in_scope(principal, filters["batch_id"]):
            return {"items": [], "next_cursor": None}  # no query, so no cursor to tell anything by
        items, next_cursor = _page_outside_org_indexes(
            indexed, filters[indexed], prefix, limit, cursor, bound_to, visible
        )
    else:
        queries = [_org_query(view, indexed, filters, org, prefix) for org in org_ids]
        # A SITE_ADMIN's organization holds devices of other sites: kept out of its pages and its cursors.
        select = _select(visible) if view == "owned" and principal.site_limited else None
        items, next_cursor = page_chain(queries, limit, cursor, bound_to=bound_to, select=select)
    return {
        "items": [device_view(device, for_maker=view == "imported") for device in items],
        "next_cursor": next_cursor,
    }


def _serial_condition(prefix: Optional[str]) -> Optional[Condition]:
    return DeviceModel.serial.startswith(prefix) if prefix else None


def _org_query(
    view: str, filter_name: Optional[str], filters: Dict[str, str], org_id: str, prefix: Optional[str]
) -> Callable[..., Any]:
    """The index query serving one organization's catalog: `<side>_index` without a filter, else
    `<side>_status_index` (claim_status) or `<side>_product_index` (product_type); side = maker | owner."""
    side = "maker" if view == "imported" else "owner"
    if filter_name is None:
        index, hash_key = getattr(DeviceModel, f"{side}_index"), org_id
    else:
        kind = {"claim_status": "status", "product_type": "product"}[filter_name]
        index = getattr(DeviceModel, f"{side}_{kind}_index")
        hash_key = DeviceModel.catalog_key(org_id, filters[filter_name])
    return functools.partial(index.query, hash_key, _serial_condition(prefix))


def _batch_in_scope(principal: Principal, batch_id: str) -> bool:
    """The batch exists and was made by or for an organization in scope (checked before its index is read)."""
    try:
        batch = BatchModel.get(batch_id, consistent_read=True)
    except DoesNotExist:
        return False
    return any(in_scope(principal, get_org(org)) for org in (batch.org_id, batch.target_org_id))


def _select(visible: Callable[[DeviceModel], bool]) -> Callable[[List[DeviceModel]], List[tuple]]:
    return lambda devices: [(device, device) for device in devices if visible(device)]


def _page_outside_org_indexes(
    name: str,
    value: str,
    prefix: Optional[str],
    limit: int,
    cursor: Optional[str],
    bound_to: str,
    visible: Callable[[DeviceModel], bool],
) -> tuple:
    """batch_id: the batch_index; label: the device_labels table then one BatchGet a chunk. Both span
    organizations, so only the devices in scope make the page and the cursor (see paging.page_chain)."""
    if name == "batch_id":
        return page_chain(
            [functools.partial(DeviceModel.batch_index.query, value, _serial_condition(prefix))],
            limit,
            cursor,
            bound_to=bound_to,
            select=_select(visible),
        )

    def select(entries: List[DeviceLabelModel]) -> List[tuple]:
        devices = {device.serial: device for device in read_devices([entry.serial for entry in entries])}
        return [
            (entry, devices[entry.serial])
            for entry in entries
            if entry.serial in devices and visible(devices[entry.serial])
        ]

    condition = DeviceLabelModel.serial.startswith(prefix) if prefix else None
    return page_chain(
        [functools.partial(DeviceLabelModel.query, value, condition)], limit, cursor, bound_to=bound_to, select=select
    )


def _visible_in_list(principal: Principal, view: str, org_ids: set, device: DeviceModel) -> bool:
    """The device belongs to this list: made (imported view) or owned (owned view) by an organization listed,
    and for a SITE_ADMIN's owned view, on one of its sites."""
    if (device.maker_org_id if view == "imported" else device.owner_org_id) not in org_ids:
        return False
    return not (view == "owned" and principal.site_limited and device.site_id not in principal.site_ids)


def update_device(principal: Principal, serial: str, changes: Dict[str, Any]) -> Dict[str, Any]:
    """Labels (the maker or the owner's admins) and site (the owner's admins, a site of the owner)."""
    device = visible_device(principal, serial)
    as_owner = owner_side(principal, device) and principal.may(DEVICES_CLAIM)
    as_maker = _maker_side(principal, device) and principal.may(DEVICES_IMPORT)
    if not (as_owner or (as_maker and set(changes) <= {"labels"})):
        raise Forbidden(
            "Only the owner's administrators change this device"
            + ("; the maker changes its labels." if as_maker else ".")
        )
    actions: List[Action] = [DeviceModel.updated_at.set(clock.now())]
    if "site_id" in changes:
        actions.append(_site_action(principal, device, changes["site_id"]))
    old_labels = list(device.labels or [])
    if "labels" in changes:
        try:
            new_labels = parse_labels(changes["labels"])
        except RowInvalid as problem:
            raise ValidationFailed(f"Invalid request: labels: {problem}.") from None
        actions.append(DeviceModel.labels.set(new_labels))
    else:
        new_labels = old_labels
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.update(device, actions=actions, condition=DeviceModel.serial.exists())
            for label in set(old_labels) - set(new_labels):
                transaction.delete(DeviceLabelModel(label, serial))
            # Every current label, not only the new ones: a label row lost earlier (an import that crashed
            # before labels came with devices) is written again, so a PATCH repairs what label filters miss.
            for label in new_labels:
                transaction.save(DeviceLabelModel(label, serial))
    except TransactWriteError:
        raise DeviceNotFound() from None
    record_event(
        principal.user_id,
        "device_changed",
        device.owner_org_id or device.maker_org_id,
        target=serial,
        detail={"fields": sorted(changes)},
    )
    return device_view(get_device(serial))


class SiteNotOfOwner(Unprocessable):
    code, message = "site_not_of_owner", "The site must be one of the owning organization's sites."


def _site_action(principal: Principal, device: DeviceModel, site_id: Optional[str]) -> Action:
    if principal.site_limited and site_id not in principal.site_ids:
        raise SiteNotOfOwner("A SITE_ADMIN moves devices only between its own sites.")
    if site_id is None:
        return DeviceModel.site_id.remove()
    try:
        site = SiteModel.get(site_id, consistent_read=True)
    except DoesNotExist:
        raise SiteNotOfOwner() from None
    if site.org_id != device.owner_org_id:
        raise SiteNotOfOwner()
    return DeviceModel.site_id.set(site_id)


def plan_description() -> Sequence[str]:
    """Which index serves which filter (shown in the OpenAPI description of GET /devices)."""
    return (
        "no filter or serial prefix: maker_index / owner_index (hash org, range serial)",
        "claim_status: maker_status_index / owner_status_index (hash '<org>#<status>', range serial)",
        "product_type: maker_product_index / owner_product_index (hash '<org>#<product_type>', range serial)",
        "batch_id: batch_index (hash batch_id, range serial), kept to the scope",
        "label: the device_labels table (hash label, range serial) and one BatchGet, kept to the scope",
    )
