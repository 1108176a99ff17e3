"""A console page lets the browser name its origin on the page's own forms (the Origin check needs it), and no
other site learns where a reader came from; the e-mailed-link pages (a token in their address) tell no one."""

import re

from tests.console_browser import Browser


def test_console_pages_send_the_referrer_to_their_own_origin_only_by_header_and_meta(api):
    page = Browser(api.client).get("/console/login")
    # Under "no-referrer" Chromium posts a form with "Origin: null", which the console refuses as another site's.
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert re.findall(r'<meta name="referrer" content="([^"]+)">', page.text) == ["same-origin"]


def test_a_mailed_link_page_still_sends_no_referrer(api):
    page = Browser(api.client).get("/reset-password/unknown-token")
    assert page.headers["Referrer-Policy"] == "no-referrer"
