"""The browser tier's own checks fail where they should: axe-core under the pages' strict CSP, and a page wider
than a phone."""

import pytest

from tests.e2e.browser_checks import SHOTS, assert_accessible, check_page, screenshots

STRICT_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"
URL = "http://keyport.test/page"


def served(browser, body):
    """A page served under the console's strict CSP (no script source at all) from a fake origin."""
    page = browser.new_page()
    page.route(
        URL,
        lambda route: route.fulfill(
            status=200, content_type="text/html", headers={"Content-Security-Policy": STRICT_CSP}, body=body
        ),
    )
    page.goto(URL)
    return page


def test_axe_runs_under_a_strict_csp_and_names_each_serious_violation_with_its_element(browser):
    page = served(
        browser,
        '<!DOCTYPE html><html lang="en"><title>t</title><main><h1>Sign in</h1>'
        '<input id="unlabelled"><p style="color:#bbb;background:#fff">pale text</p></main></html>',
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    message = str(failure.value)
    assert "label (critical)" in message and "at #unlabelled" in message
    assert "color-contrast (serious)" in message and "at p" in message


def test_a_page_without_serious_violations_passes_axe(browser):
    page = served(
        browser,
        '<!DOCTYPE html><html lang="en"><title>t</title><main><h1>Sign in</h1>'
        '<label for="email">E-mail address</label><input id="email" type="email"></main></html>',
    )
    assert_accessible(page)


def test_a_page_wider_than_a_phone_fails_after_both_screenshots_are_taken(browser):
    page = served(
        browser,
        '<!DOCTYPE html><html lang="en"><title>t</title><main><div style="width:600px">wide</div></main></html>',
    )
    for old in SHOTS.glob("checks-too-wide-*.png"):
        old.unlink()
    with pytest.raises(AssertionError, match=r"scrolls sideways.*\{360: 2\d\d\}"):
        screenshots(page, "checks-too-wide")
    assert sorted(path.name for path in SHOTS.glob("checks-too-wide-*.png")) == [
        "checks-too-wide-1280.png",
        "checks-too-wide-360.png",
    ]
    assert page.viewport_size == {"width": 1280, "height": 720}


def test_axe_also_runs_at_the_phone_width_where_a_wide_table_scrolls_in_its_box(browser):
    page = served(
        browser,
        '<!DOCTYPE html><html lang="en"><title>t</title><main><h1>Devices</h1>'
        '<div style="overflow-x:auto"><table><tr><td style="min-width:600px">Serial</td><td>Since</td></tr></table>'
        "</div></main></html>",
    )
    assert_accessible(page)  # at 1280 px nothing scrolls: "Since" is in view
    with pytest.raises(AssertionError, match=r"scrollable-region-focusable \(serious\)"):
        check_page(page, "checks-scrolling-table")
