"""Device import: validate every row, wrap each device's keys, write new devices and never overwrite one."""
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import models
from chalicelib.config import get_settings
from chalicelib.crypto import KeyWrapper
from chalicelib.errors import DomainError
from chalicelib.models import DeviceLabelModel, DeviceModel
from chalicelib.permissions import DEVICES_IMPORT, Principal, require
from chalicelib.security import new_id
from chalicelib.services.audit import record_event
from chalicelib.services.device_rows import DeviceDraft, Rejection, csv_rows, group_rows, json_rows
from chalicelib.services.devices import claim_code_digest, id_proof, index_keys
from chalicelib.services.orgs import org_in_scope

TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems
ATTEMPTS = 8
ALREADY_IN_CATALOG = "serial is already in the catalog (an import never overwrites a device)"


class TooManyRows(DomainError):
    status, code = 413, "too_many_rows"


@dataclass
class StoreReport:
    """What one store_devices call did: devices written, and devices whose serial was already taken."""

    imported: List[DeviceDraft] = field(default_factory=list)
    existing: List[DeviceDraft] = field(default_factory=list)


def import_devices(principal: Principal, *, csv_text: Optional[str] = None, items: Optional[List[Any]] = None,
                   org_id: Optional[str] = None) -> Dict[str, Any]:
    """Import a maker's devices (CSV text or JSON items) for its organization; answer counts and rejected rows."""
    maker = org_in_scope(principal, org_id or principal.org_id)
    require(principal, DEVICES_IMPORT)
    rows = csv_rows(csv_text) if csv_text is not None else json_rows(items or [])
    drafts, rejected = split_results(group_rows(_capped(rows, get_settings().import_max_rows)))
    import_id = new_id("imp")
    report = store_devices(drafts, maker.org_id, principal.user_id, KeyWrapper(import_id))
    rejected += [Rejection(line, draft.serial, ALREADY_IN_CATALOG) for draft in report.existing for line in draft.lines]
    rejected.sort(key=lambda rejection: rejection.line)
    record_event(principal.user_id, "devices_imported", maker.org_id, target=import_id,
                 detail={"imported": len(report.imported), "rejected_rows": len(rejected)})
    return {"import_id": import_id, "org_id": maker.org_id, "imported": len(report.imported),
            "rejected": [rejection.view() for rejection in rejected]}


def _capped(rows: Iterable[Tuple[int, Dict[str, Any]]], limit: int) -> Iterator[Tuple[int, Dict[str, Any]]]:
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise TooManyRows(f"An import request takes at most {limit:,} rows; import bigger files with "
                              "`python -m chalicelib.cli import-devices FILE --org ORG_ID`.")
        yield row


def split_results(results: Iterable[Any]) -> Tuple[List[DeviceDraft], List[Rejection]]:
    """Valid devices and the rejected rows out of group_rows."""
    drafts: List[DeviceDraft] = []
    rejected: List[Rejection] = []
    for result in results:
        if isinstance(result, DeviceDraft):
            drafts.append(result)
        else:
            rejected.extend(result)
    return drafts, rejected


def store_devices(drafts: List[DeviceDraft], maker_org_id: str, actor_id: str, wrapper: KeyWrapper) -> StoreReport:
    """Write new devices with wrapped keys; a serial already in the catalog (checked, then conditioned) is left."""
    report = StoreReport()
    taken = _existing_serials([draft.serial for draft in drafts])
    report.existing = [draft for draft in drafts if draft.serial in taken]
    now = datetime.now(timezone.utc)
    pending = [(draft, _device(draft, maker_org_id, actor_id, wrapper, now)) for draft in drafts
               if draft.serial not in taken]
    for group in _transaction_groups(pending):
        written, refused = _write_group(group)
        report.imported += written
        report.existing += refused
    return report


def _existing_serials(serials: List[str]) -> set:
    found = set()
    for start in range(0, len(serials), 100):
        chunk = serials[start:start + 100]
        found.update(device.serial for device in DeviceModel.batch_get(
            chunk, consistent_read=True, attributes_to_get=["serial"]))
    return found


def _device(draft: DeviceDraft, maker_org_id: str, actor_id: str, wrapper: KeyWrapper, now: datetime) -> DeviceModel:
    fields = draft.fields
    return DeviceModel(
        draft.serial, product_type=fields["product_type"], mac=fields["mac"],
        id_proof=id_proof(fields["id_code"], fields["mac"]) if fields["id_code"] else None,
        claim_code_hash=claim_code_digest(draft.serial, fields["claim_code"]) if fields["claim_code"] else None,
        claim_valid_from=fields["claim_valid_from"], claim_valid_to=fields["claim_valid_to"],
        labels=fields["labels"], maker_org_id=maker_org_id, claim_status="UNCLAIMED",
        key_names=[key["name"] for key in draft.keys], key_algorithms=[key["algorithm"] for key in draft.keys],
        wrapped_keys=wrapper.wrap(draft.serial, draft.keys), import_id=wrapper.import_id, imported_at=now,
        imported_by=actor_id, **index_keys(maker_org_id, None, "UNCLAIMED", fields["product_type"]))


def _transaction_groups(pending: List[Tuple[DeviceDraft, DeviceModel]]) -> Iterator[List[Tuple[DeviceDraft, DeviceModel]]]:
    group: List[Tuple[DeviceDraft, DeviceModel]] = []
    size = 0
    for draft, device in pending:
        items = 1 + len(device.labels)
        if size + items > TRANSACTION_ITEMS:
            yield group
            group, size = [], 0
        group.append((draft, device))
        size += items
    if group:
        yield group


def _write_group(group: List[Tuple[DeviceDraft, DeviceModel]]) -> Tuple[List[DeviceDraft], List[DeviceDraft]]:
    """One transaction per group: every device conditioned on its serial being new. A serial taken meanwhile
    (a concurrent import) drops out; conflicts and throttling are retried with jittered backoff."""
    refused: List[DeviceDraft] = []
    for attempt in range(ATTEMPTS):
        if not group:
            return [], refused
        try:
            with TransactWrite(connection=models.connection()) as transaction:
                for _draft, device in group:
                    transaction.save(device, condition=DeviceModel.serial.does_not_exist())
                    for label in device.labels:
                        transaction.save(DeviceLabelModel(label, device.serial))
            return [draft for draft, _device in group], refused
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            taken = _refused_serials(group, reasons)
            refused += [draft for draft, _device in group if draft.serial in taken]
            group = [(draft, device) for draft, device in group if draft.serial not in taken]
            if not taken:
                time.sleep(min(2.0, 0.05 * 2 ** attempt) * random.random())
    raise DomainError("The catalog is too busy to import right now; nothing of this part was written. Retry.")


def _refused_serials(group: List[Tuple[DeviceDraft, DeviceModel]], reasons: List[Any]) -> set:
    positions = []
    for _draft, device in group:
        positions.append(device.serial)
        positions.extend([None] * len(device.labels))
    return {serial for serial, reason in zip(positions, reasons)
            if serial and reason is not None and getattr(reason, "code", None) == "ConditionalCheckFailed"}
