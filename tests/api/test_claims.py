"""Claiming, releasing and taking over devices over HTTP: every refusal path, throttling, audit."""

import time
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.models import AuditEventModel, DeviceModel
from tests.helpers import make_device, make_org, make_user

CODE = "CLAIM-CODE-0042"
WINDOW_CODES = {"C-2": "CLAIMCODE0002", "C-3": "CLAIMCODE0003"}


@pytest.fixture
def world(aws):
    """maker made four devices, each with its own claim code; customer and rival are two other organizations.

    C-4 carries C-1's stored code hash, as if copied over in the database: the hash is bound to C-1's serial,
    so C-1's code must not claim C-4."""
    make_org("maker")
    make_org("customer")
    make_org("rival")
    now = datetime.now(timezone.utc)
    c1 = make_device("C-1", "maker", claim_code="CLAIMCODE0042", id_code="ID4711", mac="00:1a:2b:3c:4d:5e")
    make_device("C-2", "maker", claim_code=WINDOW_CODES["C-2"], claim_valid_to=now - timedelta(days=1))
    make_device("C-3", "maker", claim_code=WINDOW_CODES["C-3"], claim_valid_from=now + timedelta(days=1))
    make_device("C-4", "maker")
    DeviceModel.get("C-4").update(actions=[DeviceModel.claim_code_hash.set(c1.claim_code_hash)])


@pytest.fixture
def customer(api, world):
    make_user(email="k@customer.example", org_id="customer", roles=("KEY_MANAGER",))
    return api.login("k@customer.example")


@pytest.fixture
def rival(api, world):
    make_user(email="k@rival.example", org_id="rival", roles=("ORG_ADMIN",))
    return api.login("k@rival.example")


def claim(api, token, serial="C-1", **proof):
    return api.call("POST", f"/devices/{serial}/claim", proof or {"claim_code": CODE}, token=token)


def test_a_claim_with_the_code_makes_the_device_the_organizations(api, customer):
    response = claim(api, customer, claim_code="claim code 0042")
    assert response.status_code == 200, response.body
    assert (response.data["claim_status"], response.data["owner_org_id"]) == ("CLAIMED", "customer")
    assert response.data["claimed_at"]
    listed = api.call("GET", "/devices?claim_status=CLAIMED", token=customer)
    assert [item["serial"] for item in listed.data["items"]] == ["C-1"]
    assert [event.action for event in AuditEventModel.query("customer")][-1] == "device_claimed"


def test_a_claim_with_id_code_and_mac_in_any_notation_works(api, customer):
    response = claim(api, customer, id_code="id-4711", mac="001A.2B3C.4D5E")
    assert response.status_code == 200 and response.data["owner_org_id"] == "customer"


@pytest.mark.parametrize(
    "serial,proof",
    [
        ("C-1", {"claim_code": "CLAIM-CODE-0043"}),
        ("C-1", {"claim_code": "x"}),
        ("C-1", {"id_code": "ID4711", "mac": "00:1a:2b:3c:4d:5f"}),
        ("C-1", {"id_code": "ID4712", "mac": "00:1a:2b:3c:4d:5e"}),
        ("NOPE-1", {"claim_code": CODE}),
        ("C-4", {"claim_code": CODE}),  # C-1's code against C-1's hash copied onto C-4
    ],
)
def test_a_wrong_proof_and_an_unknown_serial_answer_the_same_404(api, customer, serial, proof):
    response = claim(api, customer, serial, **proof)
    assert response.status_code == 404
    assert response.data == {
        "error": {"code": "claim_invalid", "message": "No device with this serial accepts this proof."}
    }
    assert DeviceModel.get("C-1").claim_status == "UNCLAIMED"


@pytest.mark.parametrize("serial", ["C-2", "C-3"])
def test_a_code_outside_its_window_answers_410(api, customer, serial):
    response = claim(api, customer, serial, claim_code=WINDOW_CODES[serial])
    assert response.status_code == 410 and response.data["error"]["code"] == "claim_code_expired"


def test_a_claimed_device_answers_409_to_the_next_claimer(api, customer, rival):
    assert claim(api, customer).status_code == 200
    for proof in ({"claim_code": CODE}, {"id_code": "ID4711", "mac": "00:1a:2b:3c:4d:5e"}):
        response = claim(api, rival, **proof)
        assert response.status_code == 409 and response.data["error"]["code"] == "already_claimed"
    assert DeviceModel.get("C-1").owner_org_id == "customer"


def test_release_makes_the_device_claimable_again_but_not_with_the_spent_code(api, customer, rival):
    claim(api, customer)
    make_user(email="a@customer.example", org_id="customer", roles=("ORG_ADMIN",))
    released = api.call("POST", "/devices/C-1/release", token=api.login("a@customer.example"))
    assert released.status_code == 200
    assert (released.data["claim_status"], released.data["owner_org_id"]) == ("UNCLAIMED", None)
    spent = claim(api, rival)
    assert spent.status_code == 410 and spent.data["error"]["code"] == "claim_code_spent"
    assert claim(api, rival, id_code="ID4711", mac="00:1a:2b:3c:4d:5e").data["owner_org_id"] == "rival"
    device = DeviceModel.get("C-1")
    assert device.keys_exposed_to == ["customer"]
    event = next(e for e in AuditEventModel.query("customer") if e.action == "device_released")
    assert event.detail == {"keys_exposed_to": ["customer"]}


def test_the_maker_sees_who_had_the_keys(api, customer):
    claim(api, customer)
    api.call("POST", "/devices/C-1/release", token=customer)
    make_user(email="m@maker.example", org_id="maker", roles=("VIEWER",))
    assert api.call("GET", "/devices/C-1", token=api.login("m@maker.example")).data["keys_exposed_to"] == ["customer"]
    claim(api, customer, id_code="ID4711", mac="00:1a:2b:3c:4d:5e")
    assert "keys_exposed_to" not in api.call("GET", "/devices/C-1", token=customer).data


def test_only_the_owner_releases(api, customer, rival):
    claim(api, customer)
    assert api.call("POST", "/devices/C-1/release", token=rival).status_code == 404
    make_user(email="v@customer.example", org_id="customer", roles=("VIEWER",))
    assert api.call("POST", "/devices/C-1/release", token=api.login("v@customer.example")).status_code == 403
    assert DeviceModel.get("C-1").owner_org_id == "customer"


def test_ten_failed_claims_lock_the_device_and_the_account_for_a_while(api, customer, rival):
    for _ in range(10):
        assert claim(api, rival, claim_code="WRONG-CODE-1").status_code == 404
    locked = claim(api, rival, claim_code=CODE)
    assert locked.status_code == 429
    assert claim(api, customer).status_code == 429  # the device is locked for everybody
    assert claim(api, rival, "C-2", claim_code="WRONG-CODE-1").status_code == 429  # and the account everywhere
    failed = [e for e in AuditEventModel.query("rival") if e.action == "device_claim_failed"]
    assert len(failed) == 10


def test_a_locked_claim_names_the_seconds_until_the_failures_leave_the_window(api, customer, rival, monkeypatch):
    now = time.time() // 900 * 900 + 30  # 30 s into a quarter hour, held there
    monkeypatch.setattr(time, "time", lambda: now)
    for _ in range(10):
        claim(api, rival, claim_code="WRONG-CODE-1")
    locked = claim(api, rival, claim_code=CODE)
    # counted in minute slots, the failures of this minute are gone once the minute 15 minutes on has begun
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "871"
    now += 600
    assert claim(api, rival, claim_code=CODE).headers["Retry-After"] == "271"


def test_take_ownership_moves_a_device_and_needs_the_permission(api, customer, login_as):
    claim(api, customer)
    make_user(email="a@maker.example", org_id="maker", roles=("ORG_ADMIN",))
    plain = api.login("a@maker.example")
    assert api.call("POST", "/devices/C-1/take-ownership", {"org_id": "maker"}, token=plain).status_code == 403
    operator = login_as("OPERATOR")
    moved = api.call("POST", "/devices/C-1/take-ownership", {"org_id": "rival"}, token=operator)
    assert moved.status_code == 200 and moved.data["owner_org_id"] == "rival"
    device = DeviceModel.get("C-1")
    assert device.keys_exposed_to == ["customer"] and device.owner_status == "rival#CLAIMED"
    assert [e.action for e in AuditEventModel.query("rival")][-1] == "device_ownership_taken"


def test_claims_need_a_proof(api, customer):
    response = api.call("POST", "/devices/C-1/claim", {"mac": "00:1a:2b:3c:4d:5e"}, token=customer)
    assert response.status_code == 422


def test_a_maker_cannot_release_a_device_its_customer_owns(api, customer):
    claim(api, customer)
    make_user(email="a@maker.example", org_id="maker", roles=("ORG_ADMIN", "KEY_MANAGER"))
    response = api.call("POST", "/devices/C-1/release", token=api.login("a@maker.example"))
    assert response.status_code == 409 and response.data["error"]["code"] == "device_not_owned"
    device = DeviceModel.get("C-1")
    assert (device.claim_status, device.owner_org_id) == ("CLAIMED", "customer")


def test_a_claim_that_loses_the_race_after_its_proof_was_checked_answers_409_and_changes_nothing(
    api, customer, rival, monkeypatch
):
    from chalicelib.services.devices import claims

    proven = claims._proven

    def rival_claims_meanwhile(serial, proof):
        # The proof is checked on a read; the rival's claim lands between that read and this claim's write.
        device, used_code = proven(serial, proof)
        monkeypatch.setattr(claims, "_proven", proven)
        assert claim(api, rival, id_code="ID4711", mac="00:1a:2b:3c:4d:5e").status_code == 200
        return device, used_code

    monkeypatch.setattr(claims, "_proven", rival_claims_meanwhile)
    response = claim(api, customer)
    assert response.status_code == 409 and response.data["error"]["code"] == "already_claimed"
    device = DeviceModel.get("C-1")
    assert (device.claim_status, device.owner_org_id) == ("CLAIMED", "rival")


def events(org_id, action):
    return [event for event in AuditEventModel.query(org_id) if event.action == action]


def test_a_claim_for_an_organization_below_makes_it_the_owner_and_one_outside_is_refused(api, customer):
    make_org("customer_east", parent_id="customer")
    response = claim(api, customer, claim_code=CODE, org_id="customer_east")
    assert response.status_code == 200 and response.data["owner_org_id"] == "customer_east"
    assert claim(api, customer, "C-4", claim_code=CODE, org_id="rival").status_code == 404
    assert DeviceModel.get("C-4").owner_org_id is None


def test_each_claim_is_audited_with_the_device_and_the_proof_it_used(api, customer):
    claim(api, customer, claim_code=CODE)
    make_device("C-5", "maker", id_code="ID5555", mac="00:1a:2b:3c:4d:55")
    claim(api, customer, "C-5", id_code="ID5555", mac="00:1a:2b:3c:4d:55")
    assert [(event.target, event.detail) for event in events("customer", "device_claimed")] == [
        ("C-1", {"proof": "claim_code"}),
        ("C-5", {"proof": "id_code_mac"}),
    ]
    claim(api, customer, "X" * 100, claim_code="WRONG-CODE-1")
    assert [event.target for event in events("customer", "device_claim_failed")] == ["X" * 64]


def test_a_refused_claim_tells_how_long_to_wait(api, rival):
    for _ in range(10):
        claim(api, rival, claim_code="WRONG-CODE-1")
    locked = claim(api, rival, claim_code=CODE)
    assert locked.data["error"]["message"].startswith("Too many failed claims; try again")


@pytest.mark.parametrize("edge", ["claim_valid_from", "claim_valid_to"])
def test_a_code_works_at_both_ends_of_its_window(api, world, monkeypatch, edge):
    from chalicelib import clock

    instant = datetime(2030, 1, 1, tzinfo=timezone.utc)
    make_device("W-1", "maker", claim_code="CLAIMCODE7777", **{edge: instant})
    monkeypatch.setattr(clock, "now", lambda: instant)
    make_user(email="k@customer.example", org_id="customer", roles=("KEY_MANAGER",))
    customer = api.login("k@customer.example")  # a session of that instant: the whole clock stands there
    assert claim(api, customer, "W-1", claim_code="CLAIMCODE7777").status_code == 200


def test_a_claimed_device_is_listed_under_its_new_status_for_the_maker_and_its_product_for_the_owner(api, customer):
    assert DeviceModel.get("C-1").updated_at is None  # as imported by the fixture
    claim(api, customer)
    make_user(email="v@maker.example", org_id="maker", roles=("VIEWER",), permissions=["devices.import"])
    maker = api.login("v@maker.example")
    listed = api.call("GET", "/devices?view=imported&claim_status=CLAIMED", token=maker).data["items"]
    assert [item["serial"] for item in listed] == ["C-1"]
    by_product = api.call("GET", "/devices?product_type=meter", token=customer).data["items"]
    assert [item["serial"] for item in by_product] == ["C-1"]
    assert DeviceModel.get("C-1").updated_at is not None


def test_a_second_release_adds_the_second_owner_to_who_had_the_keys(api, customer, rival):
    claim(api, customer)
    api.call("POST", "/devices/C-1/release", token=customer)
    claim(api, rival, id_code="ID4711", mac="00:1a:2b:3c:4d:5e")
    released = api.call("POST", "/devices/C-1/release", token=rival)
    assert released.status_code == 200
    assert DeviceModel.get("C-1").keys_exposed_to == ["customer", "rival"]
    assert [(event.target, event.detail) for event in events("rival", "device_released")] == [
        ("C-1", {"keys_exposed_to": ["customer", "rival"]})
    ]


def test_taking_over_an_unclaimed_device_exposes_nobody_and_is_audited(api, world, login_as):
    maker = login_as("ORG_ADMIN", org_id="maker", permissions=["devices.take_ownership"])
    moved = api.call("POST", "/devices/C-4/take-ownership", {"org_id": "maker"}, token=maker)
    assert moved.status_code == 200 and moved.data["owner_org_id"] == "maker"
    assert not DeviceModel.get("C-4").keys_exposed_to
    assert [(event.target, event.detail) for event in events("maker", "device_ownership_taken")] == [
        ("C-4", {"previous_owner": None})
    ]


def stale_device(monkeypatch, serial):
    """The device as read now, handed to the service later, after someone else changed it."""
    from chalicelib.services.devices import claims

    snapshot = DeviceModel.get(serial)
    monkeypatch.setattr(claims, "visible_device", lambda principal, wanted: snapshot)


def test_a_take_over_of_a_device_that_changed_hands_meanwhile_answers_409(api, customer, login_as, monkeypatch):
    claim(api, customer)
    operator = login_as("OPERATOR")
    stale_device(monkeypatch, "C-1")
    api.call("POST", "/devices/C-1/release", token=customer)
    claim(api, customer, id_code="ID4711", mac="00:1a:2b:3c:4d:5e")
    DeviceModel.get("C-1").update(actions=[DeviceModel.owner_org_id.set("rival")])
    moved = api.call("POST", "/devices/C-1/take-ownership", {"org_id": "maker"}, token=operator)
    assert moved.status_code == 409 and moved.data["error"]["message"].startswith("The device changed hands")
    assert DeviceModel.get("C-1").owner_org_id == "rival"


def test_a_release_of_a_device_that_changed_hands_meanwhile_changes_nothing(api, customer, monkeypatch):
    claim(api, customer)
    stale_device(monkeypatch, "C-1")
    DeviceModel.get("C-1").update(actions=[DeviceModel.owner_org_id.set("rival")])
    response = api.call("POST", "/devices/C-1/release", token=customer)
    assert response.status_code == 409 and response.data["error"]["code"] == "device_not_owned"
    assert (DeviceModel.get("C-1").owner_org_id, DeviceModel.get("C-1").claim_status) == ("rival", "CLAIMED")


def test_a_release_refused_for_lack_of_role_says_who_may(api, customer):
    claim(api, customer)
    make_user(email="v2@customer.example", org_id="customer", roles=("VIEWER",))
    refused = api.call("POST", "/devices/C-1/release", token=api.login("v2@customer.example"))
    assert refused.data["error"]["message"] == "Only the owner's ORG_ADMIN or KEY_MANAGER releases a device."


def test_release_and_take_over_stamp_the_change(api, customer, login_as):
    claim(api, customer)
    DeviceModel.get("C-1").update(actions=[DeviceModel.updated_at.remove()])
    api.call("POST", "/devices/C-1/release", token=customer)
    assert DeviceModel.get("C-1").updated_at is not None
    DeviceModel.get("C-1").update(actions=[DeviceModel.updated_at.remove()])
    api.call("POST", "/devices/C-1/take-ownership", {"org_id": "rival"}, token=login_as("OPERATOR"))
    assert DeviceModel.get("C-1").updated_at is not None
