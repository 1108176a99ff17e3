"""The e-mailed-link pages, like the console's, carry keyport's name and the line saying what it is, in the
page's language (a reader who opens a mailed link must see where they are)."""

import re

import pytest

from chalicelib.web.catalogs import translations
from tests.console_browser import Browser, text_of

LINK_PAGES = [
    "/invite/inv_unknown.token",
    "/activate/unknown-token",
    "/reset-password/unknown",
    "/confirm-email/unknown",
]


@pytest.mark.parametrize("path", LINK_PAGES)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_link_page_names_keyport_and_says_what_it_is(api, path, language):
    page = Browser(api.client).get(path, headers={"Accept-Language": language})
    header = re.search(r"<header[^>]*>(.*?)</header>", page.text, re.S)
    assert header, "no header on " + path
    words = text_of(header.group(1))
    assert words.startswith("keyport") and translations(language).gettext("Device onboarding and key custody") in words
    assert re.search(r"<title>[^<]+ – keyport</title>", page.text)
