"""Key downloads over HTTP: one device, a file of all claimed devices, refusals, audit; and the audit trail."""

import csv
import io
import json
from urllib.parse import quote

import pytest

from chalicelib.models import AuditEventModel
from tests.helpers import make_device, make_org, make_user
from tests.jose_keys import private_and_public

KEY_A = [
    {"name": "app", "algorithm": "AES128", "hex": "00112233445566778899aabbccddeeff"},
    {"name": "net", "algorithm": "DES", "hex": "0011223344556677"},
]


@pytest.fixture
def world(api, make_key_world):
    """customer owns K-1 (two keys) and K-2 (claimed), K-3 pending; K-4 unclaimed; rival owns R-1 (see
    make_key_world); and a maker's admin who imports."""
    make_key_world("K", KEY_A, "=cmd|' /C calc'!A0")
    make_user(email="m@maker.example", org_id="maker", roles=("ORG_ADMIN",), permissions=("devices.import",))
    return {
        name: api.login(f"{name[0]}@{org}.example")
        for name, org in (("keys", "customer"), ("viewer", "customer"), ("maker", "maker"))
    }


def test_the_owner_reads_one_claimed_devices_keys(api, world):
    response = api.call("GET", "/devices/K-1/keys", token=world["keys"])
    assert response.status_code == 200
    assert response.data == {"serial": "K-1", "product_type": "=cmd|' /C calc'!A0", "keys": KEY_A}


@pytest.mark.parametrize(
    "serial,who,status,code",
    [
        ("K-3", "keys", 409, "device_unclaimed"),
        ("R-1", "keys", 404, "device_not_found"),
        ("NOPE-9", "keys", 404, "device_not_found"),
        ("K-1", "viewer", 403, "forbidden"),
        ("K-4", "maker", 404, "device_not_found"),  # the maker made it, but keys go only to owners
    ],
)
def test_keys_are_refused_for_pending_foreign_unknown_or_unallowed(api, world, serial, who, status, code):
    response = api.call("GET", f"/devices/{serial}/keys", token=world[who])
    assert (response.status_code, response.data["error"]["code"]) == (status, code)
    assert KEY_A[0]["hex"].encode() not in response.body


def test_the_file_holds_every_claimed_device_in_the_users_delimiter_with_formulas_neutralized(api, world):
    response = api.call("GET", "/devices/keys?format=csv", token=world["keys"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="keys-customer-')
    rows = list(csv.reader(io.StringIO(response.body.decode())))
    assert rows[0] == ["serial", "product_type", "key_name", "algorithm", "key_hex"]
    assert rows[1:] == [
        ["K-1", "'=cmd|' /C calc'!A0", "app", "AES128", KEY_A[0]["hex"]],
        ["K-1", "'=cmd|' /C calc'!A0", "net", "DES", KEY_A[1]["hex"]],
        ["K-2", "meter", "app", "AES128", "00112233445566778899aabbccddeeff"],
    ]


def test_the_json_file_and_the_filters(api, world):
    response = api.call("GET", "/devices/keys?format=json&label=roof", token=world["keys"])
    body = response.data
    assert [device["serial"] for device in body["devices"]] == ["K-2"]
    answer = api.call("GET", "/devices/keys?format=json&claim_status=PENDING", token=world["keys"])
    assert answer.data == {"devices": []}


def test_more_devices_than_a_download_holds_answer_413_pointing_at_exports(api, world, monkeypatch):
    from chalicelib.services.keys import downloads as keys

    monkeypatch.setattr(keys, "MAX_DOWNLOAD_DEVICES", 1)
    response = api.call("GET", "/devices/keys", token=world["keys"])
    assert response.status_code == 413 and "POST /exports" in response.data["error"]["message"]


def test_every_download_allowed_or_refused_is_audited_with_its_count(api, world):
    api.call("GET", "/devices/K-1/keys", token=world["keys"])
    api.call("GET", "/devices/K-3/keys", token=world["keys"])
    api.call("GET", "/devices/keys?format=csv&serial=K", token=world["keys"])
    api.call("GET", "/devices/keys", token=world["viewer"])
    events = [e for e in AuditEventModel.query("customer") if e.action.startswith("keys_download")]
    assert [(e.action, e.detail["count"]) for e in events] == [
        ("keys_downloaded", 1),
        ("keys_download_refused", 0),
        ("keys_downloaded", 2),
        ("keys_download_refused", 0),
    ]
    assert events[2].detail["filter"] == {"serial": "K"} and events[2].detail["format"] == "csv"
    logged = str([e.detail for e in events])
    assert KEY_A[0]["hex"] not in logged


def test_the_audit_trail_lists_the_scope_newest_first_and_filters(api, world):
    api.call("GET", "/devices/K-1/keys", token=world["keys"])
    make_user(email="a@customer.example", org_id="customer", roles=("ORG_ADMIN",))
    admin = api.login("a@customer.example")
    events = api.call("GET", "/audit?action=keys_downloaded", token=admin).data["items"]
    assert [(e["action"], e["target"]) for e in events] == [("keys_downloaded", "K-1")]
    assert api.call("GET", "/audit?org_id=rival", token=admin).status_code == 404
    assert api.call("GET", "/audit", token=world["keys"]).status_code == 403
    assert api.call("GET", "/audit?since=yesterday", token=admin).status_code == 422
    assert api.call("GET", "/audit?since=2999-01-01T00:00:00Z", token=admin).data["items"] == []


def _opened(sealed, private):
    from jwcrypto.jwe import JWE

    token = JWE()
    token.deserialize(sealed, key=private)
    return json.loads(token.payload)


def test_a_jwe_download_is_sealed_for_the_key_in_the_request(api, world):
    private, public = private_and_public("RSA", 3072)
    response = api.call(
        "GET", "/devices/keys?format=jwe&serial=K-1&recipient_jwk=" + quote(json.dumps(public)), token=world["keys"]
    )
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/jose"
    assert response.headers["Content-Disposition"].endswith('.jwe"')
    assert KEY_A[0]["hex"].encode() not in response.body
    assert _opened(response.body.decode(), private) == {
        "devices": [{"serial": "K-1", "product_type": "=cmd|' /C calc'!A0", "keys": KEY_A}]
    }


def test_a_jwe_download_uses_the_key_on_the_profile_and_needs_one(api, world):
    response = api.call("GET", "/devices/keys?format=jwe", token=world["keys"])
    assert (response.status_code, response.data["error"]["code"]) == (422, "recipient_key_missing")
    private, public = private_and_public("EC", "P-256")
    profile = api.call("PATCH", "/me", {"recipient_jwk": public}, token=world["keys"])
    assert profile.status_code == 200 and profile.data["recipient_jwk"]["x"] == public["x"]
    response = api.call("GET", "/devices/keys?format=jwe", token=world["keys"])
    assert [device["serial"] for device in _opened(response.body.decode(), private)["devices"]] == ["K-1", "K-2"]
    assert api.call("PATCH", "/me", {"recipient_jwk": None}, token=world["keys"]).data["recipient_jwk"] is None


def rsa_with_modulus_factor(factor):
    """A 3,072-bit RSA public JWK whose modulus is an odd multiple of `factor` (even when factor is 2)."""
    import base64

    public = private_and_public("RSA", 3072)[1]
    modulus = int.from_bytes(base64.urlsafe_b64decode(public["n"] + "=" * (-len(public["n"]) % 4)), "big")
    modulus -= modulus % factor
    if factor != 2 and modulus % 2 == 0:
        modulus -= factor
    encoded = base64.urlsafe_b64encode(modulus.to_bytes(384, "big")).rstrip(b"=").decode()
    return {**public, "n": encoded}


@pytest.mark.parametrize(
    "jwk,code",
    [
        (lambda: private_and_public("RSA", 2048)[1], "recipient_key_invalid"),
        (lambda: rsa_with_modulus_factor(2), "recipient_key_invalid"),  # answered 500 at sealing time
        (lambda: rsa_with_modulus_factor(3), "recipient_key_invalid"),
        (lambda: rsa_with_modulus_factor(997), "recipient_key_invalid"),
        (lambda: {**private_and_public("EC", "P-256")[1], "d": "AAAA"}, "validation_failed"),
        (lambda: {"kty": "oct", "k": "AAAA"}, "validation_failed"),
    ],
)
def test_weak_or_private_recipient_keys_are_refused_on_the_profile_and_the_download(api, world, jwk, code):
    profile = api.call("PATCH", "/me", {"recipient_jwk": jwk()}, token=world["keys"])
    assert (profile.status_code, profile.data["error"]["code"]) == (422, code)
    download = api.call(
        "GET", "/devices/keys?format=jwe&recipient_jwk=" + quote(json.dumps(jwk())), token=world["keys"]
    )
    assert download.status_code == 422 and KEY_A[0]["hex"].encode() not in download.body


def key_events(org_id):
    return [
        (event.action, event.target, event.detail)
        for event in AuditEventModel.query(org_id)
        if event.action.startswith("keys_download")
    ]


def test_each_download_is_audited_in_the_owners_organization_with_what_was_asked(api, world):
    make_org("customer_east", parent_id="customer")
    make_device("E-1", "maker", "customer_east")
    api.call("GET", "/devices/K-1/keys", token=world["keys"])
    api.call("GET", "/devices/" + "Z" * 80 + "/keys", token=world["keys"])
    api.call("GET", "/devices/keys?format=json&org_id=customer_east", token=world["keys"])
    assert key_events("customer") == [
        ("keys_downloaded", "K-1", {"format": "json", "serial": "K-1", "count": 1}),
        (
            "keys_download_refused",
            "Z" * 64,
            {"format": "json", "serial": "Z" * 64, "reason": "device_not_found", "count": 0},
        ),
    ]
    assert key_events("customer_east") == [
        ("keys_downloaded", None, {"format": "json", "filter": {"org_id": "customer_east"}, "count": 1})
    ]


def test_a_refused_bulk_download_is_audited_where_it_was_aimed(api, world):
    make_org("customer_east", parent_id="customer")
    assert api.call("GET", "/devices/keys?org_id=customer_east", token=world["viewer"]).status_code == 403
    assert [(action, detail["reason"]) for action, _, detail in key_events("customer_east")] == [
        ("keys_download_refused", "forbidden")
    ]


def test_a_refusal_of_a_single_devices_keys_says_why(api, world):
    response = api.call("GET", "/devices/K-1/keys", token=world["viewer"])
    assert response.data["error"]["message"] == "Your roles do not allow key downloads."


def test_a_key_manager_bound_to_sites_downloads_only_the_devices_of_its_sites(api, world):
    make_device("S-1", "maker", "customer", site_id="site_north")
    make_device("S-2", "maker", "customer", site_id="site_south")
    make_user(email="north@customer.example", org_id="customer", roles=("KEY_MANAGER",), site_ids=["site_north"])
    north = api.login("north@customer.example")
    listed = api.call("GET", "/devices/keys?format=json", token=north).data["devices"]
    assert [device["serial"] for device in listed] == ["S-1"]
    assert api.call("GET", "/devices/S-2/keys", token=north).status_code == 404


def test_a_download_of_exactly_the_most_devices_it_holds_is_served(api, world, monkeypatch):
    from chalicelib.services.keys import downloads as keys

    monkeypatch.setattr(keys, "MAX_DOWNLOAD_DEVICES", 2)  # the customer owns exactly two claimed devices
    response = api.call("GET", "/devices/keys?format=json", token=world["keys"])
    assert response.status_code == 200 and [d["serial"] for d in response.data["devices"]] == ["K-1", "K-2"]


@pytest.mark.parametrize(
    "query, serials",
    [
        ("product_type=meter", ["K-2"]),
        ("claim_status=CLAIMED", ["K-1", "K-2"]),
        ("batch_id=bat_1", ["K-2"]),
        ("label=roof&serial=K-2", ["K-2"]),
        ("label=roof&serial=K-1", []),
    ],
)
def test_each_indexed_filter_selects_its_devices(api, world, query, serials):
    from chalicelib.models import DeviceModel

    DeviceModel.get("K-2").update(actions=[DeviceModel.batch_id.set("bat_1")])
    listed = api.call("GET", f"/devices/keys?format=json&{query}", token=world["keys"]).data["devices"]
    assert [device["serial"] for device in listed] == serials


def test_two_indexed_filters_at_once_are_refused(api, world):
    response = api.call("GET", "/devices/keys?format=json&label=roof&product_type=meter", token=world["keys"])
    assert response.status_code == 400 and response.data["error"]["code"] == "filter_not_indexed"


def test_the_file_is_named_for_the_organization_and_the_day(api, world):
    from datetime import datetime, timezone

    response = api.call("GET", "/devices/keys?format=csv", token=world["keys"])
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert response.headers["Content-Disposition"] == f'attachment; filename="keys-customer-{today}.csv"'
