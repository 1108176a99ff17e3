"""Key downloads at the service: one device's keys, the file of every claimed device in scope, the refusals, and
what each leaves in the audit trail and the metrics (tests/api/test_keys.py adds the routes and the HTTP answers)."""

import csv
import io
import json
from datetime import datetime, timezone

import pytest

from chalicelib import observability
from chalicelib.api.statuses import status_of
from chalicelib.errors import Forbidden
from chalicelib.models import AuditEventModel, UserModel
from chalicelib.permissions import Principal
from chalicelib.services.accounts.sessions import principal_of
from chalicelib.services.devices.catalog import DeviceNotFound, FilterNotIndexed
from chalicelib.services.keys import downloads as keys
from chalicelib.services.keys.downloads import DeviceUnclaimed, TooManyDevices, device_keys, download_keys
from chalicelib.services.keys.files import RecipientKeyMissing
from tests.aws_calls import record_aws_calls
from tests.helpers import emitted_metrics, make_device, make_org, make_user
from tests.jose_keys import private_and_public

KEY_A = [
    {"name": "app", "algorithm": "AES128", "hex": "00112233445566778899aabbccddeeff"},
    {"name": "net", "algorithm": "DES", "hex": "0011223344556677"},
]
SECRET = KEY_A[0]["hex"]  # every device's first key (make_device's default key too)


_built = {}


@pytest.fixture
def world(aws):
    """customer owns K-1 (two keys, a formula as product type) and K-2 (label roof, batch bat_1), K-3 pending;
    K-4 is unclaimed; customer_east (a child of customer) owns E-1 (roof, bat_1); rival owns R-1 (roof, bat_1).
    Principals: a key manager of customer (CSV delimiter ","), a viewer of customer, an admin of the maker.
    Built once, then each test gets a copy of the stored tables (building takes ~1 s: argon2, key wrapping; the
    mutation run repeats these tests for every mutant)."""
    import copy

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"].tables
    if not _built:
        _built["principals"] = build_world()
        _built["tables"] = copy.deepcopy(tables)
    tables.update(copy.deepcopy(_built["tables"]))
    return dict(_built["principals"])


def build_world():
    """Store the world's organizations, devices and users; answer the principals by name."""
    for org in ("maker", "customer", "rival"):
        make_org(org)
    make_org("customer_east", parent_id="customer")
    make_device("K-1", "maker", "customer", keys=KEY_A, product_type="=cmd|' /C calc'!A0")
    make_device("K-2", "maker", "customer", labels=("roof",), batch_id="bat_1")
    make_device("K-3", "maker", "customer", status="PENDING")
    make_device("K-4", "maker")
    make_device("E-1", "maker", "customer_east", labels=("roof",), batch_id="bat_1")
    make_device("R-1", "maker", "rival", labels=("roof",), batch_id="bat_1")
    users = {
        "keys": make_user(email="k@customer.example", org_id="customer", roles=("KEY_MANAGER",), csv_delimiter=","),
        "viewer": make_user(email="v@customer.example", org_id="customer", roles=("VIEWER",)),
        "maker": make_user(email="m@maker.example", org_id="maker", roles=("ORG_ADMIN",)),
    }
    return {name: principal_of(user) for name, user in users.items()}


@pytest.fixture
def metrics(capsys):
    """The metrics counted from here on, as printed when the invocation ends (earlier counts dropped)."""
    observability.metrics().clear_metrics()

    def flushed():
        capsys.readouterr()
        observability.flush_metrics()
        return emitted_metrics(capsys.readouterr().out)

    return flushed


def key_events(org_id):
    """(action, target, detail) of the key download events in one organization's trail, oldest first."""
    return [
        (event.action, event.target, event.detail)
        for event in AuditEventModel.query(org_id)
        if event.action.startswith("keys_download")
    ]


def serials(answer):
    """The serials of a json download, in file order."""
    return [device["serial"] for device in json.loads(answer["body"])["devices"]]


def test_the_owner_reads_one_claimed_devices_keys(world):
    assert device_keys(world["keys"], "K-1") == {"serial": "K-1", "product_type": "=cmd|' /C calc'!A0", "keys": KEY_A}


@pytest.mark.parametrize(
    "serial,who,refusal,reason",
    [
        ("K-3", "keys", DeviceUnclaimed, "device_unclaimed"),
        ("R-1", "keys", DeviceNotFound, "device_not_found"),
        ("NOPE-9", "keys", DeviceNotFound, "device_not_found"),
        ("K-1", "viewer", Forbidden, "forbidden"),
        ("K-4", "maker", DeviceNotFound, "device_not_found"),  # the maker made it, but keys go only to owners
    ],
)
def test_a_refused_read_of_one_devices_keys_is_audited_with_why_in_the_actors_organization(
    world, serial, who, refusal, reason
):
    with pytest.raises(refusal) as refused:
        device_keys(world[who], serial)
    assert refused.value.code == reason and SECRET not in refused.value.message
    assert key_events(world[who].org_id) == [
        ("keys_download_refused", serial, {"format": "json", "serial": serial, "reason": reason, "count": 0})
    ]


def test_a_refusal_for_lack_of_the_role_says_so(world):
    for refused_call in (
        lambda: device_keys(world["viewer"], "K-1"),
        lambda: download_keys(world["viewer"], "csv", {}),
    ):
        with pytest.raises(Forbidden) as refused:
            refused_call()
        assert refused.value.message == "Your roles do not allow key downloads."


def test_a_refused_serial_is_audited_cut_to_64_characters(world):
    with pytest.raises(DeviceNotFound):
        device_keys(world["keys"], "Z" * 80)
    assert [(target, detail["serial"]) for _, target, detail in key_events("customer")] == [("Z" * 64, "Z" * 64)]


def test_one_devices_keys_are_audited_and_counted_in_the_owners_organization(world, metrics):
    assert device_keys(world["keys"], "E-1")["serial"] == "E-1"  # customer_east's device, read from its parent
    assert key_events("customer_east") == [("keys_downloaded", "E-1", {"format": "json", "serial": "E-1", "count": 1})]
    assert key_events("customer") == []
    assert metrics() == [("keyport-test", {"service": "keyport"}, {"KeysDownloaded": 1})]


def test_the_csv_file_holds_every_claimed_device_in_scope_in_the_users_delimiter_with_formulas_quoted_out(world):
    answer = download_keys(world["keys"], "csv", {})
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert (answer["file_name"], answer["media_type"]) == (f"keys-customer-{today}.csv", "text/csv; charset=utf-8")
    assert list(csv.reader(io.StringIO(answer["body"], newline=""))) == [
        ["serial", "product_type", "key_name", "algorithm", "key_hex"],
        ["K-1", "'=cmd|' /C calc'!A0", "app", "AES128", SECRET],
        ["K-1", "'=cmd|' /C calc'!A0", "net", "DES", KEY_A[1]["hex"]],
        ["K-2", "meter", "app", "AES128", SECRET],
        ["E-1", "meter", "app", "AES128", SECRET],
    ]


def test_a_user_deleted_while_downloading_gets_semicolons_and_a_jwe_file_only_for_a_key_in_the_request(world):
    gone = Principal(user_id="usr_gone", org_id="customer", roles=frozenset({"KEY_MANAGER"}))
    assert download_keys(gone, "csv", {"serial": "K-2"})["body"].splitlines() == [
        "serial;product_type;key_name;algorithm;key_hex",
        f"K-2;meter;app;AES128;{SECRET}",
    ]
    private, public = private_and_public("EC", "P-256")
    assert _opened(download_keys(gone, "jwe", {"serial": "K-2"}, recipient_jwk=public)["body"], private) == {
        "devices": [{"serial": "K-2", "product_type": "meter", "keys": [KEY_A[0]]}]
    }
    with pytest.raises(RecipientKeyMissing):
        download_keys(gone, "jwe", {"serial": "K-2"})


def test_the_json_file_holds_the_devices_and_their_keys(world):
    answer = download_keys(world["keys"], "json", {"serial": "K"})
    assert answer["media_type"] == "application/json" and answer["file_name"].endswith(".json")
    assert json.loads(answer["body"]) == {
        "devices": [
            {"serial": "K-1", "product_type": "=cmd|' /C calc'!A0", "keys": KEY_A},
            {"serial": "K-2", "product_type": "meter", "keys": [KEY_A[0]]},
        ]
    }


@pytest.mark.parametrize(
    "filters,expected",
    [
        ({}, ["K-1", "K-2", "E-1"]),
        ({"serial": "E"}, ["E-1"]),
        ({"claim_status": "CLAIMED"}, ["K-1", "K-2", "E-1"]),
        ({"claim_status": "CLAIMED", "serial": "K-2"}, ["K-2"]),
        ({"claim_status": "PENDING"}, []),
        ({"product_type": "meter"}, ["K-2", "E-1"]),
        ({"product_type": "meter", "serial": "E"}, ["E-1"]),
        ({"batch_id": "bat_1"}, ["E-1", "K-2"]),
        ({"batch_id": "bat_1", "serial": "K"}, ["K-2"]),
        ({"label": "roof"}, ["E-1", "K-2"]),
        ({"label": "roof", "serial": "K"}, ["K-2"]),
        ({"label": "roof", "serial": "K-1"}, []),
    ],
)
def test_each_filter_with_or_without_a_serial_prefix_selects_the_claimed_devices_in_scope(world, filters, expected):
    assert serials(download_keys(world["keys"], "json", filters)) == expected


@pytest.mark.parametrize(
    "filters",
    [
        {"label": "roof", "product_type": "meter"},
        {"claim_status": "CLAIMED", "label": "roof"},
        {"claim_status": "CLAIMED", "batch_id": "bat_1"},
        {"batch_id": "bat_1", "product_type": "meter"},
    ],
)
def test_two_indexed_filters_at_once_are_refused(world, filters):
    with pytest.raises(FilterNotIndexed):
        download_keys(world["keys"], "json", filters)


def test_a_download_of_exactly_the_most_devices_it_holds_is_served(world, monkeypatch):
    monkeypatch.setattr(keys, "MAX_DOWNLOAD_DEVICES", 3)  # the customer's scope holds exactly three
    assert serials(download_keys(world["keys"], "json", {})) == ["K-1", "K-2", "E-1"]


def test_more_devices_than_a_download_holds_are_refused_pointing_at_exports_and_audited(world, monkeypatch):
    monkeypatch.setattr(keys, "MAX_DOWNLOAD_DEVICES", 2)
    with pytest.raises(TooManyDevices) as refused:
        download_keys(world["keys"], "json", {})
    assert status_of(refused.value) == 413
    assert refused.value.message == (
        "A download holds at most 2 devices; ask for the file on the download list "
        "instead (POST /exports), or narrow the filters."
    )
    assert key_events("customer") == [
        ("keys_download_refused", None, {"format": "json", "filter": {}, "reason": "too_many_devices", "count": 0})
    ]


def test_a_download_past_the_limit_is_refused_without_reading_the_rest_of_the_catalog(world, monkeypatch):
    make_device("E-2", "maker", "customer_east")
    monkeypatch.setattr(keys, "MAX_DOWNLOAD_DEVICES", 1)  # customer's own two devices are one too many
    with record_aws_calls() as calls, pytest.raises(TooManyDevices):
        download_keys(world["keys"], "json", {})
    assert [
        params["IndexName"]
        for _, _, operation, params in calls
        if operation == "Query" and params.get("IndexName", "").startswith("owner")
    ] == ["owner_status_index"]


def test_a_bulk_download_is_audited_and_counted_in_the_organization_it_names_with_its_filter(world, metrics):
    # K-2 of the parent carries the label too: naming the organization narrows the scope to it
    assert serials(download_keys(world["keys"], "json", {"label": "roof"}, org_id="customer_east")) == ["E-1"]
    assert key_events("customer_east") == [
        (
            "keys_downloaded",
            None,
            {"format": "json", "filter": {"label": "roof", "org_id": "customer_east"}, "count": 1},
        )
    ]
    assert metrics() == [("keyport-test", {"service": "keyport"}, {"KeysDownloaded": 1})]
    download_keys(world["keys"], "csv", {"label": "roof"})
    assert key_events("customer") == [
        ("keys_downloaded", None, {"format": "csv", "filter": {"label": "roof"}, "count": 2})
    ]
    assert metrics() == [("keyport-test", {"service": "keyport"}, {"KeysDownloaded": 2})]


def test_a_refused_bulk_download_is_audited_where_it_was_aimed_and_counts_nothing(world, metrics):
    with pytest.raises(Forbidden):
        download_keys(world["viewer"], "csv", {"product_type": "meter"}, org_id="customer_east")
    assert key_events("customer_east") == [
        (
            "keys_download_refused",
            None,
            {
                "format": "csv",
                "filter": {"product_type": "meter", "org_id": "customer_east"},
                "reason": "forbidden",
                "count": 0,
            },
        )
    ]
    assert key_events("customer") == []
    assert metrics() == []


def _opened(sealed, private):
    """The JSON document sealed in a jwe file (which says it holds JSON)."""
    from jwcrypto.jwe import JWE

    token = JWE()
    token.deserialize(sealed, key=private)
    assert token.jose_header["cty"] == "application/json"
    return json.loads(token.payload)


def test_a_jwe_file_is_the_json_file_sealed_for_the_key_in_the_request(world):
    private, public = private_and_public("EC", "P-256")
    answer = download_keys(world["keys"], "jwe", {"serial": "K-1"}, recipient_jwk=json.dumps(public))
    assert answer["media_type"] == "application/jose" and answer["file_name"].endswith(".jwe")
    assert SECRET not in answer["body"]
    assert _opened(answer["body"], private) == {
        "devices": [{"serial": "K-1", "product_type": "=cmd|' /C calc'!A0", "keys": KEY_A}]
    }


def test_a_jwe_file_is_sealed_for_the_key_on_the_profile_and_needs_one(world):
    with pytest.raises(RecipientKeyMissing):
        download_keys(world["keys"], "jwe", {})
    assert [detail["reason"] for _, _, detail in key_events("customer")] == ["recipient_key_missing"]
    private, public = private_and_public("EC", "P-384")
    UserModel.get(world["keys"].user_id).update(actions=[UserModel.recipient_jwk.set(public)])
    assert [
        device["serial"] for device in _opened(download_keys(world["keys"], "jwe", {})["body"], private)["devices"]
    ] == ["K-1", "K-2", "E-1"]


def test_a_key_manager_bound_to_sites_gets_only_the_devices_of_its_sites(world):
    make_device("S-1", "maker", "customer", site_id="site_north")
    make_device("S-2", "maker", "customer", site_id="site_south")
    north = principal_of(
        make_user(email="north@customer.example", org_id="customer", roles=("KEY_MANAGER",), site_ids=["site_north"])
    )
    assert serials(download_keys(north, "json", {})) == ["S-1"]
    assert device_keys(north, "S-1")["serial"] == "S-1"
    with pytest.raises(DeviceNotFound):
        device_keys(north, "S-2")


@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])  # UTC+14 and UTC-12: one is on another day
def test_the_file_is_named_for_the_utc_day_whatever_the_servers_zone(world, monkeypatch, zone):
    import time

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        before = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        name = download_keys(world["keys"], "csv", {"serial": "K-2"})["file_name"]
        after = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert name in (f"keys-customer-{before}.csv", f"keys-customer-{after}.csv")


def test_a_device_released_after_its_index_entry_was_read_is_left_out(world):
    from chalicelib.models import DeviceModel

    selection = keys.Selection(world["keys"], ["customer"], {})
    found = list(selection.candidates())
    DeviceModel.get("K-1").update(actions=[DeviceModel.owner_org_id.set("rival")])
    DeviceModel.get("K-2").update(actions=[DeviceModel.claim_status.set("UNCLAIMED")])
    assert [device.serial for device in found] == ["K-1", "K-2"]
    assert list(selection.with_keys(found)) == []


def test_keys_are_read_while_candidates_still_stream_in(world):
    """An export of 100,000 devices must not hold every index entry first: the first keys come out long before
    the candidates run dry."""
    from chalicelib.models import DeviceModel

    taken = []

    def candidates():
        for number in range(1_000):
            taken.append(number)
            yield DeviceModel("K-2" if number == 0 else f"GONE-{number}")

    rows = keys.Selection(world["keys"], ["customer"], {}).with_keys(candidates())
    device, device_keys_read = next(rows)
    rows.close()
    assert (device.serial, device_keys_read) == ("K-2", [KEY_A[0]])
    assert len(taken) < 1_000
