"""The download list over HTTP, with the job run as Lambda runs it: SQS message -> worker -> S3 -> presigned link."""

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from chalicelib.models import AuditEventModel, ExportModel
from chalicelib.services.keys import exports
from tests.conftest import aws_client, run_queued_exports
from tests.helpers import make_user
from tests.jose_keys import private_and_public

KEY_A = [{"name": "app", "algorithm": "AES128", "hex": "00112233445566778899aabbccddeeff"}]
BUCKET = "keyport-test-exports"


@pytest.fixture
def world(api, make_key_world):
    """customer owns X-1, X-2 (claimed) and X-3 (pending); X-4 is unclaimed; rival owns R-1 (see make_key_world);
    and another key manager of customer."""
    make_key_world("X", KEY_A, "=1+1")
    make_user(email="o@customer.example", org_id="customer", roles=("KEY_MANAGER",))
    return {name: api.login(f"{name[0]}@customer.example") for name in ("keys", "other", "viewer")}


def fetch(api, token, export_id):
    """Follow the 302 to the presigned link (moto answers it) and answer the object's metadata and body."""
    response = api.call("GET", f"/exports/{export_id}/file", token=token)
    assert response.status_code == 302, response.body
    link = response.headers["Location"]
    assert parse_qs(urlparse(link).query)["X-Amz-Expires"] == ["300"] and f"exports/{export_id}" in link
    download = requests.get(link, timeout=10)
    assert download.status_code == 200
    head = aws_client("s3").head_object(Bucket=BUCKET, Key=f"exports/{export_id}")
    return head, download


def test_an_export_is_queued_run_by_the_worker_and_fetched_through_a_presigned_link(api, world):
    queued = api.call("POST", "/exports", {"format": "csv"}, token=world["keys"])
    assert queued.status_code == 202 and queued.data["state"] == "QUEUED" and queued.data["count"] is None
    assert run_queued_exports() == [queued.data["id"]]
    job = api.call("GET", f"/exports/{queued.data['id']}", token=world["keys"]).data
    assert (job["state"], job["count"], job["format"]) == ("READY", 2, "csv")
    expires = datetime.fromisoformat(job["expires_at"]) - datetime.fromisoformat(job["finished_at"])
    assert expires == timedelta(hours=24)
    head, download = fetch(api, world["keys"], job["id"])
    assert head["ServerSideEncryption"] == "aws:kms"
    assert download.headers["Content-Disposition"] == f'attachment; filename="{job["file_name"]}"'
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows == [
        ["serial", "product_type", "key_name", "algorithm", "key_hex"],
        ["X-1", "'=1+1", "app", "AES128", KEY_A[0]["hex"]],
        ["X-2", "meter", "app", "AES128", "00112233445566778899aabbccddeeff"],
    ]


def test_the_download_list_shows_only_the_actors_own_jobs_newest_first(api, world):
    first = api.call("POST", "/exports", {"format": "json"}, token=world["keys"]).data["id"]
    second = api.call("POST", "/exports", {"format": "csv", "label": "roof"}, token=world["keys"]).data["id"]
    theirs = api.call("POST", "/exports", {"format": "csv"}, token=world["other"]).data["id"]
    listed = api.call("GET", "/exports", token=world["keys"]).data
    assert [job["id"] for job in listed["items"]] == [second, first]
    assert listed["items"][0]["filters"] == {"label": "roof"}
    page = api.call("GET", "/exports?limit=1", token=world["keys"]).data
    assert [job["id"] for job in page["items"]] == [second] and page["next_cursor"]
    for path in (f"/exports/{theirs}", f"/exports/{theirs}/file", "/exports/exp_nothing", "/exports/exp_nothing/file"):
        response = api.call("GET", path, token=world["keys"])
        assert (response.status_code, response.data["error"]["code"]) == (404, "export_not_found")


def test_a_file_not_ready_answers_409_and_an_expired_one_410(api, world):
    export_id = api.call("POST", "/exports", {"format": "json"}, token=world["keys"]).data["id"]
    response = api.call("GET", f"/exports/{export_id}/file", token=world["keys"])
    assert (response.status_code, response.data["error"]["code"]) == (409, "export_not_ready")
    run_queued_exports()
    assert exports.expire_exports(datetime.now(timezone.utc) + timedelta(hours=23))["expired"] == 0
    assert exports.expire_exports(datetime.now(timezone.utc) + timedelta(hours=25)) == {"expired": 1, "failed": 0}
    assert api.call("GET", f"/exports/{export_id}", token=world["keys"]).data["state"] == "EXPIRED"
    response = api.call("GET", f"/exports/{export_id}/file", token=world["keys"])
    assert (response.status_code, response.data["error"]["code"]) == (410, "export_expired")
    assert aws_client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_a_job_that_fails_is_failed_with_a_reason_and_leaves_no_file(api, world, monkeypatch):
    from chalicelib.services.keys import files as key_files

    def broken_add(self, serial, product_type, keys):
        raise OSError("disk full")

    export_id = api.call("POST", "/exports", {"format": "csv"}, token=world["keys"]).data["id"]
    monkeypatch.setattr(key_files.KeyFileWriter, "add", broken_add)
    run_queued_exports()
    job = api.call("GET", f"/exports/{export_id}", token=world["keys"]).data
    assert job["state"] == "FAILED" and "could not be written" in job["reason"] and "disk" not in job["reason"]
    response = api.call("GET", f"/exports/{export_id}/file", token=world["keys"])
    assert (response.status_code, response.data["error"]["code"]) == (409, "export_not_ready")
    assert aws_client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_a_job_whose_owner_lost_the_right_meanwhile_fails_without_a_file(api, world):
    from chalicelib.models import UserModel

    export_id = api.call("POST", "/exports", {"format": "csv"}, token=world["keys"]).data["id"]
    user = next(UserModel.scan(UserModel.email == "k@customer.example"))
    user.update(actions=[UserModel.roles.set(["VIEWER"])])
    run_queued_exports()
    job = ExportModel.get(export_id)
    assert job.state == "FAILED" and "key downloads" in job.reason
    assert aws_client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_a_second_delivery_of_a_finished_job_changes_nothing(api, world):
    export_id = api.call("POST", "/exports", {"format": "csv"}, token=world["keys"]).data["id"]
    run_queued_exports()
    finished = ExportModel.get(export_id).finished_at
    assert exports.run_export(export_id) == "READY"
    assert ExportModel.get(export_id).finished_at == finished and ExportModel.get(export_id).attempts == 1


def test_jobs_stuck_past_their_deadline_are_failed_by_the_sweep(api, world):
    export_id = api.call("POST", "/exports", {"format": "csv"}, token=world["keys"]).data["id"]
    assert exports.expire_exports(datetime.now(timezone.utc) + timedelta(minutes=30))["failed"] == 0
    assert exports.expire_exports(datetime.now(timezone.utc) + timedelta(minutes=61))["failed"] == 1
    assert ExportModel.get(export_id).state == "FAILED"
    assert exports.run_export(export_id) == "FAILED"  # a late delivery does not revive it


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"format": "csv"}, 403, "forbidden"),
        ({"format": "csv", "org_id": "rival"}, 404, "org_not_found"),
    ],
)
def test_refused_exports_queue_nothing_and_are_audited(api, world, body, status, code):
    token = world["viewer"] if status == 403 else world["keys"]
    response = api.call("POST", "/exports", body, token=token)
    assert (response.status_code, response.data["error"]["code"]) == (status, code)
    assert run_queued_exports() == []
    refused = [e for e in AuditEventModel.scan() if e.action == "keys_download_refused"]
    assert len(refused) == 1 and refused[0].detail["reason"] == code


def test_two_indexed_filters_at_once_are_refused_before_anything_is_queued(api, world):
    response = api.call(
        "POST", "/exports", {"format": "csv", "label": "roof", "product_type": "meter"}, token=world["keys"]
    )
    assert (response.status_code, response.data["error"]["code"]) == (400, "filter_not_indexed")
    assert run_queued_exports() == []


def test_a_jwe_export_decrypts_with_the_recipients_private_key_to_the_json_file(api, world):
    private, public = private_and_public("EC", "P-384")
    export_id = api.call("POST", "/exports", {"format": "jwe", "recipient_jwk": public}, token=world["keys"]).data["id"]
    run_queued_exports()
    head, download = fetch(api, world["keys"], export_id)
    assert head["ContentType"] == "application/jose"
    from jwcrypto.jwe import JWE

    token = JWE()
    token.deserialize(download.text, key=private)
    assert token.jose_header["cty"] == "application/json"
    assert json.loads(token.payload) == {
        "devices": [
            {"serial": "X-1", "product_type": "=1+1", "keys": KEY_A},
            {"serial": "X-2", "product_type": "meter", "keys": KEY_A},
        ]
    }
    assert token.jose_header["alg"] == "ECDH-ES+A256KW" and token.jose_header["enc"] == "A256GCM"


def test_audit_counts_every_key_that_left_and_logs_no_key(api, world, caplog):
    csv_id = api.call("POST", "/exports", {"format": "csv"}, token=world["keys"]).data["id"]
    json_id = api.call("POST", "/exports", {"format": "json", "label": "roof"}, token=world["keys"]).data["id"]
    run_queued_exports()
    api.call("GET", "/devices/keys?format=csv", token=world["keys"])
    api.call("GET", "/devices/X-1/keys", token=world["keys"])
    downloaded = [e for e in AuditEventModel.query("customer") if e.action == "keys_downloaded"]
    assert sorted(e.detail["count"] for e in downloaded) == [1, 1, 2, 2]
    # Each export's event names it, its format and its filter (a filtered all() could have held over nothing).
    exported = sorted(
        (e.detail["export_id"], e.detail["format"], e.detail["filter"], e.detail["count"])
        for e in downloaded
        if "export_id" in e.detail
    )
    assert exported == sorted([(csv_id, "csv", {}, 2), (json_id, "json", {"label": "roof"}, 1)])
    assert KEY_A[0]["hex"] not in caplog.text and KEY_A[0]["hex"] not in str([e.detail for e in downloaded])


def test_a_job_whose_owner_was_disabled_after_queueing_fails_without_a_file(api, world):
    from chalicelib.models import UserModel

    export_id = api.call("POST", "/exports", {"format": "csv"}, token=world["keys"]).data["id"]
    user = next(UserModel.scan(UserModel.email == "k@customer.example"))
    assert user.roles == ["KEY_MANAGER"]  # still allowed to download keys: only the status changes
    user.update(actions=[UserModel.status.set("DISABLED")])
    assert run_queued_exports() == [export_id]
    job = ExportModel.get(export_id)
    assert job.state == "FAILED" and "no longer active" in job.reason
    assert aws_client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
