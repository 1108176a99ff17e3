"""Dates and numbers as a reader of one of keyport's languages writes them (Babel, CLDR data), for the pages and
the mails alike.

Time zone: no person or organization records one yet, so every time is shown in one zone for everybody,
DEFAULT_TIME_ZONE (Central European Time: the local time of the main country of six of keyport's seven
languages, and of its trade), and the zone is always named after the time, in the reader's language, so that
a reader elsewhere knows which time it is. A caller that knows a better zone passes it.
"""

from datetime import date, datetime, timezone
from typing import Optional, Union

from chalicelib.fields import LANGUAGES

DEFAULT_TIME_ZONE = "Europe/Berlin"
_FALLBACK = "en"
_NO_BREAK_SPACE = "\u00a0"
# The decimal symbol that goes with a chosen grouping symbol when the locale's own decimal symbol is that same
# character (a German reader who groups with "," writes decimals with ".", as the English do).
_OTHER_DECIMAL = {",": ".", ".": ","}

Moment = Union[datetime, str]


def format_datetime(value: Moment, language: str, time_zone: Optional[str] = None, name_zone: bool = True) -> str:
    """A moment as "3 déc. 2026, 19:05 (heure normale d’Europe centrale)": medium date, short time, zone named
    (unless the page names it once for a whole table)."""
    from babel import Locale
    from babel.dates import format_date as babel_date
    from babel.dates import format_time as babel_time
    from babel.dates import get_timezone

    locale = Locale.parse(_spoken(language))
    local = _aware(value).astimezone(get_timezone(time_zone or DEFAULT_TIME_ZONE))
    pattern = locale.datetime_formats["medium"]  # how the language joins a date and a time, e.g. "{1}, {0}"
    moment = str(pattern).replace("{1}", babel_date(local, "medium", locale=locale))
    moment = moment.replace("{0}", babel_time(local, "short", locale=locale))
    return f"{moment} ({babel_time(local, 'zzzz', locale=locale)})" if name_zone else moment


def format_date(value: Union[Moment, date], language: str, time_zone: Optional[str] = None) -> str:
    """A day as "3 déc. 2026" (medium form); a moment is first taken to the time zone, whose day it names."""
    from babel.dates import format_date as babel_date
    from babel.dates import get_timezone

    zone = get_timezone(time_zone or DEFAULT_TIME_ZONE)
    day = _aware(value).astimezone(zone).date() if isinstance(value, (datetime, str)) else value
    return babel_date(day, "medium", locale=_spoken(language))


def format_number(number: Union[int, float], language: str, thousands_separator: Optional[str] = None) -> str:
    """A number as the language writes it ("1.250" in German, "1 250" in French); a person's thousands separator
    (the profile's csv_thousands_separator: "." "," " " or "'"; empty means the language's) replaces the
    language's grouping symbol, and a space is written as a no-break space so that a number never breaks."""
    from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol

    language = _spoken(language)
    text = format_decimal(number, locale=language)
    if not thousands_separator:
        return text
    group, decimal = get_group_symbol(language), get_decimal_symbol(language)
    wanted_group = _NO_BREAK_SPACE if thousands_separator == " " else thousands_separator
    wanted_decimal = _OTHER_DECIMAL.get(decimal, decimal) if decimal == wanted_group else decimal
    return "".join(
        wanted_group if character == group else wanted_decimal if character == decimal else character
        for character in text
    )


def _spoken(language: str) -> str:
    return language if language in LANGUAGES else _FALLBACK


def _aware(value: Moment) -> datetime:
    """A datetime with its zone; keyport stores UTC, so a naive one (or an ISO text without offset) is UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
