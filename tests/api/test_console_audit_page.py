"""The console's audit trail page: the events of the reader's scope newest first, in the reader's words and time
zone, filtered by action, person and dates, paged by the route's cursor; nothing of other organizations."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.models import AuditEventModel, time_ordered_key
from tests.console_browser import Browser, text_of
from tests.helpers import make_org, make_user

NOON = datetime(2026, 11, 20, 11, 0, tzinfo=timezone.utc)


def event(org_id, actor_id, action, at=NOON, target=None, detail=None):
    """One stored audit event at a chosen time (as record_event writes it)."""
    AuditEventModel(
        org_id,
        time_ordered_key(at, f"{at.timestamp():.0f}{action}"[-12:]),
        at=at,
        actor_id=actor_id,
        action=action,
        target=target,
        detail=detail,
    ).save()


@pytest.fixture
def world(api):
    """acme (with a branch below it) and rival; a German admin and a key manager at acme, an admin at rival, an
    operator at the root."""
    make_org("acme", name="Acme Metering")
    make_org("branch", parent_id="acme", name="Acme North")
    make_org("rival", name="Rival Corp")
    people = {
        "admin": make_user(
            email="admin@acme.example", org_id="acme", roles=("ORG_ADMIN",), name="Anna Admin", language="de"
        ),
        "keys": make_user(email="keys@acme.example", org_id="branch", roles=("KEY_MANAGER",), name="Kurt Keys"),
        "rival": make_user(email="boss@rival.example", org_id="rival", roles=("ORG_ADMIN",), name="Rita Rival"),
        "operator": make_user(email="ops@keyport.example", roles=("OPERATOR",), name="Otto Operator"),
    }
    return {name: user.user_id for name, user in people.items()}


def signed_in(api, email):
    browser = Browser(api.client)
    assert browser.sign_in(email).status_code == 200
    return browser


def rows(page):
    """The events table's rows as the visible words of their cells."""
    body = re.search(r'<table id="events">.*?<tbody>(.*?)</tbody>', page.text, re.S)
    if not body:
        return []
    return [
        [text_of(cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def test_an_admin_reads_the_events_of_the_tree_in_words_and_the_key_downloads_say_format_filter_and_count(api, world):
    event("acme", world["admin"], "user_created", NOON, target=world["keys"])
    event(
        "branch",
        world["keys"],
        "keys_downloaded",
        NOON + timedelta(hours=1),
        detail={"format": "csv", "filter": {"product_type": "WMBUS"}, "count": 1250},
    )
    page = signed_in(api, "admin@acme.example").get("/console/audit")
    assert page.status_code == 200 and '<html lang="de">' in page.text
    [download] = [row for row in rows(page) if "Schlüssel heruntergeladen" in row]
    when, who, what, _, details = download
    # Berlin time; the zone is named once above the table, not in every row (a phone's column stays short)
    assert re.search(r"20\.11\.2026, 13:00", when) and "Mitteleuropäische" not in when
    assert "Mitteleuropäische" in re.search(r'<p class="muted">(.*?)</p>', page.text).group(1)
    assert who == "Kurt Keys (keys@acme.example)"
    assert "Format: CSV" in details and "Filter: product_type: WMBUS" in details and "Anzahl: 1.250" in details
    [created] = [row for row in rows(page) if "Person hinzugefügt" in row]
    assert created[1] == "Anna Admin (admin@acme.example)" and created[3] == "Kurt Keys (keys@acme.example)"
    assert "3 Ereignisse angezeigt" in text_of(page.text)  # and the sign-in just now


def test_the_events_are_only_the_scopes_and_strangers_are_not_named(api, world):
    event("acme", world["operator"], "org_changed", NOON, target="acme", detail={"fields": ["name"]})
    event("rival", world["rival"], "site_created", NOON, target="sit_secret")
    event("root", world["operator"], "login", NOON, target=world["operator"])
    page = signed_in(api, "admin@acme.example").get("/console/audit")
    words = text_of(page.text)
    assert [row[2] for row in rows(page)] == ["Angemeldet", "Organisation geändert"]  # the sign-in, then acme's
    assert rows(page)[1][1] == "Ein keyport-Betreiber"
    for foreign in ("Otto", "ops@keyport.example", "Rita", "rival.example", "sit_secret", "Rival Corp"):
        assert foreign not in words


def test_a_key_manager_has_no_audit_page(api, world):
    event("branch", world["keys"], "login", NOON)
    page = signed_in(api, "keys@acme.example").get("/console/audit")
    assert page.status_code == 404 and "keys@acme.example" not in text_of(page.text).replace("Kurt Keys", "")


def test_the_filters_keep_their_values_and_narrow_by_action_person_and_dates(api, world):
    event("acme", world["admin"], "login", datetime(2026, 11, 29, 12, tzinfo=timezone.utc))
    event("branch", world["keys"], "login", datetime(2026, 11, 30, 22, 30, tzinfo=timezone.utc))  # 23:30 in Berlin
    event("branch", world["keys"], "logout", datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc))  # 1 Dec in Berlin
    browser = signed_in(api, "admin@acme.example")
    page = browser.get("/console/audit?action=login&person=keys%40acme.example&from=2026-11-30&to=2026-11-30")
    assert page.status_code == 200
    assert [(row[1], row[2]) for row in rows(page)] == [("Kurt Keys (keys@acme.example)", "Angemeldet")]
    assert 'value="keys@acme.example"' in page.text and 'value="2026-11-30"' in page.text
    assert '<option value="login" selected>' in page.text
    december = browser.get("/console/audit?from=2026-12-01&to=2026-12-01")
    assert [row[2] for row in rows(december)] == ["Abgemeldet"]
    nobody = browser.get("/console/audit?person=boss%40rival.example")  # a stranger: as if nobody acted
    assert rows(nobody) == [] and 'id="none"' in nobody.text


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=30.11.2026", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-12-02&to=2026-12-01", "to"),
        ("action=drop_tables", "action"),
    ],
)
def test_a_filter_that_cannot_be_read_is_refused_beside_its_field_with_the_values_kept(api, world, query, field):
    page = signed_in(api, "admin@acme.example").get(f"/console/audit?{query}&person=anna")
    assert page.status_code == 422
    assert f'<span class="field-error" id="{field}-error">' in page.text and 'href="#' + field + '"' in page.text
    assert 'value="anna"' in page.text and 'id="events"' not in page.text


def test_the_trail_pages_by_the_cursor_and_keeps_the_filters_on_the_next_page(api, world):
    for minute in range(54):  # and the sign-in below: 55
        event("acme", world["admin"], "login", NOON + timedelta(minutes=minute))
    event("acme", world["admin"], "logout", NOON)
    browser = signed_in(api, "admin@acme.example")
    first = browser.get("/console/audit?action=login")
    assert len(rows(first)) == 50 and "50 Ereignisse angezeigt" in text_of(first.text)
    assert rows(first)[1][0].startswith("20.11.2026, 12:53")  # newest first: the sign-in, then the last stored
    next_path = re.search(r'href="([^"]+)" id="next"', first.text).group(1).replace("&amp;", "&")
    assert "action=login" in next_path and "cursor=" in next_path
    second = browser.get(next_path)
    assert len(rows(second)) == 5 and 'id="next"' not in second.text and 'id="first"' in second.text
    assert {row[2] for row in rows(second)} == {"Angemeldet"}


def test_a_cursor_of_other_filters_is_refused(api, world):
    for minute in range(51):
        event("acme", world["admin"], "login", NOON + timedelta(minutes=minute))
    browser = signed_in(api, "admin@acme.example")
    first = browser.get("/console/audit")
    cursor = re.search(r"cursor=([^\"&]+)", first.text).group(1)
    assert browser.get(f"/console/audit?action=logout&cursor={cursor}").status_code == 400


def test_the_json_route_bounds_the_time_with_until(api, world):
    event("acme", world["admin"], "login", datetime(2026, 11, 29, 12, tzinfo=timezone.utc))
    event("acme", world["admin"], "logout", datetime(2026, 11, 30, 12, tzinfo=timezone.utc))
    token = api.login("admin@acme.example")
    listed = api.call("GET", "/audit?until=2026-11-30T00:00:00Z&since=2026-11-01T00:00:00Z", token=token)
    assert listed.status_code == 200 and [item["action"] for item in listed.data["items"]] == ["login"]
    assert api.call("GET", "/audit?until=yesterday", token=token).status_code in (400, 422)


def test_the_events_of_several_organizations_are_merged_newest_first_across_pages(api, world):
    for hour, org in enumerate(["acme", "branch", "acme", "branch", "branch", "acme"]):
        event(org, world["admin"], "org_changed", NOON + timedelta(hours=hour), target=f"{org}-{hour}")
    token = api.login("admin@acme.example")
    seen, path = [], "/audit?action=org_changed&limit=2"
    while path:
        listed = api.call("GET", path, token=token)
        assert listed.status_code == 200, listed.body
        seen += [item["target"] for item in listed.data["items"]]
        cursor = listed.data["next_cursor"]
        path = f"/audit?action=org_changed&limit=2&cursor={cursor}" if cursor else None
    assert seen == ["acme-5", "branch-4", "branch-3", "acme-2", "branch-1", "acme-0"]
    page = signed_in(api, "admin@acme.example").get("/console/audit?action=org_changed")
    assert [row[3] for row in rows(page)] == seen


def test_the_organization_filter_offers_the_tree_and_a_foreign_one_is_not_found(api, world):
    event("acme", world["admin"], "org_changed", NOON, target="acme-event")
    event("branch", world["keys"], "org_changed", NOON, target="branch-event")
    event("rival", world["rival"], "org_changed", NOON, target="rival-event")
    browser = signed_in(api, "admin@acme.example")
    page = browser.get("/console/audit?org=branch&action=org_changed")
    assert [row[3] for row in rows(page)] == ["branch-event"]
    assert '<option value="branch" selected>· Acme North</option>' in page.text
    assert 'value="rival"' not in page.text
    foreign = browser.get("/console/audit?org=rival")
    assert foreign.status_code == 404 and "rival-event" not in foreign.text and "Rival Corp" not in foreign.text
