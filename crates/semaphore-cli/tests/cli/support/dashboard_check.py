"""Drives the dashboard in headless Chromium as a user would: the page loads, charts draw, a record
produced while the page is open appears without a reload (and a down one is marked down), a syslog line's
log alert is listed under "Log and SNMP alerts", the filter box narrows the cards. Prints a JSON
report; the Rust test asserts on it. Arguments: URL, screenshot path, the serials the test will produce
(one reporting, one down), a file to create once the page is ready (the test then produces the records)."""
import json
import pathlib
import sys

from playwright.sync_api import sync_playwright

url, screenshot, live_serial, down_serial, ready_file = sys.argv[1:6]
report = {}
with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("#status.live", timeout=30000)
    page.wait_for_selector("article.card", timeout=30000)
    page.evaluate("window.__loadedOnce = true")
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
    report["alerts_section_visible"] = page.locator("#alerts").is_visible()
    # The log alert comes the same way: the alerts sink reads the syslog line and writes the event.
    try:
        page.wait_for_selector("#log-alerts tbody tr.firing", timeout=30000)
        report["log_alerts"] = page.locator("#log-alerts tbody tr").count()
        report["log_alert_text"] = page.locator("#log-alerts tbody tr").first.inner_text()
    except Exception:
        report["log_alerts"] = 0
        report["log_alert_text"] = ""
    page.fill("#filter", live_serial)
    page.wait_for_function("document.querySelectorAll('article.card').length === 1", timeout=10000)
    report["cards_after_filter"] = page.locator("article.card").count()
    page.fill("#filter", "")
    page.wait_for_function(f"document.querySelectorAll('article.card').length === {report['cards'] + 2}", timeout=10000)
    page.screenshot(path=screenshot, full_page=False)
    report["errors"] = errors
    browser.close()
print(json.dumps(report))
