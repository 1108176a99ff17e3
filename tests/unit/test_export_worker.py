"""The export worker driven directly (moto for DynamoDB, SQS and S3): what a job stores, keeps, audits and logs on
its way to READY or FAILED, and what fetching its file answers. The clock of the exports service is stopped at a
known instant so that the times a job stores can be compared exactly."""

import json
import os
import tempfile
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest
import requests

import chalicelib.clock
from chalicelib.crypto import KeyMaterialUnreadable
from chalicelib.models import AuditEventModel, ExportModel, UserModel
from chalicelib.services.accounts.sessions import principal_of
from chalicelib.services.keys import exports
from chalicelib.services.keys import files as key_files
from tests.conftest import aws_client
from tests.helpers import make_device, make_org, make_user
from tests.jose_keys import private_and_public

BUCKET = "keyport-test-exports"
KEY_A = [{"name": "app", "algorithm": "AES128", "hex": "00112233445566778899aabbccddeeff"}]
KEY_B = [{"name": "app", "algorithm": "AES128", "hex": "ffeeddccbbaa99887766554433221100"}]
NOT_ACTIVE = "The account that asked for the export is no longer active."
NO_RIGHT = "Your roles do not allow key downloads."
NOT_WRITTEN = "The export could not be written; ask for it again, or tell the operator if it fails again."


@pytest.fixture
def clock(monkeypatch):
    """The one clock, stopped at `start` (a test moves it by setting `now`)."""
    stopped = SimpleNamespace(start=datetime.now(timezone.utc).replace(microsecond=0))
    stopped.now = stopped.start
    monkeypatch.setattr(chalicelib.clock, "now", lambda: stopped.now)
    return stopped


@pytest.fixture
def world(aws, clock):
    """customer owns X-1 and X-2 (claimed) and X-3 (pending); rival owns R-1; a key manager of customer who
    wants commas in CSV files, and an operator."""
    for org in ("maker", "customer", "rival"):
        make_org(org)
    make_device("X-1", "maker", "customer", keys=KEY_A, product_type="Zähler")
    make_device("X-2", "maker", "customer", keys=KEY_B, labels=("roof",))
    make_device("X-3", "maker", "customer", status="PENDING")
    make_device("R-1", "maker", "rival")
    return SimpleNamespace(
        keys=make_user(email="k@customer.example", org_id="customer", roles=("KEY_MANAGER",), csv_delimiter=","),
        operator=make_user(email="op@example.com", roles=("OPERATOR",)),
    )


@pytest.fixture
def lagging_replica(monkeypatch):
    """DynamoDB as documented: an eventually consistent read may miss a write just made. Here every such GetItem
    of the exports table misses it; a strongly consistent one sees it."""
    from botocore.client import BaseClient

    original, table = BaseClient._make_api_call, ExportModel.Meta.table_name

    def reading(client, operation_name, api_params):
        lagging = operation_name == "GetItem" and api_params.get("TableName") == table
        if lagging and not api_params.get("ConsistentRead"):
            return {}
        return original(client, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", reading)


def queue(user, file_format="csv", filters=None, org_id=None, recipient_jwk=None):
    """Queue an export as the user; answer its id."""
    return exports.request_export(
        principal_of(user), file_format, filters or {}, org_id=org_id, recipient_jwk=recipient_jwk
    )["id"]


def stored(export_id):
    """The stored file's (body, S3 metadata)."""
    answer = aws_client("s3").get_object(Bucket=BUCKET, Key=f"exports/{export_id}")
    return answer["Body"].read(), answer


def stored_keys():
    return [item["Key"] for item in aws_client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def events(org_id, action):
    """(actor, detail) of the audit events of one kind in one organization."""
    return [(event.actor_id, event.detail) for event in AuditEventModel.query(org_id) if event.action == action]


def file_names(org_id, file_format):
    """The names a file written now may have (the date may turn while the test runs)."""
    return {
        f"keys-{org_id}-{day:%Y-%m-%d}.{file_format}"
        for day in (datetime.now(timezone.utc) - timedelta(minutes=1), datetime.now(timezone.utc))
    }


def test_a_job_is_written_whole_stored_and_ready_with_its_count_size_name_and_day_of_life(
    world, clock, tmp_path, monkeypatch
):
    for folder in ("cwd", "tmp"):
        (tmp_path / folder).mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    export_id = queue(world.keys)
    assert exports.run_export(export_id) == "READY"
    job, (body, head) = ExportModel.get(export_id), stored(export_id)
    assert body.decode("utf-8").split("\r\n") == [
        "serial,product_type,key_name,algorithm,key_hex",
        "X-1,Zähler,app,AES128," + KEY_A[0]["hex"],
        "X-2,meter,app,AES128," + KEY_B[0]["hex"],
        "",
    ]
    assert (job.state, job.count, job.size_bytes, job.attempts) == ("READY", 2, len(body), 1)
    assert (job.started_at, job.finished_at, job.expires_at) == (clock.now, clock.now, clock.now + timedelta(hours=24))
    assert job.file_name in file_names("customer", "csv")
    assert head["ContentType"] == "text/csv; charset=utf-8" and head["ServerSideEncryption"] == "aws:kms"
    assert head["ContentDisposition"] == f'attachment; filename="{job.file_name}"'
    # No plaintext copy of the keys stays on the worker's disk: not in its folder, not in the temporary one.
    assert os.listdir(tmp_path / "cwd") == [] and os.listdir(tmp_path / "tmp") == []


def test_a_csv_file_is_utf_8_even_where_the_workers_locale_is_ascii(world):
    import locale

    export_id, before = queue(world.keys), locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")  # text files opened without an encoding would be ASCII here
    try:
        assert exports.run_export(export_id) == "READY"
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    assert "X-1,Zähler,app" in stored(export_id)[0].decode("utf-8")


def test_a_ready_file_is_deleted_by_the_sweep_once_its_day_is_over_not_before(world, clock):
    export_id = queue(world.keys)
    exports.run_export(export_id)
    assert exports.expire_exports(clock.now + timedelta(hours=23)) == {"expired": 0, "failed": 0}
    assert stored_keys() == [f"exports/{export_id}"]
    assert exports.expire_exports(clock.now + timedelta(hours=25)) == {"expired": 1, "failed": 0}
    assert stored_keys() == [] and ExportModel.get(export_id).state == "EXPIRED"


def test_an_operators_export_for_one_customer_holds_its_devices_only_and_is_audited_there(world):
    export_id = queue(world.operator, org_id="customer")
    assert exports.run_export(export_id) == "READY"
    job = ExportModel.get(export_id)
    assert [row.split(";")[0] for row in stored(export_id)[0].decode().split("\r\n")[1:-1]] == ["X-1", "X-2"]
    assert job.count == 2 and job.file_name in file_names("customer", "csv")
    assert events("customer", "keys_downloaded") == [
        (
            world.operator.user_id,
            {"format": "csv", "filter": {"org_id": "customer"}, "export_id": export_id, "count": 2},
        )
    ]
    assert events("root", "keys_downloaded") == []


def test_a_label_filter_exports_only_the_labelled_devices(world):
    export_id = queue(world.keys, "json", {"label": "roof"})
    assert exports.run_export(export_id) == "READY"
    assert json.loads(stored(export_id)[0]) == {"devices": [{"serial": "X-2", "product_type": "meter", "keys": KEY_B}]}
    assert ExportModel.get(export_id).count == 1
    assert events("customer", "keys_downloaded") == [
        (world.keys.user_id, {"format": "json", "filter": {"label": "roof"}, "export_id": export_id, "count": 1})
    ]


def test_a_jwe_job_is_sealed_for_the_recipient_key_it_was_queued_with(world):
    from jwcrypto.jwe import JWE

    private, public = private_and_public("EC", "P-384")
    assert world.keys.recipient_jwk is None  # the key of the request, not one of the profile
    export_id = queue(world.keys, "jwe", recipient_jwk=public)
    assert exports.run_export(export_id) == "READY"
    body, head = stored(export_id)
    token = JWE()
    token.deserialize(body.decode(), key=private)
    assert json.loads(token.payload) == {
        "devices": [
            {"serial": "X-1", "product_type": "Zähler", "keys": KEY_A},
            {"serial": "X-2", "product_type": "meter", "keys": KEY_B},
        ]
    }
    assert token.jose_header["cty"] == "application/json" and head["ContentType"] == "application/jose"
    job = ExportModel.get(export_id)
    assert job.size_bytes == len(body) and job.file_name in file_names("customer", "jwe")


def test_while_it_runs_a_late_job_is_running_since_its_start_and_due_an_hour_after_it(world, clock, monkeypatch):
    clock.now = clock.start - timedelta(minutes=50)  # queued 50 minutes before a worker took it
    export_id = queue(world.keys)
    clock.now = clock.start
    seen, add = [], key_files.KeyFileWriter.add

    def add_and_look(writer, *args):
        seen.append(ExportModel.get(export_id, consistent_read=True))
        add(writer, *args)

    monkeypatch.setattr(key_files.KeyFileWriter, "add", add_and_look)
    assert exports.run_export(export_id) == "READY"
    running = seen[0]
    assert (running.state, running.started_at, running.attempts) == ("RUNNING", clock.start, 1)
    assert running.due_at == clock.start + timedelta(hours=1)


def test_a_job_left_running_by_a_worker_that_died_is_run_again_on_redelivery(world):
    export_id = queue(world.keys)
    ExportModel.get(export_id).update(actions=[ExportModel.state.set("RUNNING"), ExportModel.attempts.add(1)])
    assert exports.run_export(export_id) == "READY"
    assert ExportModel.get(export_id).attempts == 2


def test_a_job_just_queued_is_found_although_eventually_consistent_reads_lag(world, lagging_replica):
    assert exports.run_export(queue(world.keys)) == "READY"


def test_a_second_delivery_of_a_finished_job_answers_its_state_and_changes_nothing(world, clock, lagging_replica):
    export_id = queue(world.keys)
    exports.run_export(export_id)
    clock.now = clock.start + timedelta(minutes=5)
    assert exports.run_export(export_id) == "READY"
    job = ExportModel.get(export_id, consistent_read=True)
    assert (job.attempts, job.finished_at) == (1, clock.start)
    assert len(events("customer", "keys_downloaded")) == 1


def test_a_delivery_for_no_such_job_answers_missing_and_logs_a_warning(aws, caplog):
    with caplog.at_level("WARNING", logger="keyport.exports"):
        assert exports.run_export("exp_gone") == "MISSING"
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "keyport.exports"] == [
        ("WARNING", "export exp_gone: no such job")
    ]


def test_a_job_whose_owner_lost_the_right_fails_and_the_refusal_is_audited_in_the_jobs_organization(world, clock):
    export_id = queue(world.operator, org_id="customer")
    world.operator.update(actions=[UserModel.roles.set(["VIEWER"])])
    assert exports.run_export(export_id) == "FAILED"
    job = ExportModel.get(export_id)
    assert (job.state, job.reason, job.finished_at) == ("FAILED", NO_RIGHT, clock.now)
    assert events("customer", "keys_download_refused") == [
        (
            world.operator.user_id,
            {
                "format": "csv",
                "filter": {"org_id": "customer"},
                "export_id": export_id,
                "reason": "forbidden",
                "count": 0,
            },
        )
    ]
    assert events("customer", "keys_downloaded") == [] and stored_keys() == []


@pytest.mark.parametrize("change", ["disabled", "deleted"])
def test_a_job_whose_owner_is_no_longer_active_fails_without_a_file_and_the_refusal_is_audited(world, clock, change):
    export_id = queue(world.keys)
    if change == "disabled":
        world.keys.update(actions=[UserModel.status.set("DISABLED")])
    else:
        world.keys.delete()
    assert exports.run_export(export_id) == "FAILED"
    job = ExportModel.get(export_id)
    assert (job.state, job.reason, job.finished_at) == ("FAILED", NOT_ACTIVE, clock.now)
    assert events("customer", "keys_downloaded") == [] and stored_keys() == []
    # "Every download, allowed or refused, writes an audit event" (README): this refusal too, as the job's owner.
    assert events("customer", "keys_download_refused") == [
        (
            world.keys.user_id,
            {"format": "csv", "filter": {}, "export_id": export_id, "reason": "not_authenticated", "count": 0},
        )
    ]


def test_an_unexpected_error_fails_the_job_with_a_plain_reason_and_logs_only_its_type(
    world, clock, monkeypatch, caplog
):
    def broken_add(writer, serial, product_type, keys):
        raise OSError("disk full at /var/keys/X-1")

    export_id = queue(world.keys)
    monkeypatch.setattr(key_files.KeyFileWriter, "add", broken_add)
    with caplog.at_level("WARNING", logger="keyport.exports"):
        assert exports.run_export(export_id) == "FAILED"
    job = ExportModel.get(export_id)
    assert (job.state, job.reason, job.finished_at) == ("FAILED", NOT_WRITTEN, clock.now)
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "keyport.exports"] == [
        ("ERROR", f"export {export_id} failed: OSError")
    ]
    assert stored_keys() == []


def test_a_failure_reason_is_kept_to_500_characters(world, monkeypatch):
    def unreadable(writer, serial, product_type, keys):
        raise KeyMaterialUnreadable("r" * 500 + " and more")

    export_id = queue(world.keys)
    monkeypatch.setattr(key_files.KeyFileWriter, "add", unreadable)
    assert exports.run_export(export_id) == "FAILED"
    assert ExportModel.get(export_id).reason == "r" * 500


def test_a_job_the_sweep_failed_while_it_ran_stays_failed_and_its_stored_file_is_deleted(world, clock, monkeypatch):
    export_id, add = queue(world.keys), key_files.KeyFileWriter.add

    def add_while_the_sweep_runs(writer, *args):
        exports.expire_exports(clock.now + timedelta(minutes=61))
        add(writer, *args)

    monkeypatch.setattr(key_files.KeyFileWriter, "add", add_while_the_sweep_runs)
    assert exports.run_export(export_id) == "FAILED"
    assert ExportModel.get(export_id).state == "FAILED"
    assert stored_keys() == [] and events("customer", "keys_downloaded") == []


def test_a_ready_file_is_fetched_through_a_five_minute_link_and_the_fetch_is_audited_in_the_jobs_org(world):
    export_id = queue(world.operator, org_id="customer")
    exports.run_export(export_id)
    job = ExportModel.get(export_id)
    answer = exports.export_file(principal_of(world.operator), export_id)
    assert list(answer) == ["url"]
    link = urlparse(answer["url"])
    assert link.path.endswith(f"/exports/{export_id}") and parse_qs(link.query)["X-Amz-Expires"] == ["300"]
    assert parse_qs(link.query)["response-content-disposition"] == [f'attachment; filename="{job.file_name}"']
    assert requests.get(answer["url"], timeout=10).content == stored(export_id)[0]
    assert events("customer", "keys_export_fetched") == [
        (world.operator.user_id, {"format": "csv", "export_id": export_id, "count": 2})
    ]


def test_on_the_local_stack_the_file_itself_is_answered_with_its_media_type_and_name(world, local_exports):
    export_id = queue(world.keys)
    exports.run_export(export_id)
    job = ExportModel.get(export_id)
    assert exports.export_file(principal_of(world.keys), export_id) == {
        "body": (
            "serial,product_type,key_name,algorithm,key_hex\r\nX-1,Zähler,app,AES128,"
            + KEY_A[0]["hex"]
            + "\r\nX-2,meter,app,AES128,"
            + KEY_B[0]["hex"]
            + "\r\n"
        ).encode(),
        "media_type": "text/csv; charset=utf-8",
        "file_name": job.file_name,
    }


@pytest.mark.parametrize(
    "how,error",
    [
        (
            "queued",
            {
                "code": "export_not_ready",
                "message": "The export is not ready yet; its state is QUEUED.",
                "details": {"state": "QUEUED"},
            },
        ),
        (
            "failed",
            {"code": "export_not_ready", "message": "The export failed: " + NOT_ACTIVE, "details": {"state": "FAILED"}},
        ),
        ("expired", {"code": "export_expired", "message": "The file has expired; ask for a new export."}),
        ("right taken", {"code": "forbidden", "message": NO_RIGHT}),
    ],
)
def test_a_file_not_to_be_had_is_refused_with_what_became_of_it(world, clock, how, error):
    export_id = queue(world.keys)
    if how == "failed":
        world.keys.update(actions=[UserModel.status.set("DISABLED")])
    if how != "queued":
        exports.run_export(export_id)
    if how == "expired":
        clock.now = clock.start + timedelta(hours=24)
    if how == "right taken":
        world.keys.update(actions=[UserModel.roles.set(["VIEWER"])])
    with pytest.raises(exports.DomainError) as refused:
        exports.export_file(principal_of(world.keys), export_id)
    assert refused.value.to_body() == {"error": error}
    assert events("customer", "keys_export_fetched") == []


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_a_job_without_a_recipient_key_stores_none(world, file_format):
    # Only a jwe job is sealed for someone: any other stores no recipient at all (not an empty one).
    assert ExportModel.get(queue(world.keys, file_format)).recipient_jwk is None
