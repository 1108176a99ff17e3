"""Checks every browser test runs on each page it visits: axe-core's rules and screenshots at two widths."""

from pathlib import Path
from urllib.parse import urlsplit

from chalicelib.local import PROJECT_DIR
from tests.e2e.conftest import SHOTS

AXE = Path(PROJECT_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# The installers' phones and an office screen (DESIGN.md "The web console": usable at 360 px and 1280 px).
WIDTHS = (360, 1280)
HEIGHT = 800
FAILING_IMPACTS = ("serious", "critical")
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))
  }));
}"""


def axe_violations(page):
    """axe-core's violations on the page as it is now, of every impact."""
    # Evaluated through the DevTools protocol, which the pages' strict CSP (no script source) does not govern.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(RUN_AXE)


def describe_violations(violations):
    """One readable paragraph per violation: rule, impact, what it asks, and each offending element."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} <{violation['url']}>")
        for node in violation["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"  at {node['target']}: {summary}")
    return "\n".join(lines)


def assert_accessible(page):
    """Fail with a readable list when axe-core finds a serious or critical violation on the page."""
    failing = [v for v in axe_violations(page) if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"axe-core on {page.url}:\n{describe_violations(failing)}"


def overflow(page):
    """How many CSS pixels the page is wider than the viewport (0: no horizontal scroll)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def screenshots(page, name, at_each_width=None):
    """Full-page screenshots at 360 and 1280 px wide as test-output/browser/<name>-<width>.png; fail on a page
    wider than the screen (it would scroll sideways). `at_each_width(page)` runs at each width before its shot.
    The viewport is put back as it was."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    paths, too_wide = [], {}
    try:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            if at_each_width:
                at_each_width(page)
            path = SHOTS / f"{name}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            paths.append(path)
            if overflow(page) > 0:
                too_wide[width] = overflow(page)
    finally:
        if before:
            page.set_viewport_size(before)
    assert not too_wide, f"{page.url} scrolls sideways (px too wide by viewport width): {too_wide}"
    return paths


def width_at(page, selector, viewport_width):
    """The CSS width of an element when the viewport is that wide (the viewport is put back as it was)."""
    before = page.viewport_size
    try:
        page.set_viewport_size({"width": viewport_width, "height": HEIGHT})
        return page.locator(selector).bounding_box()["width"]
    finally:
        if before:
            page.set_viewport_size(before)


def check_page(page, name, visited=None):
    """axe-core at both widths (a region may scroll only on a phone) and both screenshots for the page shown now;
    its path is added to `visited` when given."""
    screenshots(page, name, at_each_width=assert_accessible)
    if visited is not None:
        visited.append(urlsplit(page.url).path)
