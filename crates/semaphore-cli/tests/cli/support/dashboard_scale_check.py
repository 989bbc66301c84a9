"""Drives the dashboard at 10,000 uplinks in headless Chromium as an operator would: the overview draws one
page of rows, worst first, in a few thousand elements; a serial typed into the filter narrows the table to
that device and draws its cards; an uplink that goes down moves to the top without a reload; an alert group
opens; a row opens that uplink's detail. Prints a JSON report; the Rust test asserts on it. Arguments: URL,
screenshot path, the expected worst uplink id, a device serial to filter by, the uplink id the test takes
down, a file to create once the page is ready (the test then produces the down samples)."""
import json
import pathlib
import sys

from playwright.sync_api import sync_playwright

url, screenshot, worst_id, serial, live_id, ready_file = sys.argv[1:7]
ROWS = "[...document.querySelectorAll('table#worst tbody tr.row')]"
FIRST_ROW = f"({ROWS}[0] || {{dataset: {{}}}}).dataset.uplinkId"
CARDS = "document.querySelectorAll('article.card').length"


def wait(page, condition, timeout):
    """Waits for a condition on the page; the report then says what the page shows either way."""
    try:
        page.wait_for_function(condition, timeout=timeout)
    except Exception:
        pass


report = {}
with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("table#worst tbody tr.row", timeout=30000)
    page.wait_for_selector("#status.live", timeout=30000)
    page.evaluate("window.__loadedOnce = true")
    # The dashboard read everything before the page opened, so the first answer has the worst uplink first.
    wait(page, f"{FIRST_ROW} === {json.dumps(worst_id)}", 5000)
    report["first_row"] = page.evaluate(FIRST_ROW)
    report["rows"] = page.evaluate(f"{ROWS}.length")
    report["dom_elements"] = page.evaluate("document.getElementsByTagName('*').length")
    report["status_live"] = page.locator("#status.live").count() == 1
    page.screenshot(path=screenshot, full_page=False)
    # The filter, asked of the server: that device's uplinks only, each drawn as a card with its charts.
    page.fill("#filter", serial)
    wait(page, f"{ROWS}.length > 0 && {ROWS}.every((row) => row.dataset.uplinkId.startsWith({json.dumps(serial + '/')}))"
         f" && {CARDS} === {ROWS}.length", 10000)
    report["filtered_rows"] = page.evaluate(f"{ROWS}.length")
    report["filtered_cards"] = page.evaluate(CARDS)
    page.fill("#filter", "")
    wait(page, f"{FIRST_ROW} === {json.dumps(report['first_row'])} && {CARDS} === 0", 10000)
    report["rows_after_clear"] = page.evaluate(f"{ROWS}.length")
    # Live: the test now takes an uplink down; it must come to the top by itself, without a reload.
    pathlib.Path(ready_file).write_text("ready")
    wait(page, f"{FIRST_ROW} === {json.dumps(live_id)}", 60000)
    report["live_first_row"] = page.evaluate(FIRST_ROW)
    report["not_reloaded"] = page.evaluate("window.__loadedOnce === true")
    # Alerts grouped by rule: the first group opens on a click and lists its newest events (at most 20).
    group = page.locator("#alert-groups details.alert-group").first
    report["group_rule"] = group.get_attribute("data-rule")
    group.locator("summary").click()
    wait(page, "document.querySelector('#alert-groups details.alert-group').open", 5000)
    report["group_events"] = group.locator("li.alert-event:visible").count()
    # A row opens its uplink: its card with full charts, and the selection bar saying what is shown.
    page.locator(f"table#worst tbody tr.row[data-uplink-id={json.dumps(live_id)}]").click()
    wait(page, f"{ROWS}.length === 1 && {CARDS} > 0", 10000)
    report["detail_cards"] = page.evaluate(CARDS)
    report["selection_visible"] = page.locator("#selection").is_visible()
    report["errors"] = errors
    browser.close()
print(json.dumps(report))
