"""Cursors are sealed and bound: they reveal no other tenant's keys and work only for whoever got them, on the
query that handed them out."""

import base64
import json
from urllib.parse import quote

import pytest

from chalicelib.services.audit.record import record_event
from tests.helpers import make_device, make_org, make_user

FOREIGN = ("S-02", "S-03", "S-05", "rival")


def readings(cursor):
    """Every way a client could read a cursor: as sent, and base64-decoded as bytes."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    return [cursor, raw.decode("latin-1")]


def assert_reveals_nothing(cursor):
    for text in readings(cursor):
        assert not any(secret in text for secret in FOREIGN), text
    with pytest.raises(ValueError):
        json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def follow(api, token, path):
    """Every page of a list: the items' ids (serial or event action) and the cursors handed out."""
    seen, cursors, cursor = [], [], None
    for _ in range(20):
        response = api.call("GET", path + (f"&cursor={quote(cursor)}" if cursor else ""), token=token)
        assert response.status_code == 200, response.body
        seen += [item.get("serial") or item.get("action") for item in response.data["items"]]
        cursor = response.data["next_cursor"]
        if not cursor:
            return seen, cursors
        cursors.append(cursor)
    raise AssertionError("the list never ended")


def old_style(key):
    """A cursor in the readable form once handed out: base64 JSON of a start key, editable by anyone."""
    return base64.urlsafe_b64encode(json.dumps({"q": 0, "k": key}).encode()).decode().rstrip("=")


@pytest.fixture
def tenants(aws):
    """acme and rival make devices that share the label floor-1; S-05 was made by nobody in scope either."""
    make_org("acme")
    make_org("rival")
    make_org("third")
    make_device("S-01", "acme", labels=("floor-1",))
    make_device("S-02", "rival", labels=("floor-1",))
    make_device("S-03", "rival", "rival", labels=("floor-1",))
    make_device("S-04", "acme", labels=("floor-1",))
    make_device("S-05", "third", labels=("floor-1",))
    make_device("S-06", "acme", labels=("floor-1",))


def test_a_label_filtered_device_list_shows_and_hands_out_nothing_of_other_tenants(api, login_as, tenants):
    token = login_as("ORG_ADMIN", org_id="acme", permissions=("devices.import",))
    seen, cursors = follow(api, token, "/devices?view=imported&label=floor-1&limit=1")
    assert seen == ["S-01", "S-04", "S-06"]
    assert cursors
    for cursor in cursors:
        assert_reveals_nothing(cursor)


def test_an_audit_query_by_a_foreign_actor_answers_an_empty_page_without_a_cursor(api, login_as, tenants):
    stranger = make_user(email="stranger@example.com", org_id="rival")
    for action in ("one", "two", "three"):
        record_event(stranger.user_id, action, "rival")
    token = login_as("ORG_ADMIN", org_id="acme")
    page = api.call("GET", f"/audit?actor_id={stranger.user_id}&limit=1", token=token)
    assert page.status_code == 200 and page.data == {"items": [], "next_cursor": None}


def test_an_audit_query_by_actor_keeps_the_actors_acts_elsewhere_out_of_pages_and_cursors(api, login_as, tenants):
    wanderer = make_user(email="wanderer@example.com", org_id="acme")
    for action, org in (("first", "acme"), ("abroad", "rival"), ("again", "rival"), ("last", "acme")):
        record_event(wanderer.user_id, action, org)
    token = login_as("ORG_ADMIN", org_id="acme")
    seen, cursors = follow(api, token, f"/audit?actor_id={wanderer.user_id}&limit=1")
    assert seen == ["last", "first"]
    for cursor in cursors:
        assert_reveals_nothing(cursor)


def test_a_cursor_replayed_by_another_user_is_refused(api, login_as, tenants):
    first = login_as("ORG_ADMIN", org_id="acme")
    second = login_as("ORG_ADMIN", org_id="acme")
    cursor = api.call("GET", "/users?limit=1", token=first).data["next_cursor"]
    assert cursor
    replay = api.call("GET", f"/users?limit=1&cursor={quote(cursor)}", token=second)
    assert replay.status_code == 400 and replay.data["error"]["code"] == "invalid_cursor"
    assert api.call("GET", f"/users?limit=1&cursor={quote(cursor)}", token=first).status_code == 200


@pytest.mark.parametrize(
    "first_path, other_path",
    [
        ("/users?limit=1", "/users?limit=1&role=ORG_ADMIN"),
        ("/devices?view=imported&limit=1", "/devices?view=imported&serial=S-0&limit=1"),
        ("/devices?view=imported&label=floor-1&limit=1", "/devices?view=imported&limit=1"),
    ],
)
def test_a_cursor_replayed_on_another_query_is_refused(api, login_as, tenants, first_path, other_path):
    make_user(email="colleague@example.com", org_id="acme", roles=("ORG_ADMIN",))
    token = login_as("ORG_ADMIN", org_id="acme", permissions=("devices.import",))
    cursor = api.call("GET", first_path, token=token).data["next_cursor"]
    assert cursor
    replay = api.call("GET", f"{other_path}&cursor={quote(cursor)}", token=token)
    assert replay.status_code == 400 and replay.data["error"]["code"] == "invalid_cursor"


def test_a_forged_cursor_pointing_into_other_tenants_label_rows_is_refused(api, login_as, tenants):
    token = login_as("ORG_ADMIN", org_id="acme", permissions=("devices.import",))
    forged = old_style({"label": {"S": "floor-1"}, "serial": {"S": "S-01"}})
    response = api.call("GET", f"/devices?view=imported&label=floor-1&limit=5&cursor={forged}", token=token)
    assert response.status_code == 400 and response.data["error"]["code"] == "invalid_cursor"


def test_a_cursor_with_one_byte_changed_is_refused(api, login_as, tenants):
    token = login_as("ORG_ADMIN", org_id="acme", permissions=("devices.import",))
    cursor = api.call("GET", "/devices?view=imported&limit=1", token=token).data["next_cursor"]
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[len(raw) // 2] ^= 0x04
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    response = api.call("GET", f"/devices?view=imported&limit=1&cursor={tampered}", token=token)
    assert response.status_code == 400 and response.data["error"]["code"] == "invalid_cursor"


def test_a_device_list_filtered_by_a_batch_out_of_scope_answers_an_empty_page(api, login_as, tenants):
    from datetime import datetime, timezone

    from chalicelib.models import BatchModel

    BatchModel(
        "bat_r",
        org_id="rival",
        target_org_id="third",
        reference="R",
        state="PENDING",
        created_key="x",
        created_at=datetime.now(timezone.utc),
        created_by="x",
    ).save()
    make_device("S-07", "rival", batch_id="bat_r")
    make_device("S-09", "rival", batch_id="bat_r")
    token = login_as("ORG_ADMIN", org_id="acme", permissions=("devices.import",))
    page = api.call("GET", "/devices?view=imported&batch_id=bat_r&limit=1", token=token)
    assert page.status_code == 200 and page.data == {"items": [], "next_cursor": None}


def unsealed_keys(cursors, reader, list_name, **filters):
    """The start keys inside cursors, read as the server reads them."""
    from chalicelib.paging import binding, decode_cursor

    return [decode_cursor(cursor, bound_to=binding(reader, list_name, **filters))[1] for cursor in cursors]


def test_a_site_admins_cursors_only_ever_point_at_its_own_sites_and_devices(api, tenants):
    from datetime import datetime, timezone

    from chalicelib.models import SiteModel

    for site in ("site_a", "site_b", "site_c", "site_d", "site_e"):
        SiteModel(site, org_id="acme", name=site, created_at=datetime.now(timezone.utc), created_by="x").save()
    own = {"site_b", "site_d"}
    for number, site in enumerate(("site_a", "site_b", "site_c", "site_d", "site_e", "site_b")):
        make_device(f"T-{number}", "rival", "acme", site_id=site)
    admin = make_user(email="sites@example.com", org_id="acme", roles=("SITE_ADMIN",), site_ids=tuple(own))
    token = api.login("sites@example.com")
    sites, site_cursors = follow_ids(api, token, "/sites?limit=1", "id")
    assert sorted(sites) == sorted(own)
    hidden = ("site_a", "site_c", "site_e", "T-0", "T-2", "T-4")
    for cursor in site_cursors:
        assert not any(secret in text for text in readings(cursor) for secret in hidden)
    assert all(key["site_id"]["S"] in own for key in unsealed_keys(site_cursors, admin.user_id, "sites"))
    devices, device_cursors = follow(api, token, "/devices?view=owned&limit=1")
    assert devices == ["T-1", "T-3", "T-5"]
    for cursor in device_cursors:
        assert not any(secret in text for text in readings(cursor) for secret in hidden)
    keys = unsealed_keys(device_cursors, admin.user_id, "devices", view="owned", filters={})
    assert device_cursors and all(key["serial"]["S"] in devices for key in keys)


def follow_ids(api, token, path, field):
    """Every page of a list: the items' `field` and the cursors handed out."""
    seen, cursors, cursor = [], [], None
    for _ in range(20):
        response = api.call("GET", path + (f"&cursor={quote(cursor)}" if cursor else ""), token=token)
        assert response.status_code == 200, response.body
        seen += [item[field] for item in response.data["items"]]
        cursor = response.data["next_cursor"]
        if not cursor:
            return seen, cursors
        cursors.append(cursor)
    raise AssertionError("the list never ended")
