"""Batches on DynamoDB Local when the process dies between two chunks of writes (a fault injected at the client)."""

import pytest
from pynamodb.connection.base import Connection

from chalicelib.api.statuses import status_of
from chalicelib.errors import DomainError
from chalicelib.models import BatchModel, BatchReferenceModel, BatchSerialModel, DeviceModel
from chalicelib.permissions import Principal
from chalicelib.services.devices.batches import confirm_batch, create_batch, reject_batch
from tests.contract.test_device_catalog import fill
from tests.helpers import make_org

OPERATOR = Principal(user_id="usr_op", org_id="root", roles=frozenset({"OPERATOR"}))
TARGET = Principal(user_id="usr_km", org_id="target", roles=frozenset({"KEY_MANAGER"}))
SERIALS = [f"D{n:07d}" for n in range(1, 3000, 2)]  # the 1,500 unclaimed devices fill() makes


class Crash(Exception):
    """The process died here."""


def crash_after(monkeypatch, table, items):
    """Every write request that would take the items written to `table` past `items` raises Crash, before it is
    sent: the writes of the chunks before it stand, nothing after it happens (whatever the chunk size)."""
    written = {"items": 0}
    dispatch = Connection.dispatch

    def dying(self, operation_name, operation_kwargs):
        touched = _items_written(operation_name, operation_kwargs, table)
        if touched and written["items"] + touched > items:
            raise Crash(f"killed before writing more than {items} items to {table}")
        written["items"] += touched
        return dispatch(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", dying)
    return written


def _items_written(operation_name, kwargs, table):
    if operation_name == "BatchWriteItem":
        return sum(len(requests) for name, requests in kwargs["RequestItems"].items() if name.endswith(table))
    if operation_name == "TransactWriteItems":
        return sum(
            1
            for item in kwargs["TransactItems"]
            for kind, request in item.items()
            if kind in ("Put", "Update", "Delete") and request["TableName"].endswith(table)
        )
    if operation_name in ("PutItem", "UpdateItem", "DeleteItem"):
        return int(kwargs["TableName"].endswith(table))
    return 0


def owners(serials):
    """serial -> (owner, claim status) as stored."""
    return {device.serial: (device.owner_org_id, device.claim_status) for device in DeviceModel.batch_get(serials)}


@pytest.fixture
def lot(ddb):
    make_org("maker")
    make_org("target")
    fill(0, 3000)
    return {
        "reference": "LOT-1500",
        "org_id": "target",
        "serials": SERIALS,
        "maker_org_id": "maker",
        "requires_confirmation": True,
    }


def test_a_batch_whose_confirmation_died_part_way_cannot_be_rejected_and_a_repeated_confirm_finishes_it(
    lot, monkeypatch
):
    batch = create_batch(OPERATOR, lot)
    assert (batch["state"], batch["count"]) == ("PENDING", 1500)
    with monkeypatch.context() as patch:
        crash_after(patch, "devices", 600)
        with pytest.raises(Crash):
            confirm_batch(TARGET, batch["id"])
    assert sorted(owners(SERIALS).values()).count(("target", "CLAIMED")) == 600

    with pytest.raises(DomainError) as refused:
        reject_batch(TARGET, batch["id"])
    assert (status_of(refused.value), refused.value.code) == (409, "batch_confirming")
    stored = owners(SERIALS)
    assert sorted(stored.values()).count(("target", "CLAIMED")) == 600  # nothing reverted half-way either
    assert sorted(stored.values()).count(("target", "PENDING")) == 900

    confirmed = confirm_batch(TARGET, batch["id"])
    assert (confirmed["state"], confirmed["count"]) == ("CONFIRMED", 1500)
    assert set(owners(SERIALS).values()) == {("target", "CLAIMED")}
    assert BatchModel.get(batch["id"], consistent_read=True).state == "CONFIRMED"


def test_a_batch_whose_creation_died_part_way_is_never_confirmable_and_the_same_create_repeated_finishes_it(
    lot, monkeypatch
):
    with monkeypatch.context() as patch:
        crash_after(patch, "batch_serials", 100)
        with pytest.raises(Crash):
            create_batch(OPERATOR, lot)
    batch_id = BatchReferenceModel.get("maker#LOT-1500", consistent_read=True).batch_id
    entries = BatchSerialModel.count(batch_id, consistent_read=True)
    assert 0 < entries < 1500

    try:
        early = confirm_batch(TARGET, batch_id)
    except DomainError as refused:
        assert status_of(refused) == 409
    else:  # a confirm may only finish it honestly: the count is what it holds and moved
        assert early["count"] == BatchSerialModel.count(batch_id, consistent_read=True)
        assert sorted(owners(SERIALS).values()).count(("target", "CLAIMED")) == early["count"]
    stored = BatchModel.get(batch_id, consistent_read=True)
    if stored.state in ("PENDING", "CONFIRMED"):
        assert stored.count == BatchSerialModel.count(batch_id, consistent_read=True)

    again = create_batch(OPERATOR, lot)
    assert (again["id"], again["state"], again["count"]) == (batch_id, "PENDING", 1500)
    assert BatchSerialModel.count(batch_id, consistent_read=True) == 1500
    assert set(owners(SERIALS).values()) == {("target", "PENDING")}
    confirmed = confirm_batch(TARGET, batch_id)
    assert (confirmed["state"], confirmed["count"]) == ("CONFIRMED", 1500)
    assert set(owners(SERIALS).values()) == {("target", "CLAIMED")}
