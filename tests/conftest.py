"""Shared fixtures. The environment is set before `import app` (Chalice reads settings at import)."""

import functools
import os
import tempfile

_WRAPPING_KEY_FILE = os.path.join(tempfile.mkdtemp(prefix="keyport-test-"), "wrapping-key.bin")
with open(_WRAPPING_KEY_FILE, "wb") as _handle:
    _handle.write(os.urandom(32))

os.environ.update(
    {
        "KEYPORT_WRAPPING_KEY_FILE": _WRAPPING_KEY_FILE,
        "KEYPORT_STAGE": "test",
        "KEYPORT_TABLE_PREFIX": "test-",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "KEYPORT_PUBLIC_BASE_URL": "https://keyport.test",
        "KEYPORT_SERVER_SECRET": "5e" * 32,
        # Cheaper argon2id in tests; the production parameters are asserted in tests/unit/test_security.py.
        "KEYPORT_ARGON2_TIME_COST": "1",
        "KEYPORT_ARGON2_MEMORY_KIB": "8192",
        "KEYPORT_ARGON2_PARALLELISM": "1",
        # Exports run through (moto's) SQS and S3 as on AWS; the local folder backends have their own tests.
        "KEYPORT_EXPORT_QUEUE_URL": "https://sqs.eu-central-1.amazonaws.com/123456789012/keyport-test-exports",
        "KEYPORT_EXPORT_BUCKET": "keyport-test-exports",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("KEYPORT_KMS_KEY_ARN", None)
os.environ.pop("KEYPORT_DYNAMODB_ENDPOINT", None)

import pytest  # noqa: E402

# moto hooks every botocore client created after this import, so cached clients stay mocked.
from moto import mock_aws  # noqa: E402

from chalicelib import models  # noqa: E402


def _one_moto_transaction_at_a_time():
    """moto copies a table for each action of a transaction (to roll it back), while other threads may change
    it: an import's writer threads failed with "dictionary changed size during iteration", and an import of
    1,000 devices took 40 s of copying. Here transactions take turns (DynamoDB runs them concurrently itself)
    and each copies a table once."""
    import copy
    import threading

    from moto.dynamodb import models as moto_dynamodb

    lock, transact, copies = threading.Lock(), moto_dynamodb.DynamoDBBackend.transact_write_items, threading.local()

    class CopyOncePerTransaction:
        @staticmethod
        def deepcopy(value, memo=None):
            made = getattr(copies, "made", None)
            if made is None:
                return copy.deepcopy(value, memo)
            if id(value) not in made:
                made[id(value)] = (value, copy.deepcopy(value, memo))  # the original held: its id stays its own
            return made[id(value)][1]

    def transact_write_items(self, *args, **kwargs):
        with lock:
            copies.made = {}
            try:
                return transact(self, *args, **kwargs)
            finally:
                copies.made = None

    moto_dynamodb.copy = CopyOncePerTransaction
    moto_dynamodb.DynamoDBBackend.transact_write_items = transact_write_items


_one_moto_transaction_at_a_time()


_empty_tables = {}


def _fresh_tables():
    """Create the tables once per process; later tests get a deep copy of moto's empty tables (~1 ms
    instead of ~200 ms for twelve CreateTable calls)."""
    import copy

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]
    if not _empty_tables:
        models.create_tables()
        _empty_tables.update(copy.deepcopy(backend.tables))
    else:
        backend.tables.update(copy.deepcopy(_empty_tables))


@pytest.fixture
def aws():
    """moto for every AWS call of the test, with fresh (empty) tables, the export queue and bucket."""
    with mock_aws():
        _fresh_tables()
        aws_client("sqs").create_queue(QueueName="keyport-test-exports")
        aws_client("s3").create_bucket(
            Bucket="keyport-test-exports", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
        )
        yield


@pytest.fixture
def local_exports(tmp_path, monkeypatch):
    """Exports through the local stack's backends (queue folder, sealed files) under a temporary KEYPORT_HOME."""
    import dataclasses

    from chalicelib.config import get_settings
    from chalicelib.services.keys import export_storage

    settings = dataclasses.replace(
        get_settings(), export_queue_url=None, export_bucket=None, keyport_home=str(tmp_path)
    )
    monkeypatch.setattr(export_storage, "get_settings", lambda: settings)
    return tmp_path


def run_queued_exports():
    """What Lambda does with the export queue: every message, one SQS event each, to the app's handler; answer
    the export ids run (the mail jobs of public requests, queued beside them, run too)."""
    import json

    import app

    url = os.environ["KEYPORT_EXPORT_QUEUE_URL"]
    ran = []
    while True:
        messages = aws_client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return ran
        for message in messages:
            app.export_worker(
                {
                    "Records": [
                        {
                            "messageId": message["MessageId"],
                            "receiptHandle": message["ReceiptHandle"],
                            "body": message["Body"],
                            "attributes": {},
                            "messageAttributes": {},
                            "eventSource": "aws:sqs",
                        }
                    ]
                },
                None,
            )
            aws_client("sqs").delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if "export_id" in json.loads(message["Body"]):
                ran.append(json.loads(message["Body"])["export_id"])


def run_queued_jobs():
    """Drain the worker queue: the mails of password resets and registrations go out now."""
    run_queued_exports()


class Mailbox:
    """What was sent through moto's SES and SNS during a test."""

    def messages(self, to=None):
        """Sent e-mails (parsed), optionally only those to one address."""
        import email
        import email.policy

        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        found = []
        for sent in ses_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"].sent_messages:
            raw = sent.raw_data.encode() if isinstance(sent.raw_data, str) else sent.raw_data
            message = email.message_from_bytes(raw, policy=email.policy.default)
            if to is None or message["To"] == to:
                found.append(message)
        return found

    def text(self, message):
        """The plain-text part of a message."""
        return message.get_body(preferencelist=("plain",)).get_content()

    def sms(self, to=None):
        """Sent text messages as (phone, text)."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns.models import sns_backends

        sent = sns_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"].sms_messages.values()
        return [(phone, text) for phone, text, *_ in sent if to is None or phone == to]


@pytest.fixture
def mailbox(aws):
    """System templates loaded and SES ready to send (the sender verified): mail really goes out, into moto."""
    from chalicelib.services.mail_templates.templates import sync_default_templates

    sync_default_templates()
    aws_client("ses").verify_email_identity(EmailAddress="no-reply@keyport.local")
    return Mailbox()


@pytest.fixture
def make_key_world(aws):
    """make_key_world(prefix, keys=None, product_type="meter"): the world key downloads and exports are tested in
    (over HTTP and from the CLI). maker made every device; customer owns <prefix>-1 (with these keys and product
    type) and <prefix>-2 (claimed, label roof), <prefix>-3 is pending for it and <prefix>-4 unclaimed; rival owns
    R-1. customer has a KEY_MANAGER k@customer.example (CSV delimiter ",") and a VIEWER v@customer.example."""
    from tests.helpers import make_device, make_org, make_user

    def build(prefix, keys=None, product_type="meter"):
        for org in ("maker", "customer", "rival"):
            make_org(org)
        make_device(f"{prefix}-1", "maker", "customer", keys=keys, product_type=product_type)
        make_device(f"{prefix}-2", "maker", "customer", labels=("roof",))
        make_device(f"{prefix}-3", "maker", "customer", status="PENDING")
        make_device(f"{prefix}-4", "maker")
        make_device("R-1", "maker", "rival")
        make_user(email="k@customer.example", org_id="customer", roles=("KEY_MANAGER",), csv_delimiter=",")
        make_user(email="v@customer.example", org_id="customer", roles=("VIEWER",))

    return build


@functools.lru_cache(maxsize=None)
def aws_client(service):
    """One boto3 client per service for the whole run: moto intercepts it in every test, and building a client
    costs ~0.2 s of model loading (moto resets boto3's default session, so boto3.client() would rebuild it)."""
    import boto3

    return boto3.session.Session().client(service, region_name="eu-central-1")


def pytest_collection_modifyitems(config, items):
    """The two schemathesis runs and the 100,000-device export take minutes each: start them first (with
    `--maxschedchunk 1` each xdist worker is handed two tests at a time: positions 0-1 and 2-3), and let every
    other test fill the time around them."""
    long = [
        item
        for item in items
        if item.nodeid.startswith(("tests/e2e/test_schemathesis.py", "tests/contract/test_exports_scale.py"))
    ]
    rest = [item for item in items if item not in long]
    fuzz = [item for item in long if "schemathesis" in item.nodeid]
    scale = [item for item in long if item not in fuzz]
    if len(fuzz) == 2 and len(rest) >= 2:
        second = scale or rest[:1]
        items[:] = [fuzz[0], *second, fuzz[1], *[item for item in rest if item not in second]]
