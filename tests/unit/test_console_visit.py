"""What a console page says through its Visit: counts and dates as the person writes them."""

from datetime import datetime, timezone

from chalicelib.permissions import Principal
from chalicelib.services.accounts.console_visits import Visitor
from chalicelib.web.console import Visit


def visit_of(language, separator=None):
    visitor = None
    if separator is not None:
        principal = Principal(user_id="usr_1", org_id="root", roles=frozenset({"VIEWER"}))
        visitor = Visitor(principal, "Ada", "ada@example.com", language, ";", separator, "Org", "root", "Org")
    return Visit(path="/console/", method="GET", visitor=visitor, language=language)


def test_a_number_follows_the_language_until_the_person_chose_a_separator():
    assert visit_of("de").number(1234567) == "1.234.567"
    assert visit_of("en").number(1234567) == "1,234,567"
    assert visit_of("de", separator="'").number(1234567) == "1'234'567"
    assert visit_of("de", separator="").number(1234567) == "1.234.567"  # "" in a profile: the language's own


def test_a_counted_message_carries_the_count_as_the_person_writes_it():
    said = visit_of("en", separator=" ").ngettext("%(num)s device", "%(num)s devices", 12000)
    assert said == "12\u00a0000 devices"
    assert visit_of("en").ngettext("%(num)s device", "%(num)s devices", 1) == "1 device"


def test_a_moment_names_its_time_zone_in_the_language():
    said = visit_of("de").when(datetime(2026, 12, 3, 18, 5, tzinfo=timezone.utc))
    assert "19:05" in said and "Mitteleuropäische" in said
