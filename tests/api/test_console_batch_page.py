"""The console page of a batch (the new_batch mail's link): what it shows whom, and Confirm / Reject by the target's
deciders through the same services as the JSON routes."""

import re

import pytest

from chalicelib.models import BatchModel, DeviceModel
from tests.console_browser import Browser, text_of
from tests.helpers import make_device, make_org, make_user


@pytest.fixture
def world(api, mailbox, login_as):
    """maker sends batches to its partner target; target has a French ORG_ADMIN and a VIEWER; rival is a stranger."""
    make_org("maker", name="Meter Works")
    make_org("target", name="City Utility")
    make_org("rival", name="Rival Corp")
    linked = api.call("POST", "/orgs/maker/partners", {"partner_org_id": "target"}, token=login_as("OPERATOR"))
    assert linked.status_code == 201, linked.body
    for serial in ("M-01", "M-02", "M-03"):
        make_device(serial, "maker")
    make_user(email="boss@target.example", org_id="target", roles=("ORG_ADMIN",), language="fr")
    make_user(email="view@target.example", org_id="target", roles=("VIEWER",))
    make_user(email="admin@rival.example", org_id="rival", roles=("ORG_ADMIN",))
    make_user(email="ops@maker.example", org_id="maker", roles=("VIEWER",), permissions=("batches.manage",))
    return {"maker": api.login("ops@maker.example")}


def send_batch(api, world, serials=("M-01",), **fields):
    body = {"reference": "PO-7", "org_id": "target", "serials": list(serials), "requires_confirmation": True}
    response = api.call("POST", "/batches", {**body, **fields}, token=world["maker"])
    assert response.status_code == 201, response.body
    return response.data["id"]


def signed_in(api, email):
    browser = Browser(api.client)
    home = browser.sign_in(email)
    assert home.status_code == 200, home.text[:300]
    return browser


def mailed_path(mailbox):
    [message] = [m for m in mailbox.messages(to="boss@target.example") if m["X-Keyport-Mail-Type"] == "new_batch"]
    return re.search(r"https://keyport\.test(/console/batches/\S+)", mailbox.text(message)).group(1)


def test_the_mailed_link_leads_through_sign_in_to_the_batch_in_the_readers_language(api, world, mailbox):
    batch_id = send_batch(api, world, label="Lot de printemps")
    path = mailed_path(mailbox)
    assert path == f"/console/batches/{batch_id}"
    browser = Browser(api.client)
    login = browser.get(path)
    assert login.path == f"/console/login?next={path}"
    page = browser.post(login.path, {"email": "boss@target.example", "password": "Correct-Horse-9-Battery"})
    words = text_of(page.text)
    assert page.status_code == 200 and page.path == path and '<html lang="fr">' in page.text
    for shown in (
        "PO-7",
        "Lot de printemps",
        "Meter Works",
        "City Utility",
        "1 appareil ",
        "En attente de confirmation",
    ):
        assert shown in words
    assert re.search(r"\d{1,2} \w+\.? \d{4}", words) and "Europe centrale" in words  # a French date, zone named
    assert 'id="confirm"' in page.text and 'id="reject"' in page.text


def test_the_count_is_plural_beyond_one_and_the_state_is_named(api, world, mailbox):
    batch_id = send_batch(api, world, serials=("M-01", "M-02"))
    page = signed_in(api, "view@target.example").get(f"/console/batches/{batch_id}")
    words = text_of(page.text)
    assert page.status_code == 200 and "2 devices" in words and "Awaiting confirmation" in words


def test_confirm_takes_the_devices_and_leaves_no_buttons(api, world, mailbox):
    batch_id = send_batch(api, world, serials=("M-01", "M-02"))
    browser = signed_in(api, "boss@target.example")
    browser.get(f"/console/batches/{batch_id}")
    page = browser.post(f"/console/batches/{batch_id}/confirm", {})
    assert page.status_code == 200 and page.path == f"/console/batches/{batch_id}?done=confirmed"
    assert BatchModel.get(batch_id).state == "CONFIRMED"
    assert {DeviceModel.get(serial).claim_status for serial in ("M-01", "M-02")} == {"CLAIMED"}
    assert 'role="status"' in page.text and "Confirmé" in text_of(page.text)
    assert 'id="confirm"' not in page.text and 'id="reject"' not in page.text


def test_reject_asks_first_then_frees_the_devices(api, world, mailbox):
    batch_id = send_batch(api, world)
    browser = signed_in(api, "boss@target.example")
    browser.get(f"/console/batches/{batch_id}")
    question = browser.get(f"/console/batches/{batch_id}/reject")
    assert question.status_code == 200 and "PO-7" in text_of(question.text)
    assert BatchModel.get(batch_id).state == "PENDING"  # opening the question decides nothing
    page = browser.post(f"/console/batches/{batch_id}/reject", {})
    assert page.status_code == 200 and page.path == f"/console/batches/{batch_id}?done=rejected"
    assert BatchModel.get(batch_id).state == "REJECTED" and DeviceModel.get("M-01").claim_status == "UNCLAIMED"
    # decided: the question is no longer asked, and a second post is refused as a changed batch
    assert browser.get(f"/console/batches/{batch_id}/reject").path == f"/console/batches/{batch_id}"
    again = browser.post(f"/console/batches/{batch_id}/reject", {}, follow=False)
    assert again.status_code == 409 and BatchModel.get(batch_id).state == "REJECTED"


@pytest.mark.parametrize("action", ["confirm", "reject"])
def test_a_decision_without_the_forms_token_is_refused_and_changes_nothing(api, world, mailbox, action):
    batch_id = send_batch(api, world)
    browser = signed_in(api, "boss@target.example")
    refused = browser.post(f"/console/batches/{batch_id}/{action}", {}, csrf="forged", follow=False)
    assert refused.status_code == 403 and BatchModel.get(batch_id).state == "PENDING"


def test_a_reader_who_may_not_decide_sees_no_buttons_and_cannot_decide(api, world, mailbox):
    batch_id = send_batch(api, world)
    viewer = signed_in(api, "view@target.example")
    page = viewer.get(f"/console/batches/{batch_id}")
    assert page.status_code == 200 and 'id="confirm"' not in page.text
    assert viewer.post(f"/console/batches/{batch_id}/confirm", {}, follow=False).status_code == 404
    assert BatchModel.get(batch_id).state == "PENDING"


def test_the_maker_sees_its_batch_but_decides_nothing(api, world, mailbox):
    batch_id = send_batch(api, world)
    page = signed_in(api, "ops@maker.example").get(f"/console/batches/{batch_id}")
    assert page.status_code == 200 and "City Utility" in text_of(page.text) and 'id="confirm"' not in page.text


@pytest.mark.parametrize("batch_id", ["foreign", "bat_nonexistent"])
def test_a_batch_outside_the_scope_is_the_not_found_page_without_its_data(api, world, mailbox, batch_id):
    if batch_id == "foreign":
        batch_id = send_batch(api, world)
    browser = signed_in(api, "admin@rival.example")
    for path in (f"/console/batches/{batch_id}", f"/console/batches/{batch_id}/reject"):
        page = browser.get(path)
        assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
        assert "PO-7" not in page.text and "Meter Works" not in page.text and "City Utility" not in page.text
    browser.get("/console/")  # a page with a form: its token is a valid one
    refused = browser.post(f"/console/batches/{batch_id}/confirm", {}, follow=False)
    assert refused.status_code == 404


@pytest.mark.parametrize(
    "interrupted, action, state, status",
    [("CONFIRMING", "confirm", "CONFIRMED", "CLAIMED"), ("REJECTING", "reject", "REJECTED", "UNCLAIMED")],
)
def test_an_interrupted_decision_is_finished_from_the_page(api, world, mailbox, interrupted, action, state, status):
    batch_id = send_batch(api, world, serials=("M-01", "M-02"))
    BatchModel.get(batch_id).update(actions=[BatchModel.state.set(interrupted)])  # as a failure part-way leaves it
    assert 'id="finish"' not in signed_in(api, "view@target.example").get(f"/console/batches/{batch_id}").text
    browser = signed_in(api, "boss@target.example")
    page = browser.get(f"/console/batches/{batch_id}")
    assert 'id="finish"' in page.text and 'id="confirm"' not in page.text
    assert f'action="/console/batches/{batch_id}/{action}"' in page.text
    finished = browser.post(f"/console/batches/{batch_id}/{action}", {})
    assert finished.status_code == 200 and BatchModel.get(batch_id).state == state
    assert {DeviceModel.get(serial).claim_status for serial in ("M-01", "M-02")} == {status}
