"""Device import: validate every row, wrap each device's keys, write new devices and never overwrite one."""

import csv
import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.config import get_settings
from chalicelib.crypto import KeyWrapper
from chalicelib.errors import TooLarge
from chalicelib.models import DeviceLabelModel, DeviceModel
from chalicelib.permissions import DEVICES_IMPORT, Principal, require
from chalicelib.security import new_id
from chalicelib.services.audit.record import record_event
from chalicelib.services.devices.catalog import claim_code_digest, id_proof
from chalicelib.services.devices.import_rows import DeviceDraft, Rejection, csv_rows, group_rows, json_rows
from chalicelib.services.tenants.orgs import OrgNotFound, get_org, org_in_scope

CLI_ACTOR = "cli"
WRITERS = 4  # threads writing transactions and reading
TRANSACTION_ITEMS = 100  # DynamoDB's limit of actions in one TransactWriteItems: devices and their label rows
CONFLICT_RETRIES = 5  # a transaction touching a serial a concurrent import writes at the same moment
ALREADY_IN_CATALOG = "serial is already in the catalog (an import never overwrites a device)"


class TooManyRows(TooLarge):
    code = "too_many_rows"


@dataclass
class StoreReport:
    """What one store_devices call did: devices written, and devices whose serial was already taken."""

    imported: List[DeviceDraft] = field(default_factory=list)
    existing: List[DeviceDraft] = field(default_factory=list)


def import_devices(
    principal: Principal,
    *,
    csv_text: Optional[str] = None,
    items: Optional[List[Any]] = None,
    org_id: Optional[str] = None,
) -> Dict[str, Any]:
    """Import a maker's devices (CSV text or JSON items) for its organization; answer counts and rejected rows."""
    maker = org_in_scope(principal, org_id or principal.org_id)
    require(principal, DEVICES_IMPORT)
    rows = csv_rows(csv_text) if csv_text is not None else json_rows(items or [])
    drafts, rejected = split_results(group_rows(_capped(rows, get_settings().import_max_rows)))
    import_id = new_id("imp")
    report = store_devices(drafts, maker.org_id, principal.user_id, KeyWrapper(import_id))
    rejected += [Rejection(line, draft.serial, ALREADY_IN_CATALOG) for draft in report.existing for line in draft.lines]
    rejected.sort(key=lambda rejection: rejection.line)
    record_event(
        principal.user_id,
        "devices_imported",
        maker.org_id,
        target=import_id,
        detail={"imported": len(report.imported), "rejected_rows": len(rejected)},
    )
    return {
        "import_id": import_id,
        "org_id": maker.org_id,
        "imported": len(report.imported),
        "rejected": [rejection.view() for rejection in rejected],
    }


def _capped(rows: Iterable[Tuple[int, Dict[str, Any]]], limit: int) -> Iterator[Tuple[int, Dict[str, Any]]]:
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise TooManyRows(
                f"An import request takes at most {limit:,} rows; import bigger files with "
                "`python -m chalicelib.cli import-devices FILE --org ORG_ID`."
            )
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
    """Write new devices with wrapped keys; a serial already in the catalog is left as it is and reported.

    A device and its label rows are written in one transaction, on condition that the serial is free: a crash
    between two transactions leaves whole devices or none (never one that label filters miss), and a serial a
    concurrent import took meanwhile drops out of its transaction, which is retried without it. A consistent read
    first drops the serials already taken (a re-run of an interrupted import skips what it wrote). Transactions
    run in a few threads while this one wraps the next keys: DynamoDB round trips, not the SDK, set the pace.
    """
    report = StoreReport()
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        taken = {device.serial for device in _read_back(pool, [draft.serial for draft in drafts], ["serial"])}
        report.existing = [draft for draft in drafts if draft.serial in taken]
        now = clock.now()
        writes: List[Future[Tuple[List[DeviceDraft], List[DeviceDraft]]]] = []
        group: List[Tuple[DeviceDraft, DeviceModel]] = []
        actions = 0
        for draft in drafts:
            if draft.serial in taken:
                continue
            device = _device(draft, maker_org_id, actor_id, wrapper, now)
            if actions + 1 + len(device.labels) > TRANSACTION_ITEMS:
                writes.append(pool.submit(_write, group))
                group, actions = [], 0
            group.append((draft, device))
            actions += 1 + len(device.labels)
        if group:
            writes.append(pool.submit(_write, group))
        for write in writes:
            written, lost = write.result()  # a write that failed for another reason fails the import loudly
            report.imported += written
            report.existing += lost
    return report


def _write(group: List[Tuple[DeviceDraft, DeviceModel]]) -> Tuple[List[DeviceDraft], List[DeviceDraft]]:
    """One transaction of new devices with their label rows: (drafts written, drafts whose serial was taken)."""
    lost: List[DeviceDraft] = []
    conflicts = 0
    while group:
        serial_of_action: List[str] = []
        try:
            with TransactWrite(connection=models.connection()) as transaction:
                for _, device in group:
                    transaction.save(device, condition=DeviceModel.serial.does_not_exist())
                    for label in device.labels:
                        transaction.save(DeviceLabelModel(label, device.serial))
                    serial_of_action += [device.serial] * (1 + len(device.labels))
            return [draft for draft, _ in group], lost
        except TransactWriteError as error:
            codes = [
                (serial, reason.code)
                for serial, reason in zip(serial_of_action, error.cancellation_reasons or [])
                if reason is not None
            ]
            taken = {serial for serial, code in codes if code == "ConditionalCheckFailed"}
            if taken:
                lost += [draft for draft, _ in group if draft.serial in taken]
                group = [(draft, device) for draft, device in group if draft.serial not in taken]
            elif codes and all(code == "TransactionConflict" for _, code in codes) and conflicts < CONFLICT_RETRIES:
                conflicts += 1
                time.sleep(0.05 * 2**conflicts)
            else:
                raise
    return [], lost


def _read_back(pool: ThreadPoolExecutor, serials: List[str], attributes: List[str]) -> Iterator[DeviceModel]:
    def read(chunk: List[str]) -> List[DeviceModel]:
        return list(DeviceModel.batch_get(chunk, consistent_read=True, attributes_to_get=attributes))

    for found in pool.map(read, [serials[start : start + 100] for start in range(0, len(serials), 100)]):
        yield from found


def _device(draft: DeviceDraft, maker_org_id: str, actor_id: str, wrapper: KeyWrapper, now: datetime) -> DeviceModel:
    fields = draft.fields
    return DeviceModel(
        draft.serial,
        product_type=fields["product_type"],
        mac=fields["mac"],
        id_proof=id_proof(fields["id_code"], fields["mac"]) if fields["id_code"] else None,
        claim_code_hash=claim_code_digest(draft.serial, fields["claim_code"]) if fields["claim_code"] else None,
        claim_valid_from=fields["claim_valid_from"],
        claim_valid_to=fields["claim_valid_to"],
        labels=fields["labels"],
        maker_org_id=maker_org_id,
        claim_status="UNCLAIMED",
        key_names=[key["name"] for key in draft.keys],
        key_algorithms=[key["algorithm"] for key in draft.keys],
        wrapped_keys=wrapper.wrap(draft.serial, draft.keys),
        import_id=wrapper.import_id,
        imported_at=now,
        imported_by=actor_id,
        **DeviceModel.index_keys(maker_org_id, None, "UNCLAIMED", fields["product_type"]),
    )


def import_file(
    path: str, maker_org_id: str, report_path: str, progress: Optional[Callable[[int], None]] = None, chunk: int = 1000
) -> Dict[str, Any]:
    """The CLI's import of a file of any size (CSV streamed, or JSON items) for a maker, as the operator.

    Resumable: serials already in the catalog (an earlier, interrupted run) are skipped and reported as such.
    Every row that was not imported is written to `report_path` (CSV: line, serial, outcome, error).
    """
    maker = get_org(maker_org_id)
    if maker is None:
        raise OrgNotFound()
    wrapper = KeyWrapper(new_id("imp"))
    totals = {"imported": 0, "skipped": 0, "rejected": 0}
    with open(path, encoding="utf-8", newline="") as source, open(report_path, "w", newline="") as out:
        report = csv.writer(out)
        report.writerow(["line", "serial", "outcome", "error"])
        rows = json_rows(json.load(source).get("items", [])) if path.endswith(".json") else csv_rows(source)
        batch: List[DeviceDraft] = []

        def flush() -> None:
            stored = store_devices(batch, maker.org_id, CLI_ACTOR, wrapper)
            totals["imported"] += len(stored.imported)
            totals["skipped"] += len(stored.existing)
            for draft in stored.existing:
                report.writerows([line, draft.serial, "skipped", ALREADY_IN_CATALOG] for line in draft.lines)
            if progress and batch:
                progress(batch[-1].lines[-1])
            batch.clear()

        for result in group_rows(rows):
            if isinstance(result, DeviceDraft):
                batch.append(result)
                if len(batch) >= chunk:
                    flush()
            else:
                totals["rejected"] += len(result)
                report.writerows([r.line, r.serial, "rejected", r.error] for r in result)
        flush()
    record_event(CLI_ACTOR, "devices_imported", maker.org_id, target=wrapper.import_id, detail={**totals, "via": "cli"})
    return {"import_id": wrapper.import_id, "org_id": maker.org_id, **totals}
