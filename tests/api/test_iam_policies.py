"""Each function's IAM policy (.chalice/policy-<function>.json) allows exactly the AWS calls its code path makes.

The calls are recorded under moto while that function's code runs (the API through the Chalice app, the worker
through its SQS handler, each hourly job through the service call its handler makes), mapped to the IAM actions
they need, and compared with the policy's actions both ways: nothing missing, nothing granted beyond them. The
hourly jobs' policies name only the tables and indexes their sweeps touch, compared the same way.
"""

import contextlib
import functools
import json
import os
import re
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.config import get_settings
from chalicelib.local import PROJECT_DIR
from tests.aws_calls import record_aws_calls
from tests.conftest import aws_client, run_queued_exports
from tests.helpers import STRONG_PASSWORD, make_org, make_user

POLICY_FILES = {
    "api_handler": "policy-api.json",
    "export_worker": "policy-export-worker.json",
    "expire-invitations": "policy-expire-invitations.json",
    "expire-exports": "policy-expire-exports.json",
    "expire-installations": "policy-expire-installations.json",
}
# What Lambda does with every function's role besides the code: write its logs, send its traces (xray: true).
PLATFORM = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# The worker's SQS event source polls the queue with the worker's role.
EVENT_SOURCE = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
TRANSACTION_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def iam_actions(service, operation, params):
    """The IAM actions one recorded call needs; S3 calls on the SSE-KMS bucket add the KMS calls S3 makes for the
    caller (marked "via s3": the policy grants them only through S3)."""
    if service == "dynamodb" and operation == "TransactWriteItems":
        return {f"dynamodb:{TRANSACTION_ITEMS[kind]}" for item in params["TransactItems"] for kind in item}
    if service == "dynamodb" and operation == "TransactGetItems":
        return {"dynamodb:GetItem"}
    if service == "s3" and operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        # The bucket encrypts with the device-key CMK by default; a multipart upload also decrypts the data key.
        return {"s3:PutObject", "kms:GenerateDataKey via s3"} | (
            {"kms:Decrypt via s3"} if operation != "PutObject" else set()
        )
    if service == "s3" and operation in ("GetObject", "HeadObject"):
        return {"s3:GetObject", "kms:Decrypt via s3"}
    return {f"{service}:{operation}"}


def statements_of(function):
    """The statements of the function's policy file."""
    with open(os.path.join(PROJECT_DIR, ".chalice", POLICY_FILES[function])) as handle:
        return json.load(handle)["Statement"]


def granted(function):
    """The actions the function's policy allows (KMS through S3 marked "via s3")."""
    allowed = set()
    for statement in statements_of(function):
        if statement["Effect"] == "Allow":
            via_s3 = "kms:ViaService" in json.dumps(statement.get("Condition", {}))
            allowed |= {action + (" via s3" if via_s3 else "") for action in statement["Action"]}
    return allowed


class Functions:
    """Which function's code runs now (None: the test's own setup and checks), and every AWS call made meanwhile."""

    def __init__(self):
        self.current = None
        self.calls = []

    @contextlib.contextmanager
    def acting(self, function):
        """A context in which the calls count for the function."""
        self.current = function
        try:
            yield
        finally:
            self.current = None

    def tables(self, function):
        """The tables (and indexes) the function's calls read or write, named as the policies name them."""
        named = set()
        for who, service, _, params in self.calls:
            if who != function or service != "dynamodb":
                continue
            requests = [params, *(request for item in params.get("TransactItems", []) for request in item.values())]
            for request in requests:
                for table in [request.get("TableName"), *request.get("RequestItems", {})]:
                    if table:
                        name = "keyport-${Stage}-" + table.removeprefix(get_settings().table_prefix)
                        named.add(name + (f"/index/{request['IndexName']}" if "IndexName" in request else ""))
        return named

    def needed(self, function):
        """The IAM actions of the function's recorded calls."""
        return set().union(
            *[
                iam_actions(service, operation, params)
                for who, service, operation, params in self.calls
                if who == function
            ]
        )


@pytest.fixture
def functions(aws, monkeypatch):
    """The AWS calls of the test, each attributed to the function whose code made it: the API while the Chalice app
    answers, the worker while its SQS handler runs. Device keys are wrapped with a (moto) KMS key, as on AWS, and
    an HMAC under the server secret counts as the GetSecretValue that reads the secret on AWS (whether or not
    this process took the secret from the environment or had it cached)."""
    import app
    from chalicelib import crypto, security

    key_arn = aws_client("kms").create_key(Description="keyport device keys")["KeyMetadata"]["Arn"]
    secret_arn = aws_client("secretsmanager").create_secret(
        Name="keyport-test-server-secret", SecretString=os.environ["KEYPORT_SERVER_SECRET"]
    )["ARN"]
    saved = {name: os.environ.get(name) for name in ("KEYPORT_KMS_KEY_ARN", "KEYPORT_SERVER_SECRET_ARN")}
    os.environ.update({"KEYPORT_KMS_KEY_ARN": key_arn, "KEYPORT_SERVER_SECRET_ARN": secret_arn})
    caches = (get_settings, crypto.master_key_provider, crypto._decrypt_manager)
    for cache in caches:
        cache.cache_clear()
    recorder = Functions()

    def acting_as(function, handler):
        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            with recorder.acting(function):
                return handler(*args, **kwargs)

        return wrapper

    chalice_class = type(app.app)
    monkeypatch.setattr(chalice_class, "__call__", acting_as("api_handler", chalice_class.__call__))
    monkeypatch.setattr(app, "export_worker", acting_as("export_worker", app.export_worker))
    real_hmac = security.hmac

    class SecretWatch:
        """The security module's hmac: every HMAC it computes is keyed with the server secret."""

        def __getattr__(self, name):
            return getattr(real_hmac, name)

        def new(self, *args, **kwargs):
            if recorder.current:
                recorder.calls.append((recorder.current, "secretsmanager", "GetSecretValue", {}))
            return real_hmac.new(*args, **kwargs)

    monkeypatch.setattr(security, "hmac", SecretWatch())
    try:
        with record_aws_calls(tag=lambda: recorder.current) as calls:
            recorder.calls = calls
            yield recorder
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for cache in caches:
            cache.cache_clear()


TABLE_ARN = "arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"
EVERY_TABLE = {"keyport-${Stage}-*", "keyport-${Stage}-*/index/*"}


def granted_tables(function):
    """The tables (and indexes) the function's policy names, without the ARN's account part."""
    return {
        resource["Fn::Sub"].removeprefix(TABLE_ARN)
        for statement in statements_of(function)
        if any(action.startswith("dynamodb:") for action in statement["Action"])
        for resource in statement["Resource"]
    }


def assert_policy_is_exactly(function, needed, tables=None):
    """The function's policy allows the needed actions and no other; on the tables given (or the stage's all)."""
    allowed = granted(function)
    assert sorted(needed - allowed) == [], f"{function} makes calls its policy does not allow"
    assert sorted(allowed - needed) == [], f"{function}'s policy grants calls its code never makes"
    assert granted_tables(function) == (tables or EVERY_TABLE), sorted(tables or EVERY_TABLE)


def assert_job_policy_is_exactly(functions, job):
    """An hourly job's policy: exactly its recorded calls, on exactly the tables they touched."""
    assert_policy_is_exactly(job, functions.needed(job) | PLATFORM, functions.tables(job))


def mailed_link(mailbox, to, path):
    message = mailbox.messages(to=to)[-1]
    return re.search(rf"{path}/([A-Za-z0-9_-]+)", mailbox.text(message)).group(1)


def test_the_api_function_may_make_exactly_the_calls_of_its_requests(api, functions, mailbox, login_as):
    make_org("maker")
    make_org("customer", reference="INV-1")
    make_user(
        email="maker@example.com",
        org_id="maker",
        roles=("ORG_ADMIN",),
        permissions=("devices.import", "batches.manage"),
    )
    make_user(email="admin@customer.example", org_id="customer", roles=("ORG_ADMIN",))
    make_user(email="keys@customer.example", org_id="customer", roles=("KEY_MANAGER",))
    maker, admin, keys = (
        api.login(email) for email in ("maker@example.com", "admin@customer.example", "keys@customer.example")
    )
    items = [
        {
            "serial": f"SN-{n}",
            "product_type": "meter",
            "mac": f"02:00:00:00:00:0{n}",
            "claim_code": f"CLAIMCODE{n}",
            "id_code": f"ID000{n}",
            "keys": [{"name": "app", "algorithm": "AES128", "hex": "00" * 16}],
        }
        for n in range(1, 4)
    ]
    imported = api.call("POST", "/devices/import", {"items": items}, token=maker).data
    assert imported["imported"] == 3, imported
    assert api.call("POST", "/devices/SN-1/claim", {"claim_code": "CLAIMCODE1"}, token=admin).status_code == 200
    assert api.call("GET", "/devices/SN-1/keys", token=keys).status_code == 200
    # A maker hands devices to a partner in a batch, which the partner confirms.
    assert (
        api.call("POST", "/orgs/maker/partners", {"partner_org_id": "customer"}, token=login_as("OPERATOR")).status_code
        == 201
    )
    batch = api.call(
        "POST",
        "/batches",
        {"reference": "PO-1", "org_id": "customer", "serials": ["SN-2", "SN-3"], "requires_confirmation": True},
        token=maker,
    ).data
    assert api.call("POST", f"/batches/{batch['id']}/confirm", token=admin).data["state"] == "CONFIRMED"
    assert api.call("GET", "/devices?claim_status=CLAIMED", token=keys).status_code == 200
    assert api.call("GET", "/devices/keys?format=csv", token=keys).status_code == 200
    # Users get their credentials by mail, or split between mail and a text message.
    assert (
        api.call(
            "POST",
            "/users",
            {
                "name": "Kim",
                "email": "kim@customer.example",
                "roles": ["VIEWER"],
                "org_id": "customer",
                "phone": "+4915123456789",
                "delivery": "split",
            },
            token=admin,
        ).status_code
        == 201
    )
    invitation = api.call(
        "POST",
        "/invitations",
        {"name": "Ina", "email": "ina@customer.example", "org_id": "customer", "roles": ["VIEWER"]},
        token=admin,
    ).data
    assert api.call("POST", f"/invitations/{invitation['id']}/send", token=admin).status_code == 200
    token = invitation["link"].rsplit("/invite/", 1)[1]
    assert (
        api.call(
            "POST", f"/public/invitations/{token}/accept", {"name": "Ina", "password": STRONG_PASSWORD}
        ).status_code
        == 201
    )
    # Exports and public requests are queued for the worker; the file is fetched through a presigned link.
    export = api.call("POST", "/exports", {"format": "csv"}, token=keys).data
    assert api.call("POST", "/public/password-resets", {"email": "keys@customer.example"}).status_code == 202
    assert export["id"] in run_queued_exports()
    assert api.call("GET", f"/exports/{export['id']}/file", token=keys).status_code == 302
    reset = mailed_link(mailbox, "keys@customer.example", "reset-password")
    assert (
        api.call("POST", f"/public/password-resets/{reset}", {"new_password": "Another-Horse-7-Battery"}).status_code
        == 204
    )
    assert api.call("GET", "/audit", token=admin).status_code == 200
    assert api.call("POST", "/auth/logout", token=admin).status_code == 204

    assert_policy_is_exactly("api_handler", functions.needed("api_handler") | PLATFORM)


@pytest.fixture
def catalog(api):
    """A customer's key manager with two claimed devices, and a user who may ask for a password reset."""
    from tests.helpers import make_device

    make_org("customer")
    for serial in ("SN-1", "SN-2"):
        make_device(serial, owner_org_id="customer")
    make_user(email="keys@customer.example", org_id="customer", roles=("KEY_MANAGER",))
    return api.login("keys@customer.example")


def test_the_export_worker_may_make_exactly_the_calls_of_its_jobs(api, functions, mailbox, catalog, monkeypatch):
    import boto3.s3.transfer

    from tests.jose_keys import private_and_public

    csv_export = api.call("POST", "/exports", {"format": "csv"}, token=catalog).data
    _, public = private_and_public("EC", "P-384")
    jwe_export = api.call("POST", "/exports", {"format": "jwe", "recipient_jwk": public}, token=catalog).data
    assert api.call("POST", "/public/password-resets", {"email": "keys@customer.example"}).status_code == 202
    assert (
        api.call(
            "POST",
            "/public/registrations",
            {
                "kind": "installer",
                "name": "Ines",
                "email": "ines@schmidt.example",
                "phone": "+4915123456789",
                "company_name": "Schmidt",
                "company_address": "Hauptstr. 1, 24103 Kiel",
                "language": "de",
            },
        ).status_code
        == 202
    )
    assert set(run_queued_exports()) == {csv_export["id"], jwe_export["id"]}
    # A big file (8 MB and more) goes up in parts, which S3 encrypts with the same key: one more export as if.
    config = boto3.s3.transfer.TransferConfig
    monkeypatch.setattr(boto3.s3.transfer, "TransferConfig", functools.partial(config, multipart_threshold=1))
    big_export = api.call("POST", "/exports", {"format": "json"}, token=catalog).data
    assert run_queued_exports() == [big_export["id"]]
    assert {message["X-Keyport-Mail-Type"] for message in mailbox.messages()} >= {"password_reset"}
    needed = functions.needed("export_worker")
    assert {"s3:PutObject", "kms:Decrypt via s3"} <= needed  # the multipart upload really ran

    assert_policy_is_exactly("export_worker", needed | PLATFORM | EVENT_SOURCE)


def test_the_hourly_invitation_expiry_may_make_exactly_its_calls(api, functions, login_as):
    from chalicelib.services.tenants.invitation_retention import purge_closed_invitations
    from chalicelib.services.tenants.invitations import expire_invitations

    make_org("customer")
    admin = login_as("ORG_ADMIN", org_id="customer")
    for n in range(2):
        assert (
            api.call(
                "POST",
                "/invitations",
                {"name": f"I{n}", "email": f"i{n}@customer.example", "org_id": "customer", "roles": ["VIEWER"]},
                token=admin,
            ).status_code
            == 201
        )
    with functions.acting("expire-invitations"):
        assert expire_invitations(datetime.now(timezone.utc) + timedelta(days=8))["expired"] == 2
        assert purge_closed_invitations(datetime.now(timezone.utc) + timedelta(days=8 + 90)) == {"purged": 2}

    assert_job_policy_is_exactly(functions, "expire-invitations")


def test_the_hourly_export_sweep_may_make_exactly_its_calls(api, functions, catalog):
    from chalicelib.services.keys.exports import expire_exports

    ready = api.call("POST", "/exports", {"format": "csv"}, token=catalog).data
    assert run_queued_exports() == [ready["id"]]
    stuck = api.call("POST", "/exports", {"format": "csv"}, token=catalog).data
    assert stuck["state"] == "QUEUED"
    with functions.acting("expire-exports"):
        assert expire_exports(datetime.now(timezone.utc) + timedelta(hours=25)) == {"expired": 1, "failed": 1}

    assert_job_policy_is_exactly(functions, "expire-exports")


def test_the_hourly_installation_expiry_may_make_exactly_its_calls(api, functions, mailbox, login_as):
    from chalicelib.services.installers.installations import expire_installations
    from tests.helpers import make_device

    make_org("schmidt")
    make_device("WM-1", id_code="ID0001", mac="00:1a:2b:3c:4d:01", product_type="water-meter")
    installer = login_as("INSTALLER", org_id="schmidt")
    assert (
        api.call(
            "POST",
            "/installations",
            {
                "id_code": "ID0001",
                "mac": "00:1a:2b:3c:4d:01",
                "web_address": "https://alarm-1.example.net",
                "customer": {"email": "erika@example.com", "name": "Erika"},
            },
            token=installer,
        ).status_code
        == 201
    )
    with functions.acting("expire-installations"):
        assert expire_installations(datetime.now(timezone.utc) + timedelta(days=15))["expired"] == 1

    assert_job_policy_is_exactly(functions, "expire-installations")
