"""The device catalog over HTTP: import with per-row errors, the list's filters, read and change."""

import random

import pytest

from chalicelib import crypto
from chalicelib.models import DeviceModel
from tests.helpers import make_device, make_org, make_user

HEADER = "serial;product_type;mac;id_code;claim_code;labels;key_name;algorithm;key_hex\n"
LENGTHS = {"DES": 8, "AES128": 16, "AES192": 24, "AES256": 32}


def key_hex(algorithm, seed):
    return random.Random(seed).randbytes(LENGTHS[algorithm]).hex()


def good_row(n, key_name="app", algorithm="AES128"):
    mac = f"02:00:00:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}"
    return (
        f"SN-{n:06d};heat-meter;{mac};ID{n:06d};CLAIM{n:08d};lot-{n % 3};{key_name};{algorithm};"
        f"{key_hex(algorithm, f'{n}{key_name}')}\n"
    )


BAD_ROWS = [
    lambda n: good_row(n).replace(";AES128;", ";RSA2048;"),
    lambda n: good_row(n).replace(";AES128;", ";AES256;"),  # 16 bytes where AES256 wants 32
    lambda n: good_row(n).replace(f"SN-{n:06d}", "x"),
    lambda n: good_row(n).replace(";02:00:00:", ";02:00:"),
    lambda n: good_row(n)[:-3] + "zz\n",
]


def import_csv(api, token, text, org_id=None):
    path = "/devices/import" + (f"?org_id={org_id}" if org_id else "")
    return api.call("POST", path, raw=text.encode("utf-8"), token=token, headers={"Content-Type": "text/csv"})


@pytest.fixture
def maker(api):
    """A maker organization and a user there who may import (granted devices.import)."""
    make_org("maker")
    make_user(email="maker@example.com", org_id="maker", roles=("ORG_ADMIN",), permissions=("devices.import",))
    return api.login("maker@example.com")


def test_a_thousand_row_file_with_fifty_bad_rows_imports_all_the_rest(api, maker):
    lines, bad_lines, rng = [], set(), random.Random(7)
    bad_numbers = set(rng.sample(range(900), 50))
    for n in range(900):
        if n in bad_numbers:
            lines.append(BAD_ROWS[n % len(BAD_ROWS)](n))
            bad_lines.add(len(lines) + 1)
        else:
            lines.append(good_row(n))
    for n in range(900, 950):  # fifty devices with two keys each: 100 more rows
        lines += [good_row(n), good_row(n, "net", "AES256")]
    assert len(lines) == 1000
    response = import_csv(api, maker, HEADER + "".join(lines))
    assert response.status_code == 200, response.body
    assert response.data["imported"] == 900
    assert sorted(rejection["line"] for rejection in response.data["rejected"]) == sorted(bad_lines)
    assert all(rejection["error"] for rejection in response.data["rejected"])
    for n in (0, 5, 899, 949):
        if n in bad_numbers:
            continue
        device = DeviceModel.get(f"SN-{n:06d}")
        keys = crypto.unwrap(device.serial, device.import_id, device.wrapped_keys)
        assert keys[0] == {"name": "app", "algorithm": "AES128", "hex": key_hex("AES128", f"{n}app")}
    two = DeviceModel.get("SN-000949")
    assert [key["name"] for key in crypto.unwrap(two.serial, two.import_id, two.wrapped_keys)] == ["app", "net"]
    assert two.key_names == ["app", "net"] and two.mac == "02:00:00:00:03:b5" and two.maker_org_id == "maker"


def test_the_answer_and_the_item_hold_no_key_claim_code_or_id_code(api, maker):
    response = import_csv(api, maker, HEADER + good_row(1))
    device = DeviceModel.get("SN-000001")
    secret = key_hex("AES128", "1app")
    listed = api.call("GET", "/devices/SN-000001", token=maker)
    for body in (response.body, listed.body):
        assert secret.encode() not in body and b"CLAIM00000001" not in body and b"ID000001" not in body
    stored = str(device.serialize())
    assert secret not in stored and "CLAIM00000001" not in stored and "ID000001" not in stored


def test_reimporting_a_serial_is_rejected_and_never_overwrites(api, maker):
    import_csv(api, maker, HEADER + good_row(1))
    before = DeviceModel.get("SN-000001").wrapped_keys
    again = import_csv(api, maker, HEADER + good_row(1).replace(";lot-1;", ";changed;") + good_row(2))
    assert again.data["imported"] == 1
    assert again.data["rejected"] == [
        {
            "line": 2,
            "serial": "SN-000001",
            "error": "serial is already in the catalog (an import never overwrites a device)",
        }
    ]
    assert DeviceModel.get("SN-000001").wrapped_keys == before and DeviceModel.get("SN-000001").labels == ["lot-1"]


def test_json_items_import_like_csv_rows(api, maker):
    items = [
        {
            "serial": "SN-J1",
            "product_type": "alarm",
            "mac": "AA-BB-CC-DD-EE-FF",
            "claim_code": "JSON-CODE-1",
            "labels": ["a"],
            "keys": [{"name": "app", "algorithm": "DES", "hex": "0011223344556677"}],
        },
        {"serial": "SN-J2", "product_type": "alarm", "mac": "AA-BB-CC-DD-EE-FF", "keys": [{"name": "app"}]},
    ]
    response = api.call("POST", "/devices/import", {"items": items}, token=maker)
    assert response.status_code == 200
    assert response.data["imported"] == 1
    assert response.data["rejected"] == [
        {"line": 2, "serial": "SN-J2", "error": "algorithm must be one of DES, AES128, AES192, AES256"}
    ]
    assert api.call("GET", "/devices/SN-J1", token=maker).data["mac"] == "aa:bb:cc:dd:ee:ff"


def test_json_items_and_csv_rows_whose_text_is_not_text_are_rejected_in_the_report_and_not_stored(api, maker):
    key = [{"name": "app", "algorithm": "DES", "hex": "0011223344556677"}]
    items = [
        {"serial": "SN-T1", "product_type": "Meter", "mac": "AA-BB-CC-DD-EE-FF", "keys": key},
        {"serial": "SN-T2", "product_type": "Meter\ud800", "mac": "AA-BB-CC-DD-EE-FF", "keys": key},
        {"serial": "SN-T3", "product_type": "Meter", "mac": "AA-BB-CC-DD-EE-FF", "labels": ["roof\x00"], "keys": key},
    ]
    response = api.call("POST", "/devices/import", {"items": items}, token=maker)
    assert response.status_code == 200 and response.data["imported"] == 1
    assert response.data["rejected"] == [
        {"line": 2, "serial": "SN-T2", "error": "product_type must be text: it holds an unpaired UTF-16 surrogate"},
        {"line": 3, "serial": "SN-T3", "error": "a label must not contain control characters"},
    ]
    csv_file = HEADER + good_row(1).replace(";heat-meter;", ";heat\x1bmeter;") + good_row(2)
    assert import_csv(api, maker, csv_file).data["rejected"] == [
        {"line": 2, "serial": "SN-000001", "error": "product_type must not contain control characters"}
    ]
    assert sorted(device.serial for device in DeviceModel.scan()) == ["SN-000002", "SN-T1"]


def test_more_rows_than_a_request_takes_answer_413_pointing_at_the_cli(api, maker):
    from chalicelib.config import get_settings

    settings = get_settings()
    object.__setattr__(settings, "import_max_rows", 5)  # the settings are frozen; 10,001 rows would be slow here
    try:
        response = import_csv(api, maker, HEADER + "".join(good_row(n) for n in range(6)))
    finally:
        object.__setattr__(settings, "import_max_rows", 10_000)
    assert response.status_code == 413
    assert (
        response.data["error"]["code"] == "too_many_rows"
        and "chalicelib.cli import-devices" in response.data["error"]["message"]
    )
    assert DeviceModel.count() == 0


@pytest.mark.parametrize(
    "body,content_type,status,code",
    [
        (b"\xff\xfe not utf-8", "text/csv", 400, "invalid_encoding"),
        (b"serial,mac\nSN-1,00:11:22:33:44:55\n", "text/csv", 400, "import_file_invalid"),
        (b"<items/>", "application/xml", 415, "unsupported_media_type"),
        (b'{"items": "nope"}', "application/json", 422, "validation_failed"),
    ],
)
def test_unreadable_imports_answer_a_clear_error_and_write_nothing(api, maker, body, content_type, status, code):
    response = api.call("POST", "/devices/import", raw=body, token=maker, headers={"Content-Type": content_type})
    assert (response.status_code, response.data["error"]["code"]) == (status, code)
    assert DeviceModel.count() == 0


def test_a_user_without_the_import_permission_cannot_import(api, login_as):
    token = login_as("ORG_ADMIN")
    assert import_csv(api, token, HEADER + good_row(1)).status_code == 403


def test_an_operator_imports_for_a_maker_named_by_org_id(api, login_as):
    make_org("maker")
    response = import_csv(api, login_as("OPERATOR"), HEADER + good_row(1), org_id="maker")
    assert response.data["org_id"] == "maker" and DeviceModel.get("SN-000001").maker_org_id == "maker"


@pytest.fixture
def catalog(aws):
    """maker imported six devices: two owned by customer (one on its site), one pending there, three unclaimed."""
    from datetime import datetime, timezone

    from chalicelib.models import BatchModel, SiteModel

    make_org("maker")
    make_org("customer")
    make_org("other")
    SiteModel("site_c", org_id="customer", name="Plant", created_at=datetime.now(timezone.utc), created_by="x").save()
    BatchModel(
        "bat_1",
        org_id="maker",
        target_org_id="customer",
        reference="R1",
        state="PENDING",
        created_key="x",
        created_at=datetime.now(timezone.utc),
        created_by="x",
    ).save()
    make_device("A-1", "maker", "customer", site_id="site_c", labels=("north",), product_type="water")
    make_device("A-2", "maker", "customer", labels=("south",), product_type="heat")
    make_device("A-3", "maker", "customer", status="PENDING", product_type="heat")
    make_device("B-1", "maker", labels=("north",), product_type="water", batch_id="bat_1")
    make_device("B-2", "maker", product_type="heat", batch_id="bat_1")
    make_device("B-3", "maker", product_type="heat")
    make_device("X-1", "other", "other", labels=("north",), batch_id="bat_1")


def serials(response):
    assert response.status_code == 200, response.body
    return [item["serial"] for item in response.data["items"]]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", ["A-1", "A-2", "A-3", "B-1", "B-2", "B-3"]),
        ("?serial=B", ["B-1", "B-2", "B-3"]),
        ("?claim_status=UNCLAIMED", ["B-1", "B-2", "B-3"]),
        ("?claim_status=UNCLAIMED&serial=B-2", ["B-2"]),
        ("?product_type=heat", ["A-2", "A-3", "B-2", "B-3"]),
        ("?label=north", ["A-1", "B-1"]),
        ("?batch_id=bat_1", ["B-1", "B-2"]),
    ],
)
def test_the_maker_lists_what_it_imported_by_each_filter(api, catalog, query, expected):
    make_user(email="m@example.com", org_id="maker", roles=("VIEWER",), permissions=("devices.import",))
    assert serials(api.call("GET", "/devices" + query, token=api.login("m@example.com"))) == expected


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", ["A-1", "A-2", "A-3"]),
        ("?claim_status=CLAIMED", ["A-1", "A-2"]),
        ("?claim_status=PENDING", ["A-3"]),
        ("?product_type=water", ["A-1"]),
        ("?label=north", ["A-1"]),
        ("?batch_id=bat_1", []),
    ],
)
def test_an_owner_lists_only_what_it_owns(api, catalog, query, expected):
    make_user(email="c@example.com", org_id="customer", roles=("VIEWER",))
    assert serials(api.call("GET", "/devices" + query, token=api.login("c@example.com"))) == expected


def test_a_site_admin_sees_only_the_devices_on_its_sites(api, catalog):
    make_user(email="s@example.com", org_id="customer", roles=("SITE_ADMIN",), site_ids=("site_c",))
    token = api.login("s@example.com")
    assert serials(api.call("GET", "/devices", token=token)) == ["A-1"]
    assert api.call("GET", "/devices/A-2", token=token).status_code == 404


def test_other_organizations_get_404_for_devices_they_neither_made_nor_own(api, catalog):
    make_user(email="o@example.com", org_id="other", roles=("ORG_ADMIN",))
    token = api.login("o@example.com")
    for serial in ("A-1", "B-1", "NOPE-1"):
        response = api.call("GET", f"/devices/{serial}", token=token)
        assert response.status_code == 404 and response.data["error"]["code"] == "device_not_found"
    assert serials(api.call("GET", "/devices?label=north", token=token)) == ["X-1"]


def test_two_indexed_filters_at_once_are_refused_not_scanned(api, catalog, login_as):
    response = api.call("GET", "/devices?claim_status=CLAIMED&product_type=heat", token=login_as("OPERATOR"))
    assert response.status_code == 400 and response.data["error"]["code"] == "filter_not_indexed"


def test_pages_follow_the_cursor_to_the_end(api, catalog, login_as):
    token, seen, cursor = login_as("OPERATOR"), [], None
    while True:
        response = api.call(
            "GET", "/devices?view=imported&org_id=maker&limit=4" + (f"&cursor={cursor}" if cursor else ""), token=token
        )
        seen += serials(response)
        cursor = response.data["next_cursor"]
        if not cursor:
            break
    assert seen == ["A-1", "A-2", "A-3", "B-1", "B-2", "B-3"]


def test_the_owner_moves_a_device_to_its_site_and_relabels_it(api, catalog):
    make_user(email="k@example.com", org_id="customer", roles=("KEY_MANAGER",))
    token = api.login("k@example.com")
    response = api.call(
        "PATCH", "/devices/A-2", {"labels": ["east", "east ", "roof"], "site_id": "site_c"}, token=token
    )
    assert response.status_code == 200
    assert (response.data["labels"], response.data["site_id"]) == (["east", "roof"], "site_c")
    assert serials(api.call("GET", "/devices?label=south", token=token)) == []
    assert serials(api.call("GET", "/devices?label=east", token=token)) == ["A-2"]
    cleared = api.call("PATCH", "/devices/A-2", {"site_id": None}, token=token)
    assert cleared.data["site_id"] is None


def test_a_site_of_another_organization_is_refused(api, catalog):
    from datetime import datetime, timezone

    from chalicelib.models import SiteModel

    SiteModel("site_o", org_id="other", name="Elsewhere", created_at=datetime.now(timezone.utc), created_by="x").save()
    make_user(email="a@example.com", org_id="customer", roles=("ORG_ADMIN",))
    response = api.call("PATCH", "/devices/A-2", {"site_id": "site_o"}, token=api.login("a@example.com"))
    assert response.status_code == 422 and response.data["error"]["code"] == "site_not_of_owner"
    assert DeviceModel.get("A-2").site_id is None


def test_the_maker_may_relabel_but_not_place_a_device(api, catalog):
    make_user(email="m@example.com", org_id="maker", roles=("VIEWER",), permissions=("devices.import",))
    token = api.login("m@example.com")
    assert api.call("PATCH", "/devices/B-3", {"labels": ["lot-9"]}, token=token).status_code == 200
    assert api.call("PATCH", "/devices/A-1", {"site_id": "site_c"}, token=token).status_code == 403


def test_a_patch_with_the_same_labels_writes_back_a_label_row_an_old_import_crash_lost(api, catalog):
    from chalicelib.models import DeviceLabelModel

    DeviceLabelModel("north", "B-1").delete()  # B-1 still carries "north", but the label filter cannot find it
    make_user(email="m@example.com", org_id="maker", roles=("VIEWER",), permissions=("devices.import",))
    token = api.login("m@example.com")
    assert serials(api.call("GET", "/devices?label=north", token=token)) == ["A-1"]
    assert api.call("PATCH", "/devices/B-1", {"labels": ["north"]}, token=token).status_code == 200
    assert serials(api.call("GET", "/devices?label=north", token=token)) == ["A-1", "B-1"]
