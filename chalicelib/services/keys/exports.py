"""The download list: key export jobs of any size, run in the background, their files kept for a day.

A job is re-authorized when it runs (roles may have changed since it was queued), writes its file whole to a
temporary folder, and only then stores it and turns READY; any failure leaves it FAILED with a reason and no file.
"""

import logging
import os
import tempfile
from datetime import datetime, timedelta
from typing import Any, Dict, Optional, Tuple

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.errors import Conflict, DomainError, Forbidden, Gone, NotAuthenticated, NotFound
from chalicelib.fields import iso_time
from chalicelib.models import ExportModel, time_ordered_key
from chalicelib.observability import count_metric
from chalicelib.paging import binding, page
from chalicelib.permissions import KEYS_DOWNLOAD, Principal
from chalicelib.security import new_id
from chalicelib.services.keys import export_storage
from chalicelib.services.keys import files as key_files
from chalicelib.services.keys.downloads import (
    audit_download,
    check_download,
    download_detail,
    download_name,
    refusals_audited,
)
from chalicelib.services.tenants.users import get_user

log = logging.getLogger("keyport.exports")

QUEUED, RUNNING, READY, FAILED, EXPIRED = "QUEUED", "RUNNING", "READY", "FAILED", "EXPIRED"
QUEUE_DEADLINE = timedelta(hours=1)  # a job not finished an hour after it was queued or started has failed
LIST_DAYS = 30  # an entry stays on the list this long after its file expired


class ExportNotFound(NotFound):
    code, message = "export_not_found", "No such export on your download list."


class ExportNotReady(Conflict):
    code = "export_not_ready"


class ExportExpired(Gone):
    code, message = "export_expired", "The file has expired; ask for a new export."


def export_view(job: ExportModel) -> Dict[str, Any]:
    """A job as the download list shows it."""
    state = EXPIRED if job.state == READY and clock.now() >= job.expires_at else job.state
    return {
        "id": job.export_id,
        "state": state,
        "format": job.format,
        "count": job.count,
        "filters": job.filters,
        "org_id": job.org_id,
        "size_bytes": job.size_bytes,
        "reason": job.reason,
        "file_name": job.file_name,
        "created_at": job.created_at.isoformat(),
        "finished_at": iso_time(job.finished_at),
        "expires_at": iso_time(job.expires_at),
    }


def request_export(
    principal: Principal,
    file_format: str,
    filters: Dict[str, str],
    org_id: Optional[str] = None,
    recipient_jwk: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Queue an export of every CLAIMED device in scope that matches: checked now, and again when it runs."""
    detail = download_detail(file_format, filters, org_id)
    with refusals_audited(principal, org_id, detail):
        recipient, _selection = check_download(principal, file_format, filters, org_id, recipient_jwk)
    now = clock.now()
    export_id = new_id("exp")
    job = ExportModel(
        export_id,
        user_id=principal.user_id,
        org_id=org_id or principal.org_id,
        format=file_format,
        filters=detail["filter"],
        recipient_jwk=recipient,
        state=QUEUED,
        created_at=now,
        created_key=time_ordered_key(now, export_id),
        due_at=now + QUEUE_DEADLINE,
        ttl=now + timedelta(days=LIST_DAYS + 2),
    )
    job.save(condition=ExportModel.export_id.does_not_exist())
    export_storage.enqueue(export_id)
    audit_download(principal, "keys_export_requested", job.org_id, {**detail, "export_id": export_id})
    return export_view(job)


def list_exports(principal: Principal, limit: int = 50, cursor: Optional[str] = None) -> Dict[str, Any]:
    """The actor's own download list, newest first."""
    items, next_cursor = page(
        lambda **kw: ExportModel.user_index.query(principal.user_id, scan_index_forward=False, **kw),
        limit,
        cursor,
        bound_to=binding(principal.user_id, "exports"),
    )
    return {"items": [export_view(job) for job in items], "next_cursor": next_cursor}


def read_export(principal: Principal, export_id: str) -> Dict[str, Any]:
    """One job of the actor's own list."""
    return export_view(_own_job(principal, export_id))


def export_file(principal: Principal, export_id: str) -> Dict[str, Any]:
    """A READY file: {url} of a 5-minute presigned link on AWS, or {body, media_type, file_name} locally."""
    job = _own_job(principal, export_id)
    if not principal.may(KEYS_DOWNLOAD):  # the right may have been taken away since the job ran
        raise Forbidden("Your roles do not allow key downloads.")
    state = export_view(job)["state"]
    if state == EXPIRED:
        raise ExportExpired()
    if state == FAILED:
        raise ExportNotReady(f"The export failed: {job.reason}", details={"state": FAILED})
    if state != READY:
        raise ExportNotReady("The export is not ready yet; its state is " + state + ".", details={"state": state})
    audit_download(
        principal,
        "keys_export_fetched",
        job.org_id,
        {"format": job.format, "export_id": job.export_id, "count": job.count},
    )
    url = export_storage.download_url(job.export_id, job.file_name)
    if url:
        return {"url": url}
    return {
        "body": export_storage.read_local(job.export_id),
        "media_type": key_files.MEDIA_TYPES[job.format],
        "file_name": job.file_name,
    }


def run_export(export_id: str) -> str:
    """The worker: run one job to READY or FAILED and answer its state. A second delivery of a finished job
    (SQS delivers at least once) changes nothing."""
    try:
        job = ExportModel.get(export_id, consistent_read=True)
        job.update(
            actions=[
                ExportModel.state.set(RUNNING),
                ExportModel.started_at.set(clock.now()),
                ExportModel.attempts.add(1),
                ExportModel.due_at.set(clock.now() + QUEUE_DEADLINE),
            ],
            condition=ExportModel.state.is_in(QUEUED, RUNNING),
        )
    except DoesNotExist:
        log.warning("export %s: no such job", export_id)
        return "MISSING"
    except UpdateError:
        return ExportModel.get(export_id, consistent_read=True).state
    try:
        principal, count, size, file_name = _write_and_store(job)
        now, hours = clock.now(), timedelta(hours=get_settings().export_hours)
        job.update(
            actions=[
                ExportModel.state.set(READY),
                ExportModel.count.set(count),
                ExportModel.size_bytes.set(size),
                ExportModel.file_name.set(file_name),
                ExportModel.finished_at.set(now),
                ExportModel.expires_at.set(now + hours),
                ExportModel.due_at.set(now + hours),
            ],
            condition=ExportModel.state == RUNNING,
        )
        audit_download(principal, "keys_downloaded", job.org_id, {**_job_detail(job), "count": count})
        count_metric("ExportsCompleted")
        return READY
    except DomainError as refusal:
        _fail(job, refusal.message)
    except Exception as error:  # the message of an unexpected error could hold anything: log its type only
        log.error("export %s failed: %s", export_id, type(error).__name__)
        _fail(job, "The export could not be written; ask for it again, or tell the operator if it fails again.")
    return FAILED


def _write_and_store(job: ExportModel) -> Tuple[Principal, int, int, str]:
    """Re-authorize the job's owner, write the file whole in a temporary folder, then store it: the last step, so
    nothing after it can leave a stored file behind a job that is not READY. Answers (principal, devices, bytes,
    file name)."""
    from chalicelib.services.accounts.sessions import principal_of

    user = get_user(job.user_id)
    # A deleted account acts with no role; its refusal is audited in its name all the same, like every refusal.
    principal = principal_of(user) if user else Principal(user_id=job.user_id, org_id=job.org_id, roles=frozenset())
    filters = {name: value for name, value in job.filters.items() if name != "org_id"}
    with refusals_audited(principal, job.org_id, _job_detail(job)):
        if user is None or user.status != "ACTIVE":
            raise NotAuthenticated("The account that asked for the export is no longer active.")
        recipient, selection = check_download(
            principal, job.format, filters, job.filters.get("org_id"), job.recipient_jwk
        )
    file_name = download_name(job.org_id, job.format)
    with tempfile.TemporaryDirectory(prefix="keyport-export-") as folder:
        path = os.path.join(folder, file_name)
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = key_files.KeyFileWriter(out, "json" if recipient else job.format, user.csv_delimiter)
            for device, keys in selection.with_keys(selection.candidates()):
                writer.add(device.serial, device.product_type, keys)
            writer.close()
        if recipient:
            with open(path, "rb") as handle:
                sealed = key_files.seal(handle.read(), recipient, "application/json")
            with open(path, "w") as out:
                out.write(sealed)
        size = os.path.getsize(path)
        export_storage.store(job.export_id, path, key_files.MEDIA_TYPES[job.format], file_name)
    return principal, writer.count, size, file_name


def _job_detail(job: ExportModel) -> Dict[str, Any]:
    return {"format": job.format, "filter": job.filters, "export_id": job.export_id}


def _fail(job: ExportModel, reason: str) -> None:
    export_storage.delete(job.export_id)  # whatever part of a file exists (deleting nothing is fine)
    job.update(
        actions=[
            ExportModel.state.set(FAILED),
            ExportModel.reason.set(reason[:500]),
            ExportModel.finished_at.set(clock.now()),
        ]
    )


def expire_exports(now: Optional[datetime] = None) -> Dict[str, int]:
    """The hourly sweep: READY files past their expiry are deleted (EXPIRED); jobs past their deadline FAILED."""
    now = now or clock.now()
    counts = {"expired": 0, "failed": 0}
    for job in ExportModel.state_due_index.query(READY, ExportModel.due_at <= now):
        export_storage.delete(job.export_id)
        try:
            job.update(
                actions=[ExportModel.state.set(EXPIRED), ExportModel.ttl.set(now + timedelta(days=LIST_DAYS))],
                condition=ExportModel.state == READY,
            )
            counts["expired"] += 1
        except UpdateError:  # it changed meanwhile
            continue
    for state in (QUEUED, RUNNING):
        for job in ExportModel.state_due_index.query(state, ExportModel.due_at <= now):
            try:
                job.update(
                    actions=[
                        ExportModel.state.set(FAILED),
                        ExportModel.finished_at.set(now),
                        ExportModel.reason.set("The export did not finish in time; ask for it again."),
                    ],
                    condition=(ExportModel.state == state) & (ExportModel.due_at <= now),
                )
                counts["failed"] += 1
            except UpdateError:  # it moved on meanwhile
                continue
    return counts


def _own_job(principal: Principal, export_id: str) -> ExportModel:
    try:
        job = ExportModel.get(export_id, consistent_read=True)
    except DoesNotExist:
        raise ExportNotFound() from None
    if job.user_id != principal.user_id:
        raise ExportNotFound()
    return job
