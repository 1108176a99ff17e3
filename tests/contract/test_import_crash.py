"""Imports that crash half-way on DynamoDB Local: a device is never in the catalog without its label rows."""

import contextlib
import threading

import pytest

from chalicelib import models
from chalicelib.models import DeviceLabelModel
from chalicelib.permissions import Principal
from chalicelib.services.devices.catalog import list_devices, update_device
from chalicelib.services.devices.importing import import_devices
from tests.helpers import make_device, make_org

MAKER = Principal(
    user_id="usr_maker", org_id="maker", roles=frozenset({"ORG_ADMIN"}), permissions=frozenset({"devices.import"})
)
WRITES = ("BatchWriteItem", "TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem")


class Crash(Exception):
    """The process dying between two writes."""


@contextlib.contextmanager
def crash_at_write(number):
    """Every DynamoDB write from the `number`-th on fails, as if the process had died just before it."""
    clients = {
        id(client): client
        for client in [models.connection().client]
        + [model._get_connection().connection.client for model in models.ALL_MODELS]
    }.values()
    lock, seen = threading.Lock(), {"writes": 0}

    def hook(model, **_):
        if model.name in WRITES:
            with lock:
                seen["writes"] += 1
                if seen["writes"] >= number:
                    raise Crash(f"crashed at write {number}")

    for client in clients:
        client.meta.events.register("before-call.dynamodb", hook)
    try:
        yield seen
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.dynamodb", hook)


def items(prefix, count=120):
    """Devices with one or two labels each."""
    return [
        {
            "serial": f"{prefix}-{n:03d}",
            "product_type": "meter",
            "mac": "02:00:00:00:00:01",
            "labels": [f"lot-{n % 3}"] + (["even"] if n % 2 == 0 else []),
            "keys": [{"name": "app", "algorithm": "AES128", "hex": f"{n:032x}"}],
        }
        for n in range(count)
    ]


def catalog(filters=None):
    """Every device the maker's catalog lists with these filters (all pages)."""
    listed, cursor = [], None
    while True:
        page = list_devices(MAKER, dict(filters or {}), view="imported", limit=100, cursor=cursor)
        listed += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return listed


def assert_every_listed_device_is_listed_under_each_of_its_labels():
    devices = catalog()
    for label in {label for device in devices for label in device["labels"]}:
        under_label = {device["serial"] for device in catalog({"label": label})}
        missing = [
            device["serial"] for device in devices if label in device["labels"] and device["serial"] not in under_label
        ]
        assert missing == [], f"listed without its label row {label!r}: {missing}"
    return devices


def test_a_crash_at_any_write_of_an_import_never_leaves_a_listed_device_without_its_labels(ddb):
    make_org("maker")
    for crash_point in range(1, 5):  # an import of 120 devices writes at least 4 times (3 transactions, an audit)
        prefix = f"C{crash_point}"
        with crash_at_write(crash_point) as seen, pytest.raises(Crash):
            import_devices(MAKER, items=items(prefix))
        assert seen["writes"] >= crash_point
        assert_every_listed_device_is_listed_under_each_of_its_labels()
        resumed = import_devices(MAKER, items=items(prefix))  # the maker sends the file again
        written_before = 120 - resumed["imported"]
        assert [rejection["error"] for rejection in resumed["rejected"]] == [
            "serial is already in the catalog (an import never overwrites a device)"
        ] * written_before
        devices = assert_every_listed_device_is_listed_under_each_of_its_labels()
        assert len([device for device in devices if device["serial"].startswith(prefix + "-")]) == 120


def test_a_patch_with_the_same_labels_repairs_a_device_whose_label_rows_an_old_crash_lost(ddb):
    make_org("maker")
    make_device("OLD-1", "maker", labels=("north", "roof"))
    DeviceLabelModel("north", "OLD-1").delete()  # what an import crash left before labels came with devices
    assert [device["serial"] for device in catalog({"label": "north"})] == []
    update_device(MAKER, "OLD-1", {"labels": ["north", "roof"]})
    assert [device["serial"] for device in catalog({"label": "north"})] == ["OLD-1"]
    assert [device["serial"] for device in catalog({"label": "roof"})] == ["OLD-1"]
