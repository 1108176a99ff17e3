"""Driving a page by keyboard alone, as a person without a mouse does: Tab to reach, type, Enter to act; each stop
must show that it has the focus."""


def focus_by_tab(page, selector, presses=40):
    """Press Tab until the element has the keyboard focus; fail if the keyboard cannot reach it or it shows no focus."""
    assert page.locator(selector).count(), f"no {selector} on {page.url}"
    pressed = 0
    while not page.evaluate("selector => document.activeElement === document.querySelector(selector)", selector):
        assert pressed < presses, f"{selector} on {page.url} is not reachable with Tab"
        page.keyboard.press("Tab")
        pressed += 1
    shown = page.evaluate(
        "() => { const style = getComputedStyle(document.activeElement);"
        " return style.outlineStyle !== 'none' || style.boxShadow !== 'none'; }"
    )
    assert shown, f"{selector} on {page.url} shows no focus (outline or shadow) when reached by keyboard"


def type_into(page, selector, text):
    """Reach a field with Tab, empty it and type, as a keyboard-only person does."""
    focus_by_tab(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


def press_enter_on(page, selector):
    """Reach a link or button with Tab and press Enter; wait for the page it leads to."""
    focus_by_tab(page, selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")
