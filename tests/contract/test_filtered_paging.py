"""Filtered lists over indexes that span organizations, on DynamoDB Local: the start keys the server builds from
the last item shown are ones DynamoDB takes, and paging visits exactly what the reader may see."""

from chalicelib.permissions import Principal
from chalicelib.services.audit.record import record_event
from chalicelib.services.audit.trail import list_events
from chalicelib.services.devices.catalog import list_devices
from tests.helpers import make_device, make_org, make_user


def every_page(read):
    """Every item of a list read page by page; every page but the last is full (one item)."""
    seen, cursor = [], None
    for _ in range(30):
        page = read(cursor)
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return seen
        assert len(page["items"]) == 1, "a page that is not the last holds a full page of what the reader sees"
    raise AssertionError("the list never ended")


def test_label_batch_and_actor_filters_page_through_only_what_is_in_scope(ddb):
    from datetime import datetime, timezone

    from chalicelib.models import BatchModel

    for org in ("acme", "rival"):
        make_org(org)
    BatchModel(
        "bat_x",
        org_id="acme",
        target_org_id="rival",
        reference="X",
        state="PENDING",
        created_key="x",
        created_at=datetime.now(timezone.utc),
        created_by="x",
    ).save()
    for number in range(9):
        maker = "acme" if number % 3 == 0 else "rival"
        make_device(f"L-{number}", maker, labels=("shared",), batch_id="bat_x")
    reader = Principal(
        user_id="usr_reader", org_id="acme", roles=frozenset({"ORG_ADMIN"}), permissions=frozenset({"devices.import"})
    )
    for query in ({"label": "shared"}, {"batch_id": "bat_x"}):
        devices = every_page(lambda cursor: list_devices(reader, query, view="imported", limit=1, cursor=cursor))
        assert [device["serial"] for device in devices] == ["L-0", "L-3", "L-6"], query

    actor = make_user(email="actor@example.com", org_id="acme")
    for number in range(8):
        record_event(actor.user_id, f"act-{number}", "acme" if number % 4 == 0 else "rival")
    events = every_page(lambda cursor: list_events(reader, actor_id=actor.user_id, limit=1, cursor=cursor))
    assert [event["action"] for event in events] == ["act-4", "act-0"]
