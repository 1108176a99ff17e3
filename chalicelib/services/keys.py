"""Key downloads: one claimed device's keys, or every claimed device in scope as a CSV or JSON file.

Plaintext keys exist only in the answer being built: never logged, cached or put into an error.
"""
import csv
import functools
import io
import json
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional

from chalicelib import crypto
from chalicelib.errors import Conflict, DomainError, Forbidden
from chalicelib.models import DeviceLabelModel, DeviceModel
from chalicelib.paging import page_chain
from chalicelib.permissions import KEYS_DOWNLOAD, Principal
from chalicelib.services.audit import record_event
from chalicelib.services.devices import DeviceNotFound, FilterNotIndexed, get_device, owner_side, read_devices
from chalicelib.services.orgs import listed_org_ids
from chalicelib.services.users import get_user

MAX_DOWNLOAD_DEVICES = 5_000  # API Gateway: 29 s and 6 MB per answer; more goes through exports
CSV_COLUMNS = ("serial", "product_type", "key_name", "algorithm", "key_hex")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class DeviceUnclaimed(Conflict):
    code, message = "device_unclaimed", "Keys are handed out only for CLAIMED devices."


class TooManyDevices(DomainError):
    status, code = 413, "too_many_devices"


def device_keys(principal: Principal, serial: str) -> Dict[str, Any]:
    """The keys of one CLAIMED device the actor's organization owns (ORG_ADMIN, KEY_MANAGER, OPERATOR)."""
    try:
        device = get_device(serial)
        if not owner_side(principal, device):
            raise DeviceNotFound()
        if not principal.may(KEYS_DOWNLOAD):
            raise Forbidden("Your roles do not allow key downloads.")
        if device.claim_status != "CLAIMED":
            raise DeviceUnclaimed()
    except DomainError as refusal:
        _audit(principal, "keys_download_refused", None, {"format": "json", "serial": serial[:64],
                                                          "reason": refusal.code, "count": 0})
        raise
    keys = crypto.unwrap(device.serial, device.import_id, device.wrapped_keys)
    _audit(principal, "keys_downloaded", device.owner_org_id, {"format": "json", "serial": serial, "count": 1})
    return {"serial": device.serial, "product_type": device.product_type, "keys": keys}


def download_keys(principal: Principal, file_format: str, filters: Dict[str, str],
                  org_id: Optional[str] = None) -> Dict[str, Any]:
    """Every CLAIMED device in scope matching the catalog filters, as a file: {filename, media_type, body}."""
    detail = {"format": file_format, "filter": {**filters, **({"org_id": org_id} if org_id else {})}}
    try:
        org_ids = listed_org_ids(principal, org_id)
        if not principal.may(KEYS_DOWNLOAD):
            raise Forbidden("Your roles do not allow key downloads.")
        devices = _claimed_devices(principal, org_ids, filters)
    except DomainError as refusal:
        _audit(principal, "keys_download_refused", org_id, {**detail, "reason": refusal.code, "count": 0})
        raise
    rows = [(device, crypto.unwrap(device.serial, device.import_id, device.wrapped_keys)) for device in devices]
    owner = org_id or principal.org_id
    _audit(principal, "keys_downloaded", owner, {**detail, "count": len(rows)})
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    if file_format == "json":
        body = json.dumps({"devices": [{"serial": d.serial, "product_type": d.product_type, "keys": keys}
                                       for d, keys in rows]}, separators=(",", ":"))
        return {"filename": f"keys-{owner}-{stamp}.json", "media_type": "application/json", "body": body}
    user = get_user(principal.user_id)
    return {"filename": f"keys-{owner}-{stamp}.csv", "media_type": "text/csv; charset=utf-8",
            "body": keys_csv(rows, user.csv_delimiter if user else ";")}


def keys_csv(rows: List[tuple], delimiter: str) -> str:
    """A header row, then one row per key; cells that a spreadsheet would run as a formula are quoted out."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for device, keys in rows:
        for key in keys:
            writer.writerow([_cell(value) for value in (device.serial, device.product_type, key["name"],
                                                          key["algorithm"], key["hex"])])
    return out.getvalue()


def _cell(value: str) -> str:
    return "'" + value if value and value.startswith(FORMULA_STARTS) else value


def _claimed_devices(principal: Principal, org_ids: List[str], filters: Dict[str, str]) -> List[DeviceModel]:
    """Up to MAX_DOWNLOAD_DEVICES claimed devices (full items, blobs included); TooManyDevices beyond."""
    indexed = [name for name in ("claim_status", "product_type", "batch_id", "label") if filters.get(name)]
    if len(indexed) > 1:
        raise FilterNotIndexed()
    if filters.get("claim_status") not in (None, "CLAIMED"):
        return []
    in_scope = set(org_ids)
    found = [device for device in _matching(org_ids, indexed[0] if indexed else None, filters)
             if device.owner_org_id in in_scope and device.claim_status == "CLAIMED"
             and (not principal.site_limited or device.site_id in principal.site_ids)]
    if len(found) > MAX_DOWNLOAD_DEVICES:
        raise TooManyDevices(f"A download holds at most {MAX_DOWNLOAD_DEVICES:,} devices; ask for the file on the "
                             "download list instead (POST /exports), or narrow the filters.")
    return read_devices([device.serial for device in found])


def _matching(org_ids: List[str], name: Optional[str], filters: Dict[str, str]) -> Iterator[DeviceModel]:
    """Index reads (never a scan), stopping one device past the download limit."""
    prefix = filters.get("serial")
    condition = DeviceModel.serial.startswith(prefix) if prefix else None
    if name == "label":
        entries = DeviceLabelModel.query(filters["label"], DeviceLabelModel.serial.startswith(prefix) if prefix else None)
        serials = [entry.serial for _, entry in zip(range(MAX_DOWNLOAD_DEVICES * 4), entries)]
        yield from read_devices(serials)
        return
    if name == "batch_id":
        queries = [functools.partial(DeviceModel.batch_index.query, filters["batch_id"], condition)]
    elif name == "product_type":
        queries = [functools.partial(DeviceModel.owner_product_index.query, f"{org}#{filters['product_type']}",
                                     condition) for org in org_ids]
    else:
        queries = [functools.partial(DeviceModel.owner_status_index.query, f"{org}#CLAIMED", condition)
                   for org in org_ids]
    items, _cursor = page_chain(queries, MAX_DOWNLOAD_DEVICES + 1, None)
    yield from items


def _audit(principal: Principal, action: str, org_id: Optional[str], detail: Dict[str, Any]) -> None:
    record_event(principal.user_id, action, org_id or principal.org_id, target=detail.get("serial"), detail=detail)
