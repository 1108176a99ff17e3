"""The audit trail page: the events of the reader's scope, newest first, filtered by action, person and dates,
paged by the JSON route's cursor (the service of GET /audit), each said in words."""

from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

from chalice import Response

from chalicelib.formats import DEFAULT_TIME_ZONE
from chalicelib.permissions import ORG_ADMIN
from chalicelib.services.audit import trail
from chalicelib.web.audit_words import ACTIONS, action_choices, detail_lines, with_words
from chalicelib.web.catalogs import N_, translations
from chalicelib.web.console import Visit, page

PATH = "/console/audit"
READERS = frozenset({ORG_ADMIN})  # who holds audit.read (operators hold every role)
PAGE_SIZE = 50
FILTERS = ("org", "action", "person", "from", "to")
MAX_PERSON = 254  # an e-mail address at most


@page(PATH, ("GET",), roles=READERS, area=N_("Audit"))
def audit_page(visit: Visit) -> Response:
    """The filter form and one page of events; a filter that cannot be read is said beside its field."""
    values = {name: visit.query.get(name, "").strip() for name in FILTERS}
    errors, since, until = _checked(visit, values)
    events: List[Dict[str, Any]] = []
    orgs: List[Dict[str, Any]] = []
    next_cursor = None
    if not errors:
        listed = trail.read_trail(
            visit.principal,
            org_id=values["org"] or None,
            action=values["action"] or None,
            person=values["person"] or None,
            since=since,
            until=until,
            limit=PAGE_SIZE,
            cursor=visit.query.get("cursor") or None,
        )
        events, next_cursor, orgs = listed["items"], listed["next_cursor"], listed["orgs"]
    words = translations(visit.language)
    shown = [
        {
            **event,
            "when": visit.when(event["at"], name_zone=False),
            "lines": detail_lines(words, event["detail"], visit.number),
        }
        for event in with_words(words, events)
    ]
    kept = {name: value for name, value in values.items() if value}
    from babel.dates import format_time, get_timezone  # Babel loads with the first page, not at cold start

    return visit.show(
        "audit.html",
        status=422 if errors else 200,
        title=visit.gettext(N_("Audit trail")),
        values=values,
        errors=errors,
        actions=action_choices(words),
        orgs=orgs,
        events=shown,
        showing=visit.ngettext("Showing %(num)s event", "Showing %(num)s events", len(shown)),
        next_path=f"{PATH}?{urlencode({**kept, 'cursor': next_cursor})}" if next_cursor else "",
        first_path=f"{PATH}?{urlencode(kept)}" if kept else PATH,
        paged=bool(visit.query.get("cursor")),
        time_zone=format_time(datetime.now(get_timezone(DEFAULT_TIME_ZONE)), "zzzz", locale=visit.language),
    )


def _checked(visit: Visit, values: Dict[str, str]) -> Tuple[Dict[str, str], Optional[str], Optional[str]]:
    """The filters' refusals by field, and the dates as the service's instants (a day runs midnight to midnight
    in the time zone the page shows times in; the end day is included)."""
    errors: Dict[str, str] = {}
    if values["action"] and values["action"] not in ACTIONS:
        errors["action"] = visit.gettext(N_("Choose an action from the list."))
    if len(values["person"]) > MAX_PERSON:
        errors["person"] = visit.gettext(N_("This is too long."))
    days: Dict[str, Optional[date]] = {}
    for name in ("from", "to"):
        days[name] = _day(values[name])
        if values[name] and days[name] is None:
            errors[name] = visit.gettext(N_("Enter a date like 2026-11-30."))
    start, end = days["from"], days["to"]
    if start and end and end < start:
        errors["to"] = visit.gettext(N_("The end date must not be before the start date."))
    since = _midnight(start) if start and not errors else None
    until = _midnight(end + timedelta(days=1)) if end and not errors else None
    return errors, since, until


def _day(raw: str) -> Optional[date]:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if len(raw) == 10 and 1900 <= day.year < 9999 else None


def _midnight(day: date) -> str:
    from babel.dates import get_timezone

    zone = get_timezone(DEFAULT_TIME_ZONE)
    return datetime(day.year, day.month, day.day, tzinfo=zone).isoformat()
