"""Drives the dashboard at 10,000 uplinks in headless Chromium as an operator would: the overview renders
one page of rows, worst first; a serial typed into the filter narrows the table to that device and draws its
charts; an uplink that goes down moves to the top without a reload; an alert group expands; a row opens the
uplink's detail. Prints a JSON report; the Rust test asserts on it. Arguments: URL, screenshot path, the
expected worst uplink id, a serial to filter by, the uplink id the test will take down, and a file to create
once the page is ready (the test then produces the down samples)."""
import json
import pathlib
import sys

from playwright.sync_api import sync_playwright

url, screenshot, worst_id, filter_serial, live_id, ready_file = sys.argv[1:7]
FIRST_ROW = "document.querySelector('table#worst tbody tr.row')?.dataset.uplinkId"
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
    report["status_live"] = True
    report["first_row"] = page.evaluate(FIRST_ROW)
    report["rows"] = page.locator("table#worst tbody tr.row").count()
    report["dom_elements"] = page.evaluate("document.getElementsByTagName('*').length")
    page.screenshot(path=screenshot, full_page=False)
    # The filter: one device's two uplinks, each drawn in full.
    page.fill("#filter", filter_serial)
    page.wait_for_function("document.querySelectorAll('table#worst tbody tr.row').length === 2", timeout=10000)
    page.wait_for_selector("article.card", timeout=10000)
    report["filtered_rows"] = page.locator("table#worst tbody tr.row").count()
    report["filtered_cards"] = page.locator("article.card").count()
    page.fill("#filter", "")
    page.wait_for_function("document.querySelectorAll('table#worst tbody tr.row').length > 2", timeout=10000)
    report["rows_after_clear"] = page.locator("table#worst tbody tr.row").count()
    # Live: the test now takes an uplink down for the whole hour; it must come to the top by itself.
    pathlib.Path(ready_file).write_text("ready")
    try:
        page.wait_for_function(f"{FIRST_ROW} === {json.dumps(live_id)}", timeout=60000)
    except Exception:
        pass
    report["live_first_row"] = page.evaluate(FIRST_ROW)
    report["not_reloaded"] = page.evaluate("window.__loadedOnce === true")
    # Alerts grouped by rule: the first group opens and lists its newest events. Live alerts reorder the groups
    # (firing first, then newest first) while this runs, so the group is found again by its rule, not its place.
    rule = page.locator("#alert-groups details.alert-group").first.get_attribute("data-rule")
    report["group_rule"] = rule
    opened = f"#alert-groups details.alert-group[data-rule={json.dumps(rule)}]"
    group = page.locator(opened)
    group.locator("summary").click()
    page.wait_for_function(f"document.querySelector('{opened}')?.open === true", timeout=5000)
    report["group_events"] = group.locator("li.alert-event:visible").count()
    # A row opens its uplink: one card with its charts, and the selection bar saying so.
    page.locator(f"table#worst tbody tr.row[data-uplink-id='{live_id}']").click()
    page.wait_for_function("document.querySelectorAll('table#worst tbody tr.row').length === 1", timeout=10000)
    page.wait_for_selector("article.card", timeout=10000)
    report["detail_cards"] = page.locator("article.card").count()
    report["selection_visible"] = page.locator("#selection").is_visible()
    report["errors"] = errors
    browser.close()
print(json.dumps(report))
