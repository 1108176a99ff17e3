"""Dates and numbers as each language writes them, the time zone always named, a person's separator honoured."""

from datetime import date, datetime, timezone

import pytest

from chalicelib.fields import LANGUAGES
from chalicelib.formats import format_date, format_datetime, format_number

WINTER = datetime(2026, 12, 3, 18, 5, tzinfo=timezone.utc)
SUMMER = datetime(2026, 7, 3, 23, 30, tzinfo=timezone.utc)
NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize(
    "language, expected",
    [
        ("de", "03.12.2026, 19:05 (Mitteleuropäische Normalzeit)"),
        ("en", f"Dec 3, 2026, 7:05{NNBSP}PM (Central European Standard Time)"),
        ("es", "3 dic 2026, 19:05 (hora estándar de Europa central)"),
        ("fr", "3 déc. 2026, 19:05 (heure normale d’Europe centrale)"),
        ("it", "3 dic 2026, 19:05 (Ora standard dell’Europa centrale)"),
        ("sv", "3 dec. 2026 19:05 (centraleuropeisk normaltid)"),
        ("nl", "3 dec 2026, 19:05 (Midden-Europese standaardtijd)"),
    ],
)
def test_a_moment_is_written_in_the_language_in_central_european_time_with_the_zone_named(language, expected):
    assert format_datetime(WINTER, language) == expected


def test_summer_time_is_named_as_such_and_may_move_the_day():
    assert format_datetime(SUMMER, "de") == "04.07.2026, 01:30 (Mitteleuropäische Sommerzeit)"
    assert format_date(SUMMER, "de") == "04.07.2026"


def test_a_given_time_zone_is_used_and_named():
    assert format_datetime(WINTER, "en", "UTC") == f"Dec 3, 2026, 6:05{NNBSP}PM (Coordinated Universal Time)"
    assert format_datetime(WINTER, "fr", "America/New_York").startswith("3 déc. 2026, 13:05 (heure normale de l’Est")


@pytest.mark.parametrize("stored", ["2026-12-03T18:05:00+00:00", "2026-12-03T18:05:00", datetime(2026, 12, 3, 18, 5)])  # noqa: DTZ001 (naive on purpose)
def test_a_stored_moment_without_a_zone_or_as_iso_text_is_utc(stored):
    assert format_datetime(stored, "de") == "03.12.2026, 19:05 (Mitteleuropäische Normalzeit)"


def test_a_day_is_written_in_the_medium_form_of_the_language():
    assert [format_date(date(2026, 1, 5), language) for language in ("de", "fr", "en")] == [
        "05.01.2026",
        "5 janv. 2026",
        "Jan 5, 2026",
    ]


@pytest.mark.parametrize(
    "language, expected",
    [
        ("de", "1.234.567,5"),
        ("en", "1,234,567.5"),
        ("fr", f"1{NNBSP}234{NNBSP}567,5"),
        ("sv", f"1{NBSP}234{NBSP}567,5"),
        ("it", "1.234.567,5"),
    ],
)
def test_a_number_is_grouped_as_the_language_groups_it(language, expected):
    assert format_number(1234567.5, language) == expected


@pytest.mark.parametrize(
    "language, separator, expected",
    [
        ("de", "'", "1'234'567,5"),
        ("fr", ".", "1.234.567,5"),
        ("en", " ", f"1{NBSP}234{NBSP}567.5"),  # a space never lets a number break across lines
        ("de", ",", "1,234,567.5"),  # the grouping symbol the language decimals with: the decimal mark swaps
        ("en", ".", "1.234.567,5"),
        ("de", "", "1.234.567,5"),  # the profile's default: the language's own grouping
        ("de", None, "1.234.567,5"),
    ],
)
def test_a_persons_thousands_separator_replaces_the_languages(language, separator, expected):
    assert format_number(1234567.5, language, thousands_separator=separator) == expected


def test_a_small_number_has_no_grouping_to_replace():
    assert format_number(7, "de", thousands_separator="'") == "7"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_of_keyport_has_its_formats(language):
    assert format_datetime(WINTER, language) != format_datetime(WINTER, "xx") or language == "en"


def test_a_language_keyport_does_not_speak_reads_english():
    assert format_number(1234.5, "xx") == "1,234.5"
    assert format_datetime(WINTER, "pt").startswith("Dec 3, 2026")


def test_a_page_template_formats_dates_and_numbers_in_its_language_through_filters():
    from chalicelib.web.render import _environment

    source = '{{ moment|datetime }} | {{ moment|date }} | {{ count|number }} | {{ count|number("\'") }}'
    shown = _environment("fr").from_string(source).render(moment=WINTER, count=1250)
    assert (
        shown == f"3 déc. 2026, 19:05 (heure normale d’Europe centrale) | 3 déc. 2026 | 1{NNBSP}250 | 1&#39;250"
    )  # escaped as any value
