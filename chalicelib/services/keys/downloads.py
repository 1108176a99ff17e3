"""Key downloads: one claimed device's keys, or every claimed device in scope as a CSV, JSON or JWE file.

Plaintext keys exist only in the answer being built: never logged, cached or put into an error.
"""

import contextlib
import functools
import itertools
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Deque, Dict, Iterable, Iterator, List, Optional, Tuple

from chalicelib import clock, crypto
from chalicelib.errors import Conflict, DomainError, Forbidden, TooLarge
from chalicelib.models import DeviceLabelModel, DeviceModel
from chalicelib.observability import count_metric
from chalicelib.permissions import KEYS_DOWNLOAD, Principal
from chalicelib.services.audit.record import record_event
from chalicelib.services.devices.catalog import (
    DeviceNotFound,
    get_device,
    indexed_filter,
    owner_side,
    read_devices,
)
from chalicelib.services.keys import files as key_files
from chalicelib.services.tenants.orgs import listed_org_ids
from chalicelib.services.tenants.users import get_user

MAX_DOWNLOAD_DEVICES = 5_000  # API Gateway: 29 s and 6 MB per answer; more goes through exports
READ_CHUNK = 100  # one BatchGetItem
READERS = 4  # BatchGets in flight while the keys already read are unwrapped
# What deciding and writing a key file needs: reading less makes a big export markedly faster (parsing dominates).
SCOPE_ATTRIBUTES = ["serial", "claim_status", "owner_org_id", "site_id"]
FILE_ATTRIBUTES = SCOPE_ATTRIBUTES + ["product_type", "import_id", "wrapped_keys"]


class DeviceUnclaimed(Conflict):
    code, message = "device_unclaimed", "Keys are handed out only for CLAIMED devices."


class TooManyDevices(TooLarge):
    code = "too_many_devices"


def device_keys(principal: Principal, serial: str) -> Dict[str, Any]:
    """The keys of one CLAIMED device the actor's organization owns (ORG_ADMIN, KEY_MANAGER, OPERATOR)."""
    with refusals_audited(principal, None, {"format": "json", "serial": serial[:64]}):
        device = get_device(serial)
        if not owner_side(principal, device):
            raise DeviceNotFound()
        if not principal.may(KEYS_DOWNLOAD):
            raise Forbidden("Your roles do not allow key downloads.")
        if device.claim_status != "CLAIMED":
            raise DeviceUnclaimed()
    keys = crypto.unwrap(device.serial, device.import_id, device.wrapped_keys)
    audit_download(principal, "keys_downloaded", device.owner_org_id, {"format": "json", "serial": serial, "count": 1})
    return {"serial": device.serial, "product_type": device.product_type, "keys": keys}


def download_keys(
    principal: Principal,
    file_format: str,
    filters: Dict[str, str],
    org_id: Optional[str] = None,
    recipient_jwk: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Every CLAIMED device in scope matching the catalog filters, as a file: {file_name, media_type, body}."""
    detail = download_detail(file_format, filters, org_id)
    with refusals_audited(principal, org_id, detail):
        recipient, selection = check_download(principal, file_format, filters, org_id, recipient_jwk)
        found = list(itertools.islice(selection.candidates(), MAX_DOWNLOAD_DEVICES + 1))
        if len(found) > MAX_DOWNLOAD_DEVICES:
            raise TooManyDevices(
                f"A download holds at most {MAX_DOWNLOAD_DEVICES:,} devices; ask for the file on "
                "the download list instead (POST /exports), or narrow the filters."
            )
    rows = list(selection.with_keys(found))
    owner = org_id or principal.org_id
    audit_download(principal, "keys_downloaded", owner, {**detail, "count": len(rows)})
    if file_format == "csv":
        user = get_user(principal.user_id)
        body = key_files.render_keys(rows, "csv", user.csv_delimiter if user else ";")
    else:
        body = key_files.render_keys(rows, "json")
    if recipient:
        body = key_files.seal(body.encode(), recipient, "application/json")
    return {
        "file_name": download_name(owner, file_format),
        "media_type": key_files.MEDIA_TYPES[file_format],
        "body": body,
    }


def check_download(
    principal: Principal,
    file_format: str,
    filters: Dict[str, str],
    org_id: Optional[str],
    recipient_jwk: Optional[Dict[str, Any]],
) -> Tuple[Optional[Dict[str, Any]], "Selection"]:
    """Authorize a bulk download: (the recipient key of a jwe file or None, the Selection)."""
    org_ids = listed_org_ids(principal, org_id)
    if not principal.may(KEYS_DOWNLOAD):
        raise Forbidden("Your roles do not allow key downloads.")
    recipient = None
    if file_format == "jwe":
        user = get_user(principal.user_id)
        recipient = key_files.choose_recipient(recipient_jwk, user.recipient_jwk if user else None)
    return recipient, Selection(principal, org_ids, filters)


def download_detail(file_format: str, filters: Dict[str, str], org_id: Optional[str]) -> Dict[str, Any]:
    """What the audit events of a bulk download say of it: format and filter (org_id included when named)."""
    return {"format": file_format, "filter": {**filters, **({"org_id": org_id} if org_id else {})}}


@contextlib.contextmanager
def refusals_audited(principal: Principal, org_id: Optional[str], detail: Dict[str, Any]) -> Iterator[None]:
    """A domain error raised inside is audited as keys_download_refused (with its code) and raised on."""
    try:
        yield
    except DomainError as refusal:
        audit_download(principal, "keys_download_refused", org_id, {**detail, "reason": refusal.code, "count": 0})
        raise


def download_name(org_id: str, file_format: str) -> str:
    """keys-<org>-<date>.<ext>"""
    stamp = clock.now().strftime("%Y-%m-%d")
    return f"keys-{org_id}-{stamp}.{key_files.EXTENSIONS[file_format]}"


class Selection:
    """The CLAIMED devices of some organizations (and of a SITE_ADMIN's sites) matching the catalog filters."""

    def __init__(self, principal: Principal, org_ids: List[str], filters: Dict[str, str]):
        index = indexed_filter(filters)
        self.principal, self.in_scope, self.filters = principal, set(org_ids), filters
        self.org_ids, self.index = org_ids, index

    def keeps(self, device: DeviceModel) -> bool:
        """True for a CLAIMED device of the scope."""
        return (
            device.claim_status == "CLAIMED"
            and device.owner_org_id in self.in_scope
            and (not self.principal.site_limited or device.site_id in self.principal.site_ids)
        )

    def candidates(self) -> Iterator[DeviceModel]:
        """Index items that match, read lazily from the one index serving the filter (never a scan)."""
        if self.filters.get("claim_status") not in (None, "CLAIMED"):
            return iter(())
        return (device for device in _matching(self.org_ids, self.index, self.filters) if self.keeps(device))

    def with_keys(self, candidates: Iterable[DeviceModel]) -> Iterator[tuple]:
        """(device, plaintext keys) in candidate order, reading the items a consistent BatchGet (100) at a time,
        READERS of them in flight while earlier keys are unwrapped; a device released or moved since its index
        entry was read (indexes lag) is left out."""
        with ThreadPoolExecutor(READERS, thread_name_prefix="keys-read") as pool:
            pending: Deque = deque()
            for chunk in _chunks(candidates):
                pending.append(pool.submit(read_devices, [item.serial for item in chunk], FILE_ATTRIBUTES))
                if len(pending) >= READERS:
                    yield from self._unwrapped(pending.popleft().result())
            while pending:
                yield from self._unwrapped(pending.popleft().result())

    def _unwrapped(self, devices: List[DeviceModel]) -> Iterator[tuple]:
        for device in devices:
            if self.keeps(device):
                yield device, crypto.unwrap(device.serial, device.import_id, device.wrapped_keys)


def _chunks(items: Iterable[Any]) -> Iterator[List[Any]]:
    """Lists of READ_CHUNK items (one BatchGet's worth), read lazily."""
    iterator = iter(items)
    for first in iterator:  # ends when the items do: no exit test that could go wrong
        yield [first, *itertools.islice(iterator, READ_CHUNK - 1)]


def _matching(org_ids: List[str], name: Optional[str], filters: Dict[str, str]) -> Iterator[DeviceModel]:
    """Devices from the index serving the filter, page by page."""
    prefix = filters.get("serial")
    condition = DeviceModel.serial.startswith(prefix) if prefix else None
    if name == "label":
        entries = DeviceLabelModel.query(
            filters["label"], DeviceLabelModel.serial.startswith(prefix) if prefix else None
        )
        for chunk in _chunks(entries):
            yield from read_devices([entry.serial for entry in chunk], SCOPE_ATTRIBUTES)
        return
    if name == "batch_id":
        queries = [
            functools.partial(
                DeviceModel.batch_index.query, filters["batch_id"], condition, attributes_to_get=SCOPE_ATTRIBUTES
            )
        ]
    elif name == "product_type":
        queries = [
            functools.partial(
                DeviceModel.owner_product_index.query,
                DeviceModel.catalog_key(org, filters["product_type"]),
                condition,
                attributes_to_get=SCOPE_ATTRIBUTES,
            )
            for org in org_ids
        ]
    else:
        queries = [
            functools.partial(
                DeviceModel.owner_status_index.query,
                DeviceModel.catalog_key(org, "CLAIMED"),
                condition,
                attributes_to_get=SCOPE_ATTRIBUTES,
            )
            for org in org_ids
        ]
    for query in queries:
        yield from query()


def audit_download(principal: Principal, action: str, org_id: Optional[str], detail: Dict[str, Any]) -> None:
    """The audit event of a key download, allowed or refused (and the KeysDownloaded metric: devices handed out)."""
    record_event(principal.user_id, action, org_id or principal.org_id, target=detail.get("serial"), detail=detail)
    if action == "keys_downloaded":
        count_metric("KeysDownloaded", detail["count"])
