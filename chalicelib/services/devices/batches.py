"""Batch references: a maker assigns many serials to a target organization, at once or after its confirmation."""

import functools
import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.console_paths import batch_path
from chalicelib.errors import BodyTooLarge, Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.fields import iso_time
from chalicelib.mail import MailNotSent, public_link, send_mail
from chalicelib.models import (
    BatchModel,
    BatchReferenceModel,
    BatchSerialModel,
    DeviceModel,
    OrganizationModel,
    UserModel,
    time_ordered_key,
)
from chalicelib.paging import binding, page, page_chain
from chalicelib.permissions import (
    BATCHES_CONFIRM,
    BATCHES_MANAGE,
    CATALOG_READ,
    KEY_MANAGER,
    ORG_ADMIN,
    Principal,
    require,
)
from chalicelib.security import new_id
from chalicelib.services.audit.record import record_event
from chalicelib.services.devices.catalog import read_devices
from chalicelib.services.devices.claims import ownership_actions
from chalicelib.services.devices.import_rows import SERIAL_PATTERN
from chalicelib.services.tenants.orgs import get_org, in_scope, is_partner, listed_org_ids, org_in_scope
from chalicelib.services.throttle import hit

MAX_SERIALS = 50_000
TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems
ENTRY_ITEMS = TRANSACTION_ITEMS - 1  # entries per transaction, beside the check that the batch is still CREATING
CREATES_PER_HOUR = 20  # per actor and per maker organization: each creation mails the target's admins
LISTED_PROBLEMS = 1_000  # unknown / unavailable serials kept on the batch item (400 KB item limit)
_SERIAL = re.compile(SERIAL_PATTERN)
_SEPARATORS = re.compile(r"[\s,;]+")


class BatchNotFound(NotFound):
    code, message = "batch_not_found", "No such batch."


class BatchReferenceTaken(Conflict):
    code, message = "batch_reference_taken", "Your organization used this batch reference already."


class BatchNotPending(Conflict):
    code = "batch_not_pending"


class BatchConfirming(Conflict):
    code = "batch_confirming"
    message = (
        "A confirmation of this batch began and moved part of it: it can no longer be rejected. "
        "Confirm it again to finish."
    )


class BatchIncomplete(Conflict):
    code = "batch_incomplete"
    message = (
        "The creation of this batch was interrupted before all its serials were written; the maker "
        "finishes it by repeating the same creation (same reference)."
    )


class BatchBusy(Conflict):
    code, message = "batch_busy", "Another request changed this batch meanwhile; reload it and try again."


class BatchEmpty(ValidationFailed):
    code = "batch_empty"
    message = (
        "None of these serials can be assigned: each is unknown, not made by your organization, "
        "or owned by another organization."
    )


class TargetNotFound(NotFound):
    message = "No such target organization."  # also for one that is neither in your tree nor a partner


class SerialsInvalid(ValidationFailed):
    code = "serials_invalid"


def parse_serials(serials: Optional[List[str]], file: Optional[Dict[str, str]]) -> List[str]:
    """Serials from a list or a .txt/.csv file (commas, semicolons, new lines; a header line and blanks are
    tolerated), in order, without repeats; SerialsInvalid names the first bad ones."""
    if file is not None:
        if not re.search(r"\.(txt|csv)$", file.get("name", ""), re.IGNORECASE):
            raise SerialsInvalid("The file must be a .txt or .csv file.")
        tokens = [token for token in _SEPARATORS.split(file.get("content", "").lstrip("\ufeff")) if token]
        if tokens and tokens[0].lower() in ("serial", "serials", "serial_number", "seriennummer"):
            tokens = tokens[1:]
    else:
        tokens = [str(token).strip() for token in serials or [] if str(token).strip()]
    unique = list(dict.fromkeys(tokens))
    if len(unique) > MAX_SERIALS:
        raise BodyTooLarge(f"A batch holds at most {MAX_SERIALS:,} serials.")
    bad = [token[:64] for token in unique if not _SERIAL.match(token)]
    if bad:
        raise SerialsInvalid(f"Not serial numbers: {', '.join(bad[:5])}" + (" ..." if len(bad) > 5 else "") + ".")
    if not unique:
        raise SerialsInvalid("Name at least one serial.")
    return unique


def batch_view(batch: BatchModel) -> Dict[str, Any]:
    """A batch as the API shows it."""
    return {
        "id": batch.batch_id,
        "reference": batch.reference,
        "label": batch.label,
        "org_id": batch.org_id,
        "target_org_id": batch.target_org_id,
        "requires_confirmation": batch.requires_confirmation,
        "state": batch.state,
        "count": batch.count,
        "unknown_serials": list(batch.unknown_serials or []),
        "unavailable_serials": list(batch.unavailable_serials or []),
        "created_at": batch.created_at.isoformat(),
        "updated_at": iso_time(batch.updated_at),
    }


def create_batch(principal: Principal, fields: Dict[str, Any]) -> Dict[str, Any]:
    """Assign serials the actor's organizations made to a target in its tree or a partner: CLAIMED at once, or
    PENDING until confirmed. Repeated with the same reference, it finishes a creation a failure interrupted."""
    maker = org_in_scope(principal, fields.get("maker_org_id") or principal.org_id)
    require(principal, BATCHES_MANAGE)
    target = _target(principal, maker, fields["org_id"])
    hit("batch_create_actor", principal.user_id, limit=CREATES_PER_HOUR, window_seconds=3600)
    hit("batch_create_org", maker.org_id, limit=CREATES_PER_HOUR, window_seconds=3600)
    serials = parse_serials(fields.get("serials"), fields.get("file"))
    devices = {device.serial: device for device in read_devices(serials)}
    unknown, unavailable, included = [], [], []
    for serial in serials:
        device = devices.get(serial)
        if device is None or not (principal.is_operator or device.maker_org_id == maker.org_id):
            unknown.append(serial)
        elif device.owner_org_id not in (None, target.org_id):
            unavailable.append(serial)
        else:
            included.append(serial)
    if not included:
        raise BatchEmpty()
    batch = _reserve(principal, maker, target, fields)
    if batch.state == "CREATING":
        _write_entries(batch, included)
        batch = _open(batch, fields, unknown, unavailable)
        record_event(
            principal.user_id,
            "batch_created",
            maker.org_id,
            target=batch.batch_id,
            detail={
                "target_org_id": target.org_id,
                "count": batch.count,
                "unknown": len(unknown),
                "unavailable": len(unavailable),
                "requires_confirmation": batch.requires_confirmation,
            },
        )
    _move(batch, "PENDING" if batch.requires_confirmation else "CLAIMED")
    _mail_target_admins(BatchModel.get(batch.batch_id, consistent_read=True), maker.name, target)
    return batch_view(BatchModel.get(batch.batch_id, consistent_read=True))


def _target(principal: Principal, maker: OrganizationModel, org_id: str) -> OrganizationModel:
    """The target if the actor may send devices there: its tree, or a partner of the maker or of its own
    organization (operators: any). TargetNotFound otherwise, the same as for an unknown id."""
    target = get_org(org_id)
    if target is None or not (
        in_scope(principal, target)
        or is_partner(maker.org_id, target.org_id)
        or is_partner(principal.org_id, target.org_id)
    ):
        raise TargetNotFound()
    return target


def _reserve(
    principal: Principal, maker: OrganizationModel, target: OrganizationModel, fields: Dict[str, Any]
) -> BatchModel:
    """A new batch in CREATING with its reference spent, or the batch of that reference a failure left unfinished
    (CREATING or MOVING) when it goes to the same target; BatchReferenceTaken otherwise."""
    now = clock.now()
    batch = BatchModel(
        new_id("bat"),
        org_id=maker.org_id,
        target_org_id=target.org_id,
        reference=fields["reference"],
        label=fields.get("label"),
        requires_confirmation=bool(fields.get("requires_confirmation")),
        state="CREATING",
        count=0,
        created_key=time_ordered_key(now, new_id("k")),
        created_at=now,
        created_by=principal.user_id,
    )
    reference_key = BatchReferenceModel.key_of(maker.org_id, batch.reference)
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.save(
                BatchReferenceModel(reference_key, batch_id=batch.batch_id),
                condition=BatchReferenceModel.reference_key.does_not_exist(),
            )
            transaction.save(batch, condition=BatchModel.batch_id.does_not_exist())
        return batch
    except TransactWriteError:
        pass
    try:
        earlier = BatchModel.get(
            BatchReferenceModel.get(reference_key, consistent_read=True).batch_id, consistent_read=True
        )
    except DoesNotExist:
        raise BatchReferenceTaken() from None
    if earlier.state not in ("CREATING", "MOVING") or earlier.target_org_id != target.org_id:
        raise BatchReferenceTaken()
    return earlier


def _write_entries(batch: BatchModel, serials: List[str]) -> None:
    """Make the batch's entries exactly `serials`, ENTRY_ITEMS per transaction, each only while the batch is still
    CREATING (so no entry changes once it is open)."""
    present = {entry.serial for entry in BatchSerialModel.query(batch.batch_id, consistent_read=True)}
    wanted = set(serials)
    changes = [("save", serial) for serial in serials if serial not in present] + [
        ("delete", serial) for serial in sorted(present - wanted)
    ]
    for start in range(0, len(changes), ENTRY_ITEMS):
        _write_entries_chunk(batch.batch_id, changes[start : start + ENTRY_ITEMS])


def _write_entries_chunk(batch_id: str, changes: List[Tuple[str, str]]) -> None:
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.condition_check(BatchModel, batch_id, condition=BatchModel.state == "CREATING")
            for change, serial in changes:
                getattr(transaction, change)(BatchSerialModel(batch_id, serial))
    except TransactWriteError as error:
        reasons = error.cancellation_reasons or []
        if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
            raise BatchBusy() from None  # a concurrent repeat of this creation opened the batch meanwhile
        raise


def _open(batch: BatchModel, fields: Dict[str, Any], unknown: List[str], unavailable: List[str]) -> BatchModel:
    """CREATING -> MOVING once every entry is written, with the count its entries give (never the request's)."""
    count = BatchSerialModel.count(batch.batch_id, consistent_read=True)
    try:
        batch.update(
            actions=[
                BatchModel.state.set("MOVING"),
                BatchModel.count.set(count),
                BatchModel.label.set(fields["label"]) if fields.get("label") else BatchModel.label.remove(),
                BatchModel.requires_confirmation.set(bool(fields.get("requires_confirmation"))),
                BatchModel.unknown_serials.set(unknown[:LISTED_PROBLEMS]),
                BatchModel.unavailable_serials.set(unavailable[:LISTED_PROBLEMS]),
                BatchModel.updated_at.set(clock.now()),
            ],
            condition=BatchModel.state == "CREATING",
        )
    except UpdateError as error:
        _unless_condition_failed(error)
        raise BatchBusy() from None
    return batch


def _move(batch: BatchModel, status: str) -> None:
    """Move every serial of the batch that is not there yet to `status` for the target, 100 per transaction;
    then the batch takes its resting state, with the count its entries give, if it is still in the state it was
    read in. Idempotent: after a failure part-way, calling it again resumes."""
    serials = [entry.serial for entry in BatchSerialModel.query(batch.batch_id, consistent_read=True)]
    owner = None if status == "UNCLAIMED" else batch.target_org_id
    todo = [device for device in read_devices(sorted(serials)) if not _arrived(device, batch, status)]
    lost: List[str] = []
    now = clock.now()
    for start in range(0, len(todo), TRANSACTION_ITEMS):
        lost += _move_chunk(todo[start : start + TRANSACTION_ITEMS], batch, owner, status, now)
    resting = {"PENDING": "PENDING", "CLAIMED": "CONFIRMED", "UNCLAIMED": "REJECTED"}[status]
    actions: List[Action] = [
        BatchModel.state.set(resting),
        BatchModel.updated_at.set(now),
        BatchModel.count.set(len(serials) - len(lost)),
    ]
    if lost:  # claimed by someone else between the batch's creation and this move: not part of it any more
        actions.append(
            BatchModel.unavailable_serials.set((list(batch.unavailable_serials or []) + lost)[:LISTED_PROBLEMS])
        )
        for serial in lost:
            BatchSerialModel(batch.batch_id, serial).delete()
    try:
        batch.update(actions=actions, condition=BatchModel.state == batch.state)
    except UpdateError as error:
        _unless_condition_failed(error)  # else a concurrent call of the same move finished it first


def _unless_condition_failed(error: UpdateError) -> None:
    if error.cause_response_code != "ConditionalCheckFailedException":
        raise error


def _arrived(device: DeviceModel, batch: BatchModel, status: str) -> bool:
    if status == "UNCLAIMED":
        return device.owner_org_id != batch.target_org_id or device.claim_status != "PENDING"
    return (
        device.owner_org_id == batch.target_org_id
        and device.claim_status == status
        and device.batch_id == batch.batch_id
    )


def _move_chunk(
    devices: List[DeviceModel], batch: BatchModel, owner: Optional[str], status: str, now: datetime
) -> List[str]:
    """One transaction; devices whose condition fails (claimed meanwhile) drop out and the rest is retried.
    Answers the serials that dropped out."""
    lost: List[str] = []
    while devices:
        try:
            with TransactWrite(connection=models.connection()) as transaction:
                for device in devices:
                    actions = ownership_actions(device, owner, status, now) + [DeviceModel.batch_id.set(batch.batch_id)]
                    transaction.update(device, actions=actions, condition=_movable(batch, status))
            break
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            failed = {
                device.serial
                for device, reason in zip(devices, reasons)
                if reason is not None and getattr(reason, "code", None) == "ConditionalCheckFailed"
            }
            if not failed:
                raise
            lost += sorted(failed)
            devices = [device for device in devices if device.serial not in failed]
    return lost


def _movable(batch: BatchModel, status: str) -> Condition:
    """Who may be moved: nobody else owns the device (no device ever has two owners)."""
    ours = DeviceModel.owner_org_id == batch.target_org_id
    if status == "UNCLAIMED":
        return ours & (DeviceModel.claim_status == "PENDING")
    return (DeviceModel.owner_org_id.does_not_exist() & (DeviceModel.claim_status == "UNCLAIMED")) | ours


def _mail_target_admins(batch: BatchModel, maker_name: str, target: OrganizationModel) -> None:
    admins = [
        user
        for user in UserModel.org_index.query(target.org_id)
        if user.status == "ACTIVE" and {ORG_ADMIN, KEY_MANAGER} & set(user.roles)
    ]
    for user in admins:
        try:
            send_mail(
                "new_batch",
                user.email,
                user.language,
                target.org_id,
                {
                    "recipient_name": user.name,
                    "org_name": target.name,
                    "sender_org_name": maker_name,
                    "batch_reference": batch.reference,
                    "device_count": batch.count,
                    "requires_confirmation": batch.requires_confirmation,
                    "link": public_link(batch_path(batch.batch_id)),
                },
                thousands_separator=user.csv_thousands_separator,
            )
        except MailNotSent:
            pass  # the batch stands; GET /batches shows it to the target all the same (logged by the mailer)


def _batch_for(principal: Principal, batch_id: str) -> Tuple[BatchModel, bool, bool]:
    """The batch, whether the actor acts for its maker side and for its target; BatchNotFound outside both."""
    try:
        batch = BatchModel.get(batch_id, consistent_read=True)
    except DoesNotExist:
        raise BatchNotFound() from None
    maker_side = in_scope(principal, get_org(batch.org_id))
    target_side = in_scope(principal, get_org(batch.target_org_id))
    if not (maker_side or target_side):
        raise BatchNotFound()
    if principal.site_limited:
        raise Forbidden("Batches concern whole organizations, not sites.")
    return batch, maker_side, target_side


def read_batch(principal: Principal, batch_id: str, limit: int = 50, cursor: Optional[str] = None) -> Dict[str, Any]:
    """The batch and one page of its serials with where each device stands."""
    batch, _maker_side, _target_side = _batch_for(principal, batch_id)
    if not (principal.may(BATCHES_MANAGE) or principal.may(BATCHES_CONFIRM) or principal.may(CATALOG_READ)):
        raise _forbidden()
    entries, next_cursor = page(
        functools.partial(BatchSerialModel.query, batch_id),
        limit,
        cursor,
        bound_to=binding(principal.user_id, "batch_serials", batch_id=batch_id),
    )
    devices = {device.serial: device for device in read_devices([entry.serial for entry in entries])}
    serials = [
        {
            "serial": entry.serial,
            "claim_status": devices[entry.serial].claim_status if entry.serial in devices else None,
            "moved": entry.serial in devices and _arrived(devices[entry.serial], batch, _goal(batch)),
        }
        for entry in entries
    ]
    return {**batch_view(batch), "serials": {"items": serials, "next_cursor": next_cursor}}


def batch_overview(principal: Principal, batch_id: str) -> Dict[str, Any]:
    """A batch as its console page shows it: the batch, the names of its maker and target, whether the actor may
    confirm or reject it now (the target's side, allowed to confirm, while it awaits confirmation), and whether
    it may finish a confirmation or rejection a failure interrupted (the same calls resume it)."""
    batch, _maker_side, target_side = _batch_for(principal, batch_id)
    if not (principal.may(BATCHES_MANAGE) or principal.may(BATCHES_CONFIRM) or principal.may(CATALOG_READ)):
        raise _forbidden()
    maker, target = get_org(batch.org_id), get_org(batch.target_org_id)
    deciding = target_side and principal.may(BATCHES_CONFIRM)
    return {
        **batch_view(batch),
        "org_name": maker.name if maker else None,
        "target_org_name": target.name if target else None,
        "may_decide": deciding and batch.state == "PENDING",
        "may_finish": deciding and batch.state in ("CONFIRMING", "REJECTING"),
    }


def _forbidden() -> Forbidden:
    return Forbidden("Your roles do not allow reading batches.")


def _goal(batch: BatchModel) -> str:
    if batch.state in ("REJECTING", "REJECTED"):
        return "UNCLAIMED"
    if batch.state == "PENDING" or (batch.state in ("CREATING", "MOVING") and batch.requires_confirmation):
        return "PENDING"
    return "CLAIMED"


def list_batches(
    principal: Principal, org_id: Optional[str] = None, limit: int = 50, cursor: Optional[str] = None
) -> Dict[str, Any]:
    """Batches the organizations in scope created or received (an index query per organization and side)."""
    org_ids = listed_org_ids(principal, org_id)
    if not (principal.may(BATCHES_MANAGE) or principal.may(BATCHES_CONFIRM) or principal.may(CATALOG_READ)):
        raise _forbidden()
    if principal.site_limited:
        raise Forbidden("Batches concern whole organizations, not sites.")
    queries = [functools.partial(BatchModel.org_index.query, each) for each in org_ids] + [
        functools.partial(BatchModel.target_index.query, each) for each in org_ids
    ]
    items, next_cursor = page_chain(
        queries, limit, cursor, bound_to=binding(principal.user_id, "batches", org_id=org_id)
    )
    return {"items": [batch_view(batch) for batch in items], "next_cursor": next_cursor}


def confirm_batch(principal: Principal, batch_id: str) -> Dict[str, Any]:
    """The target confirms: its PENDING devices become CLAIMED. The batch is CONFIRMING (and no longer rejectable)
    before the first device moves; called again, it finishes a confirmation or a creation a failure interrupted."""
    batch, maker_side, target_side = _batch_for(principal, batch_id)
    if not target_side and not (maker_side and batch.state == "MOVING" and not batch.requires_confirmation):
        raise BatchNotFound() if not maker_side else _not_pending(batch)
    require(principal, BATCHES_CONFIRM if target_side else BATCHES_MANAGE)
    if batch.state == "CREATING":
        raise BatchIncomplete()
    if batch.state == "MOVING" and batch.requires_confirmation:
        _move(batch, "PENDING")  # finish what creation began, then confirm
        batch = BatchModel.get(batch_id, consistent_read=True)
    if batch.state == "PENDING":
        batch = _change_state(batch, "CONFIRMING")
    if batch.state not in ("CONFIRMING", "MOVING"):
        raise _not_pending(batch)
    _move(batch, "CLAIMED")
    done = BatchModel.get(batch_id, consistent_read=True)
    record_event(
        principal.user_id, "batch_confirmed", batch.target_org_id, target=batch_id, detail={"count": done.count}
    )
    return batch_view(done)


def reject_batch(principal: Principal, batch_id: str) -> Dict[str, Any]:
    """The target refuses: its PENDING devices of the batch are UNCLAIMED again. A batch whose confirmation began
    is refused (BatchConfirming); called again, it finishes a rejection a failure interrupted."""
    batch, _maker_side, target_side = _batch_for(principal, batch_id)
    if not target_side:
        raise BatchNotFound()
    require(principal, BATCHES_CONFIRM)
    if batch.state == "PENDING":
        batch = _change_state(batch, "REJECTING")
    if batch.state == "CONFIRMING":
        raise BatchConfirming()
    if batch.state != "REJECTING":
        raise _not_pending(batch)
    _move(batch, "UNCLAIMED")
    done = BatchModel.get(batch_id, consistent_read=True)
    record_event(
        principal.user_id, "batch_rejected", batch.target_org_id, target=batch_id, detail={"count": done.count}
    )
    return batch_view(done)


def _change_state(batch: BatchModel, state: str) -> BatchModel:
    """PENDING -> `state` by a conditional write; the batch as it stands when a concurrent request changed it."""
    try:
        batch.update(
            actions=[BatchModel.state.set(state), BatchModel.updated_at.set(clock.now())],
            condition=BatchModel.state == "PENDING",
        )
        return batch
    except UpdateError as error:
        _unless_condition_failed(error)
        return BatchModel.get(batch.batch_id, consistent_read=True)


def _not_pending(batch: BatchModel) -> BatchNotPending:
    return BatchNotPending(f"The batch is {batch.state}; only a PENDING batch is confirmed or rejected.")
