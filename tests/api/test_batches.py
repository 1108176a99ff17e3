"""Batch references over HTTP: assignment at once or on confirmation, refusals, the serial list, the mail."""

import pytest

from chalicelib.models import BatchModel, DeviceModel
from tests.helpers import make_device, make_org, make_user


@pytest.fixture
def world(api, mailbox, login_as):
    """maker made M-01..M-05; target (maker's partner) has an ORG_ADMIN; rival owns M-05 already."""
    make_org("maker", name="Meter Works")
    make_org("target", name="City Utility")
    make_org("rival")
    linked = api.call("POST", "/orgs/maker/partners", {"partner_org_id": "target"}, token=login_as("OPERATOR"))
    assert linked.status_code == 201, linked.body
    for n in range(1, 5):
        make_device(f"M-0{n}", "maker")
    make_device("M-05", "maker", "rival")
    make_device("X-01", "rival")
    make_user(email="boss@target.example", org_id="target", roles=("ORG_ADMIN",), name="Tessa")
    make_user(email="ops@maker.example", org_id="maker", roles=("VIEWER",), permissions=("batches.manage",))
    return {"maker": api.login("ops@maker.example"), "target": api.login("boss@target.example")}


def create(api, token, **fields):
    body = {"reference": "PO-1", "org_id": "target", "serials": ["M-01", "M-02"], **fields}
    body = {name: value for name, value in body.items() if value is not None}
    return api.call("POST", "/batches", body, token=token)


def test_without_confirmation_the_target_owns_the_devices_at_once(api, world, mailbox):
    response = create(api, world["maker"], serials=["M-01", "M-02", "M-05", "NOPE-1", "X-01", "M-01"])
    assert response.status_code == 201, response.body
    batch = response.data
    assert (batch["state"], batch["count"]) == ("CONFIRMED", 2)
    assert batch["unknown_serials"] == ["NOPE-1", "X-01"] and batch["unavailable_serials"] == ["M-05"]
    for serial in ("M-01", "M-02"):
        device = DeviceModel.get(serial)
        assert (device.owner_org_id, device.claim_status, device.batch_id) == ("target", "CLAIMED", batch["id"])
    assert DeviceModel.get("M-05").owner_org_id == "rival"
    [mail] = mailbox.messages(to="boss@target.example")
    assert "now in your catalog" in mailbox.text(mail) and "2 devices" in mailbox.text(mail)


def test_with_confirmation_devices_wait_pending_and_the_target_admins_get_a_mail(api, world, mailbox):
    batch = create(api, world["maker"], requires_confirmation=True, label="Spring lot").data
    assert batch["state"] == "PENDING"
    pending = api.call("GET", "/devices?claim_status=PENDING", token=world["target"])
    assert [item["serial"] for item in pending.data["items"]] == ["M-01", "M-02"]
    [mail] = mailbox.messages(to="boss@target.example")
    text = mailbox.text(mail)
    assert "PO-1" in text and "Meter Works" in text and f"/batches/{batch['id']}" in text
    confirmed = api.call("POST", f"/batches/{batch['id']}/confirm", token=world["target"])
    assert confirmed.status_code == 200 and confirmed.data["state"] == "CONFIRMED"
    assert {DeviceModel.get(s).claim_status for s in ("M-01", "M-02")} == {"CLAIMED"}
    again = api.call("POST", f"/batches/{batch['id']}/confirm", token=world["target"])
    assert again.status_code == 409 and again.data["error"]["code"] == "batch_not_pending"
    late = api.call("POST", f"/batches/{batch['id']}/reject", token=world["target"])
    assert late.status_code == 409


def test_a_rejected_batch_leaves_its_devices_unclaimed(api, world):
    batch = create(api, world["maker"], requires_confirmation=True).data
    rejected = api.call("POST", f"/batches/{batch['id']}/reject", token=world["target"])
    assert rejected.data["state"] == "REJECTED"
    device = DeviceModel.get("M-01")
    assert (device.claim_status, device.owner_org_id) == ("UNCLAIMED", None)
    assert api.call("POST", f"/batches/{batch['id']}/confirm", token=world["target"]).status_code == 409


def test_only_the_target_confirms_and_foreign_batches_are_404(api, world):
    batch = create(api, world["maker"], requires_confirmation=True).data
    assert api.call("POST", f"/batches/{batch['id']}/confirm", token=world["maker"]).status_code == 409
    make_user(email="x@rival.example", org_id="rival", roles=("ORG_ADMIN",))
    stranger = api.login("x@rival.example")
    for path in ("", "/confirm", "/reject"):
        method = "GET" if not path else "POST"
        assert api.call(method, f"/batches/{batch['id']}{path}", token=stranger).status_code == 404
    assert BatchModel.get(batch["id"]).state == "PENDING"


def test_a_reference_is_unique_per_organization(api, world):
    assert create(api, world["maker"]).status_code == 201
    again = create(api, world["maker"], serials=["M-03"])
    assert again.status_code == 409 and again.data["error"]["code"] == "batch_reference_taken"
    assert DeviceModel.get("M-03").claim_status == "UNCLAIMED"


def test_serials_come_from_a_txt_or_csv_file_with_a_header_and_any_separator(api, world):
    content = "serial\r\nM-01, M-02;M-03\n\n  M-04  \n"
    batch = create(api, world["maker"], serials=None, file={"name": "lot.csv", "content": content})
    assert batch.status_code == 201 and batch.data["count"] == 4
    wrong = create(api, world["maker"], reference="PO-2", serials=None, file={"name": "lot.xlsx", "content": "M-01"})
    assert wrong.status_code == 422 and "txt or .csv" in wrong.data["error"]["message"]
    garbage = create(api, world["maker"], reference="PO-3", serials=["M-01", "not a serial!"])
    assert garbage.status_code == 422


def test_the_batch_lists_its_serials_paged_with_where_each_stands(api, world):
    batch = create(api, world["maker"], serials=["M-01", "M-02", "M-03"], requires_confirmation=True).data
    first = api.call("GET", f"/batches/{batch['id']}?limit=2", token=world["target"]).data
    assert first["serials"]["items"] == [
        {"serial": "M-01", "claim_status": "PENDING", "moved": True},
        {"serial": "M-02", "claim_status": "PENDING", "moved": True},
    ]
    rest = api.call(
        "GET", f"/batches/{batch['id']}?limit=2&cursor={first['serials']['next_cursor']}", token=world["target"]
    ).data
    assert [item["serial"] for item in rest["serials"]["items"]] == ["M-03"]
    listed = api.call("GET", "/batches", token=world["target"]).data["items"]
    assert [item["id"] for item in listed] == [batch["id"]]
    assert [item["id"] for item in api.call("GET", "/batches", token=world["maker"]).data["items"]] == [batch["id"]]


def fail_moves_after_the_first(monkeypatch):
    """Devices move two per transaction and every move after the first fails, as when the process dies part-way;
    answer the real mover, to put back."""
    from chalicelib.services.devices import batches

    original, calls = batches._move_chunk, {"n": 0}

    def failing_after_first(devices, *args):
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("the process died")
        return original(devices, *args)

    monkeypatch.setattr(batches, "TRANSACTION_ITEMS", 2)
    monkeypatch.setattr(batches, "_move_chunk", failing_after_first)
    return original


def test_a_confirm_resumes_a_batch_a_failure_left_half_moved(api, world, monkeypatch):
    from chalicelib.services.devices import batches

    original = fail_moves_after_the_first(monkeypatch)
    response = create(api, world["maker"], serials=["M-01", "M-02", "M-03", "M-04"])
    assert response.status_code == 500
    [batch] = BatchModel.scan()
    assert batch.state == "MOVING"
    view = api.call("GET", f"/batches/{batch.batch_id}", token=world["target"]).data
    assert [item["moved"] for item in view["serials"]["items"]] == [True, True, False, False]
    monkeypatch.setattr(batches, "_move_chunk", original)
    resumed = api.call("POST", f"/batches/{batch.batch_id}/confirm", token=world["target"])
    assert resumed.status_code == 200 and resumed.data["state"] == "CONFIRMED"
    assert {DeviceModel.get(f"M-0{n}").owner_org_id for n in range(1, 5)} == {"target"}


def test_without_the_permission_nobody_creates_batches(api, world, login_as):
    assert create(api, world["target"]).status_code == 403


def test_a_reject_refuses_a_batch_whose_confirmation_died_part_way_and_a_repeated_confirm_finishes_it(
    api, world, monkeypatch
):
    from chalicelib.services.devices import batches

    batch = create(api, world["maker"], serials=["M-01", "M-02", "M-03", "M-04"], requires_confirmation=True).data
    original = fail_moves_after_the_first(monkeypatch)
    assert api.call("POST", f"/batches/{batch['id']}/confirm", token=world["target"]).status_code == 500
    monkeypatch.setattr(batches, "_move_chunk", original)
    assert [DeviceModel.get(f"M-0{n}").claim_status for n in range(1, 5)] == ["CLAIMED"] * 2 + ["PENDING"] * 2

    refused = api.call("POST", f"/batches/{batch['id']}/reject", token=world["target"])
    assert refused.status_code == 409 and refused.data["error"]["code"] == "batch_confirming"
    assert api.call("GET", f"/batches/{batch['id']}", token=world["target"]).data["state"] == "CONFIRMING"
    resumed = api.call("POST", f"/batches/{batch['id']}/confirm", token=world["target"])
    assert resumed.status_code == 200 and (resumed.data["state"], resumed.data["count"]) == ("CONFIRMED", 4)
    assert {
        (DeviceModel.get(f"M-0{n}").owner_org_id, DeviceModel.get(f"M-0{n}").claim_status) for n in range(1, 5)
    } == {("target", "CLAIMED")}


def test_a_maker_cannot_batch_devices_to_an_organization_outside_its_tree_and_partners(api, world, mailbox):
    make_user(email="boss@rival.example", org_id="rival", roles=("ORG_ADMIN",))
    foreign = create(api, world["maker"], org_id="rival")
    unknown = create(api, world["maker"], org_id="org_nope")
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.data == unknown.data
    assert mailbox.messages(to="boss@rival.example") == []
    assert list(BatchModel.scan()) == []
    assert DeviceModel.get("M-01").claim_status == "UNCLAIMED"


def test_a_maker_batches_devices_to_its_partners_and_its_descendants(api, world):
    make_org("branch", parent_id="maker")
    assert create(api, world["maker"], reference="PO-B", serials=["M-03"], org_id="branch").status_code == 201
    assert create(api, world["maker"], reference="PO-T", serials=["M-04"]).status_code == 201
    assert (DeviceModel.get("M-03").owner_org_id, DeviceModel.get("M-04").owner_org_id) == ("branch", "target")


def test_an_operator_batches_devices_to_any_organization(api, world, login_as):
    response = create(api, login_as("OPERATOR"), org_id="rival", maker_org_id="maker")
    assert response.status_code == 201 and response.data["count"] == 2


def test_a_batch_without_a_single_assignable_device_is_refused_and_mails_nobody(api, world, mailbox):
    refused = create(api, world["maker"], serials=["NOPE-1", "X-01", "M-05"])
    assert refused.status_code == 422 and refused.data["error"]["code"] == "batch_empty"
    assert mailbox.messages(to="boss@target.example") == []
    assert list(BatchModel.scan()) == []
    assert create(api, world["maker"]).status_code == 201  # the reference was not spent


def test_batch_creation_is_throttled_per_actor_and_per_organization(api, world, mailbox):
    for n in range(20):
        assert create(api, world["maker"], reference=f"PO-{n}", serials=["M-01"]).status_code == 201
    throttled = create(api, world["maker"], reference="PO-20", serials=["M-01"])
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    make_user(email="other@maker.example", org_id="maker", roles=("VIEWER",), permissions=("batches.manage",))
    colleague = create(api, api.login("other@maker.example"), reference="PO-21", serials=["M-01"])
    assert colleague.status_code == 429 and int(colleague.headers["Retry-After"]) > 0
    assert len(mailbox.messages(to="boss@target.example")) == 20


def test_a_batch_whose_creation_died_part_way_waits_for_the_same_create_which_makes_it_hold_exactly_its_serials(
    api, world, monkeypatch, mailbox
):
    from chalicelib.models import BatchSerialModel
    from chalicelib.services.devices import batches

    original, calls = batches._write_entries_chunk, {"n": 0}

    def dying_after_first(*args):
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("the process died")
        return original(*args)

    monkeypatch.setattr(batches, "ENTRY_ITEMS", 2)
    monkeypatch.setattr(batches, "_write_entries_chunk", dying_after_first)
    assert create(api, world["maker"], serials=["M-01", "M-02", "M-03"], requires_confirmation=True).status_code == 500
    monkeypatch.setattr(batches, "_write_entries_chunk", original)
    [batch] = BatchModel.scan()
    assert batch.state == "CREATING" and [e.serial for e in BatchSerialModel.query(batch.batch_id)] == ["M-01", "M-02"]
    early = api.call("POST", f"/batches/{batch.batch_id}/confirm", token=world["target"])
    assert early.status_code == 409 and early.data["error"]["code"] == "batch_incomplete"
    assert {DeviceModel.get(f"M-0{n}").claim_status for n in range(1, 5)} == {"UNCLAIMED"}
    assert mailbox.messages(to="boss@target.example") == []

    other_target = create(api, world["maker"], org_id="maker", serials=["M-02", "M-04"])
    assert other_target.status_code == 409 and other_target.data["error"]["code"] == "batch_reference_taken"
    again = create(api, world["maker"], serials=["M-02", "M-04"], requires_confirmation=True)
    assert again.status_code == 201
    assert (again.data["id"], again.data["state"], again.data["count"]) == (batch.batch_id, "PENDING", 2)
    assert [e.serial for e in BatchSerialModel.query(batch.batch_id)] == ["M-02", "M-04"]
    assert [DeviceModel.get(f"M-0{n}").claim_status for n in range(1, 5)] == [
        "UNCLAIMED",
        "PENDING",
        "UNCLAIMED",
        "PENDING",
    ]
    assert len(mailbox.messages(to="boss@target.example")) == 1
