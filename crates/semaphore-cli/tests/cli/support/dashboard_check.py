"""Drives the dashboard of a small estate in headless Chromium as a user would: with 24 uplinks or fewer the
page draws today's cards below the table of rows (charts drawn, down ones marked); a record produced while
the page is open appears without a reload (and a down one is marked down); the alerts come grouped by rule, a
syslog line's log alert in its own group; the filter box narrows the cards. Prints a JSON report; the Rust
test asserts on it. Arguments: URL, screenshot path, the serials the test will produce (one reporting, one
down), a file to create once the page is ready (the test then produces the records)."""
import json
import pathlib
import sys

from playwright.sync_api import sync_playwright

url, screenshot, live_serial, down_serial, ready_file = sys.argv[1:6]
CARDS = "document.querySelectorAll('article.card').length"
report = {}
with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("#status.live", timeout=30000)
    page.wait_for_selector("table#worst tbody tr.row", timeout=30000)
    page.wait_for_selector("article.card", timeout=30000)
    page.evaluate("window.__loadedOnce = true")
    report["rows"] = page.locator("table#worst tbody tr.row").count()
    report["cards"] = page.locator("article.card").count()
    report["organizations"] = page.locator("section.org").count()
    report["networks"] = page.locator("div.network").count()
    report["polylines"] = page.locator("svg.chart polyline").count()
    report["down_cards"] = page.locator("article.card.down").count()
    report["points"] = page.evaluate(
        "[...document.querySelectorAll('article.card')].reduce((sum, card) => sum + Number(card.dataset.points), 0)"
    )
    pathlib.Path(ready_file).write_text("ready")
    live = page.locator(f"article.card[data-uplink-id^='{live_serial}/']")
    live.first.wait_for(timeout=60000)
    report["live_card_text"] = live.first.inner_text()
    # The alert comes through its own topic, written by the alerts sink a moment after the sample.
    try:
        page.wait_for_selector(f"article.card.alerting[data-uplink-id^='{live_serial}/']", timeout=30000)
        report["live_card_alerting"] = True
    except Exception:
        report["live_card_alerting"] = False
    down = page.locator(f"article.card.down[data-uplink-id^='{down_serial}/']")
    down.first.wait_for(timeout=30000)
    report["down_card_text"] = down.first.inner_text()
    report["not_reloaded"] = page.evaluate("window.__loadedOnce === true")
    # Uplink alerts are grouped by rule (the live card's alert makes at least one group).
    report["alerts_section_visible"] = page.locator("#alert-groups details.alert-group[data-kind='uplink']").count() > 0
    # The log alert comes the same way: the alerts sink reads the syslog line and writes the event; its group
    # is collapsed until its summary is clicked.
    try:
        group = page.locator("#alert-groups details.alert-group[data-kind='log']").first
        group.wait_for(timeout=30000)
        report["log_alert_rule"] = group.get_attribute("data-rule")
        group.locator("summary").click()
        group.locator("li.alert-event").first.wait_for(state="visible", timeout=5000)
        report["log_alerts"] = group.locator("li.alert-event").count()
        report["log_alert_text"] = group.locator("li.alert-event").first.inner_text()
    except Exception:
        report["log_alerts"] = 0
        report["log_alert_text"] = ""
    # The filter is asked of the server: one device's uplink, then every uplink again (the two produced too).
    page.fill("#filter", live_serial)
    page.wait_for_function(f"{CARDS} === 1", timeout=10000)
    report["cards_after_filter"] = page.locator("article.card").count()
    page.fill("#filter", "")
    page.wait_for_function(f"{CARDS} === {report['cards'] + 2}", timeout=10000)
    page.screenshot(path=screenshot, full_page=False)
    report["errors"] = errors
    browser.close()
print(json.dumps(report))
