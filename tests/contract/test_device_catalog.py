"""The catalog on DynamoDB Local: a page costs the same number of calls however big the catalog is."""

import collections
import contextlib

from chalicelib.models import DeviceModel
from chalicelib.permissions import Principal
from chalicelib.services.devices.catalog import list_devices
from tests.helpers import make_org


@contextlib.contextmanager
def count_dynamodb_calls():
    """Count DynamoDB operations of the models' clients, transactions included (a botocore before-call hook)."""
    calls = collections.Counter()

    def hook(model, **_):
        calls[model.name] += 1

    from chalicelib import models

    clients = {
        id(client): client for client in (DeviceModel._get_connection().connection.client, models.connection().client)
    }.values()
    for client in clients:
        client.meta.events.register("before-call.dynamodb", hook)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.dynamodb", hook)


def fill(start, stop):
    """Minimal devices of maker "maker", every second one claimed by "owner"; written in batches."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    with DeviceModel.batch_write() as batch:
        for n in range(start, stop):
            owner = "owner" if n % 2 == 0 else None
            status = "CLAIMED" if owner else "UNCLAIMED"
            batch.save(
                DeviceModel(
                    f"D{n:07d}",
                    product_type="meter",
                    mac="02:00:00:00:00:01",
                    maker_org_id="maker",
                    owner_org_id=owner,
                    claim_status=status,
                    wrapped_keys=b"x",
                    import_id="imp",
                    imported_at=now,
                    imported_by="u",
                    **DeviceModel.index_keys("maker", owner, status, "meter"),
                )
            )


PAGES = [
    ("imported", {}),
    ("imported", {"claim_status": "UNCLAIMED"}),
    ("imported", {"serial": "D00000"}),
    ("owned", {}),
    ("owned", {"product_type": "meter"}),
    ("owned", {"claim_status": "CLAIMED"}),
]


def calls_per_page():
    """DynamoDB calls of one 20-device page of each kind, as an operator."""
    operator = Principal(user_id="usr_op", org_id="root", roles=frozenset({"OPERATOR"}))
    counted = []
    for view, query in PAGES:
        with count_dynamodb_calls() as calls:
            page = list_devices(operator, query, view=view, org_id="owner" if view == "owned" else "maker", limit=20)
        assert len(page["items"]) == 20 and page["next_cursor"]
        assert calls["Scan"] == 0 and calls["Query"] == 1
        counted.append(sum(calls.values()))
    return counted


def test_a_page_makes_the_same_number_of_calls_with_100_and_20000_devices(fresh_ddb):
    make_org("maker")
    make_org("owner")
    fill(0, 100)
    small = calls_per_page()
    fill(100, 20_000)
    assert DeviceModel.get("D0019999", consistent_read=True).maker_org_id == "maker"
    assert calls_per_page() == small
