#!/usr/bin/env python3
"""The live dashboard for a real estate (issue 15): the new page (`/api/overview`, a table of the worst uplinks)
against today's page (`/api/snapshot`, one card with two charts per uplink), both in headless Chromium driven by
Playwright, in the same run, against the same dashboard process, at 1,000 / 10,000 / 50,000 uplinks.

For each size (MX appliances = uplinks / 2, one organization):
- `semaphore broker --memory`, `semaphore simulate --appliances N --networks 0` (networks sized like a real estate:
  mostly one MX a branch, some HA pairs, a hub of 4-8 every 40th network; a simulator without it: one per MX);
- an alerts sink in its own `semaphore run -c` process (`high-loss`: loss above 5 % for one sample; `lossy`: loss
  above 0.5 % on average over 10 minutes; `slow`: latency above 110 ms on average over 5 minutes), started first so
  it evaluates the samples as they arrive: the simulator's loss incidents alone fire only ~1 % of uplinks at once,
  the latency rule brings it to hundreds at 10,000;
- Kafka filled by one collector cycle, `semaphore run --once` with `initial_lookback_s` (the size's history, below);
- the dashboard sink alone in its own `semaphore run -c` process (its CPU is the dashboard's), started once the
  alerts sink has read every sample, and waited for until its `semaphore_sink_records_total{sink="dashboard"}`
  holds every record of both topics inside its window (Kafka's offsets for `now - history_s`, 3600 s).

Then, each page in a fresh browser context (viewport 1400x1000), today's first, then the new one:
- first render: navigation start until the frame after the first data is drawn (new: `table#worst tbody tr.row`;
  today: `article.card`), timed in the page (a MutationObserver, then requestAnimationFrame + setTimeout, so the
  frame is painted);
- keystroke to repaint: `#filter` holds a serial's first characters that still match every uplink (`Q2`), one
  character more is typed (which narrows to ~1/32 of the estate), and the time runs from the keydown's time stamp
  until the frame after the rows or cards on screen are exactly the ones that should match (the new page: the
  ids `/api/overview?q=...` answers; today's: the uplinks of the snapshot its filter matches); median of --reps;
- DOM elements (`document.getElementsByTagName('*').length`) and JS heap used (CDP `Performance.getMetrics`
  JSHeapUsedSize, after `HeapProfiler.collectGarbage`), once the first render is done and the page settled;
- first response: the bytes of the data the first screen needs (new: `/api/overview` with no parameters; today:
  `/api/snapshot`; uncompressed, as the server sends them to a client that asks for no encoding), and the page's
  own bytes (index.html + app.js + app.css);
- server CPU per live update (new page only): with the page open, one more minute of samples is produced for every
  uplink (Python confluent-kafka, the collector's records and headers, each uplink's newest values one minute
  later); the dashboard process's CPU seconds (/proc) from before the produce until the last record, tick or
  page fetch (seen once 3 s passed without one and without a request in flight), divided by the `tick` events the
  page received, and per 1,000 records the dashboard read in that time (its idle CPU a second, measured with the
  page open just before, is printed beside it and not subtracted).

Today's page is served from git (9316db1: `crates/semaphore/assets/dashboard/{index.html,app.js,app.css}`) by a
small proxy in this script that forwards `/api/snapshot` and `/events` (streamed) to the dashboard. The snapshot's
JSON is unchanged, so it draws as it always did; but the new server sends `tick` instead of today's `update`
events, so today's page is never updated live, and its server CPU per update is not measured (n/a). Against a binary
without `/api/overview` (before issue 15) only today's page is measured (through the proxy as well).

History per size (the collector's `initial_lookback_s`): 60 minutes at 1,000 and 10,000 uplinks; at 50,000 the
embedded broker (tansu on SQLite; 600,000 samples took 52 s here with the alerts sink reading beside the
collector) would need over four minutes for one hour (3,000,000 records), the dashboard more than a minute to read
it, and today's page a 170 MB snapshot, so it gets 15 minutes (750,000 records) and the whole run stays within ~15
minutes. `--history SIZE=MINUTES` changes it.

Usage: python3 bench/dashboard.py [--sizes 1000 10000 50000] [--reps 5] [--history 50000=15]
                                  [--binary target/release/semaphore] [--screenshot bench/dashboard-overview.png] [--keep]
Needs: Chromium (/usr/bin/chromium), pip install -r .ci/requirements.txt (playwright, confluent-kafka).
Prints a Markdown table per size; copy them into bench/README.md. The screenshot is the new overview at 10,000.
"""

import argparse
import http.client
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from common import cpu_seconds, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UPLINKS_TOPIC = "meraki.uplinks.loss_latency"
ALERTS_TOPIC = "semaphore.alerts"
BASELINE_COMMIT = "9316db1"
ASSETS = "crates/semaphore/assets/dashboard"
HISTORY_S = 3600  # the dashboard's default history_s
DEFAULT_HISTORY_MINUTES = {1000: 60, 10000: 60, 50000: 15}
# The goals, at 10,000 uplinks: (figure, limit).
GOALS = {"first_render_ms": 1000, "keystroke_ms": 100, "dom_elements": 5000, "data_bytes": 500_000}
ALERT_RULES = """[[sinks.alerts]]
[[sinks.alerts.rule]]
name = "high-loss"
metric = "loss_percent"
above = 5
for_samples = 1
[[sinks.alerts.rule]]
name = "lossy"
metric = "loss_percent"
above = 0.5
average_over_s = 600
[[sinks.alerts.rule]]
name = "slow"
metric = "latency_ms"
above = 110
average_over_s = 300
"""
HEADERS = [("content-type", b"application/json"), ("semaphore-schema", b"meraki.uplink_loss_latency/1"),
           ("source", b"meraki_uplinks")]

# What each page draws: the element whose presence is the first data drawn, and the elements that show the
# uplinks the filter matches (each with data-uplink-id).
PAGES = {
    "new": {"first": "table#worst tbody tr.row", "items": "table#worst tbody tr.row"},
    "today": {"first": "article.card", "items": "article.card"},
}

# Installed before the page's own scripts. Records in window.__bench: when the first data was drawn, the events
# every EventSource of the page received, and for a keystroke into #filter the time from its keydown to the frame
# after the items on screen are the expected ones (window.__bench.expect, set just before the key is pressed).
INIT_SCRIPT = """
(() => {
  const FIRST = %(first)s, ITEMS = %(items)s;
  const bench = window.__bench = { firstDrawn: null, ticks: 0, updates: 0, keydown: null, keyDone: null, expect: null };
  // After the next frame is painted: rAF runs before the frame's style, layout and paint, the timeout after them.
  const afterPaint = (callback) => requestAnimationFrame(() => setTimeout(callback, 0));
  bench.ids = () => [...document.querySelectorAll(ITEMS)].map((item) => item.dataset.uplinkId).sort().join("\\n");
  const first = new MutationObserver(() => {
    if (document.querySelector(FIRST)) {
      first.disconnect();
      afterPaint(() => { bench.firstDrawn = performance.now(); });
    }
  });
  first.observe(document, { childList: true, subtree: true });
  const Original = window.EventSource;
  window.EventSource = class extends Original {
    constructor(...args) {
      super(...args);
      this.addEventListener("tick", () => { bench.ticks += 1; });
      this.addEventListener("update", () => { bench.updates += 1; });
    }
  };
  document.addEventListener("keydown", (event) => {
    if (event.target.id !== "filter" || bench.expect === null) return;
    const expect = bench.expect;
    bench.expect = null;
    bench.keydown = event.timeStamp;
    const observer = new MutationObserver(() => {
      if (bench.ids() !== expect) return;
      observer.disconnect();
      afterPaint(() => { bench.keyDone = performance.now(); });
    });
    observer.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-uplink-id"] });
  }, true);
})();
"""


def wait_for(condition, limit, what, interval=0.25):
    """Poll `condition` until it is true; exit naming `what` after `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise SystemExit(f"timed out after {limit} s waiting for {what}")


def http_get(url):
    """(status, body bytes) of a GET, asking for no content encoding; (None, b"") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return None, b""


def metric(admin, name):
    """A sample of the process's admin /metrics, 0 when absent."""
    status, text = http_get(f"http://{admin}/metrics")
    for row in text.decode().splitlines():
        if row.startswith(name + " "):
            return float(row.split()[-1])
    return 0.0


def sink_records(admin, sink):
    return metric(admin, f'semaphore_sink_records_total{{sink="{sink}"}}')


def run_config(binary, directory, name, body):
    """Start `semaphore run -c` with a config of `body` (and its own data dir); returns the process."""
    config = os.path.join(directory, f"{name}.toml")
    with open(config, "w") as file:
        file.write(f'data_dir = "{directory}/data-{name}"\n{body}')
    return subprocess.Popen([binary, "run", "-c", config], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(directory, f"{name}.log"), "w"))


def collect(binary, simulator, brokers, directory, lookback_s):
    """One collector cycle (`run --once`) filling Kafka with the last `lookback_s` of every uplink; its seconds."""
    config = os.path.join(directory, "collector.toml")
    with open(config, "w") as file:
        file.write(f'data_dir = "{directory}/data-collector"\n[meraki]\nurl = "http://{simulator}/api/v1"\n'
                   f'[kafka]\nbrokers = "{brokers}"\n[admin]\nlisten = ""\n'
                   f'[[sources.meraki_uplinks]]\ninitial_lookback_s = {lookback_s}\nddns = false\n')
    started = time.monotonic()
    result = subprocess.run([binary, "run", "--once", "-c", config], env={**os.environ, "MERAKI_DASHBOARD_API_KEY": "bench"},
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(directory, "collector.log"), "w"))
    if result.returncode != 0:
        raise SystemExit(f"the collector failed; see {directory}/collector.log")
    return time.monotonic() - started


def kafka_records(brokers, topics, since=None):
    """Records in `topics` (with a timestamp at or after `since`, Unix seconds, when given), from Kafka's offsets."""
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": "bench-offsets"})
    total = 0
    for topic in topics:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        if metadata.error is not None:
            continue
        partitions = [TopicPartition(topic, partition, int((since or 0) * 1000)) for partition in metadata.partitions]
        for found in consumer.offsets_for_times(partitions, timeout=10):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, found.partition), timeout=10)
            total += high - (found.offset if found.offset >= 0 else high)
    consumer.close()
    return total


def produce_minute(brokers, uplinks):
    """One more minute for every uplink: its newest values, one minute after its newest point, as the collector
    writes them. Returns the records produced."""
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": brokers, "linger.ms": 20, "compression.type": "zstd"})
    count = 0
    for uplink in uplinks:
        if not uplink["points"]:
            continue
        last = uplink["points"][-1]
        at = last["t"] + 60
        item = {key: uplink.get(key) for key in ("organizationId", "networkId", "networkName", "serial", "deviceName",
                                                   "model", "tags", "uplink", "ip")}
        item.update({"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)), "lossPercent": last["loss"],
                     "latencyMs": last["latency"], "jitter": None, "goodput": None, "activeDdnsHostname": None,
                     "ddnsHostnameWan1": None, "ddnsHostnameWan2": None})
        while True:
            try:
                producer.produce(UPLINKS_TOPIC, key=item["serial"], value=json.dumps(item).encode(), headers=HEADERS,
                                 timestamp=at * 1000)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
        count += 1
    producer.flush(120)
    return count


def baseline_server(dashboard, directory):
    """Today's page from git, and /api/snapshot and /events forwarded (streamed) to `dashboard`. Returns the
    server (serving on a thread) and the page's bytes."""
    files = {}
    for name, kind in (("index.html", "text/html"), ("app.js", "text/javascript"), ("app.css", "text/css")):
        body = subprocess.run(["git", "-C", ROOT, "show", f"{BASELINE_COMMIT}:{ASSETS}/{name}"], check=True,
                              capture_output=True).stdout
        files["/" + name] = (kind, body)
    files["/"] = files["/index.html"]
    host, port = dashboard.split(":")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?")[0]
            try:
                if path in files:
                    kind, body = files[path]
                    self.send_response(200)
                    self.send_header("content-type", kind)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                upstream = http.client.HTTPConnection(host, int(port), timeout=None)
                upstream.request("GET", self.path, headers={"accept": self.headers.get("accept", "*/*")})
                answer = upstream.getresponse()
                self.send_response(answer.status)
                for name in ("content-type", "cache-control"):
                    if answer.getheader(name):
                        self.send_header(name, answer.getheader(name))
                self.end_headers()
                # Chunk by chunk as they come, so the event stream stays live (HTTP/1.0: the close ends the body).
                while chunk := answer.read1(65536):
                    self.wfile.write(chunk)
                    self.wfile.flush()
                upstream.close()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *arguments):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, sum(len(body) for path, (kind, body) in files.items() if path != "/")


def old_matches(uplink, needle):
    """Today's page's filter (app.js `matches`), to know which cards it should show."""
    haystack = " ".join("" if uplink.get(key) is None else str(uplink[key]) for key in
                        ("serial", "deviceName", "networkName", "networkId", "organizationId", "uplink", "ip", "model"))
    return all(word in haystack.lower() for word in needle.lower().split())


def keystroke_text(uplinks):
    """(prefix, character): the longest first characters of a serial that still match every uplink (today's filter),
    and the next one, which narrows."""
    serial = min(uplink["serial"] for uplink in uplinks)
    for length in range(1, len(serial) + 1):
        if sum(old_matches(uplink, serial[:length]) for uplink in uplinks) < len(uplinks):
            return serial[:length - 1], serial[length - 1]
    raise SystemExit(f"no prefix of {serial} narrows the filter")


def expected_ids(kind, dashboard, uplinks, text):
    """The sorted ids the page should show with `text` in #filter (as window.__bench.ids() joins them)."""
    if kind == "today":
        ids = [uplink["id"] for uplink in uplinks if old_matches(uplink, text)]
    else:
        status, body = http_get(f"http://{dashboard}/api/overview?" + urllib.parse.urlencode({"q": text}))
        ids = [row["id"] for row in json.loads(body)["rows"]]
    return "\n".join(sorted(ids))


def measure_page(browser, kind, url, dashboard, uplinks, reps, screenshot=None, live=None):
    """Open the page and measure it (module docstring). `live`: a function run with the page open that returns the
    live-update figures, given the page's counters."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(INIT_SCRIPT % {key: json.dumps(value) for key, value in PAGES[kind].items()})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    figures = {}
    page.goto(url, wait_until="commit")
    page.wait_for_function("window.__bench && window.__bench.firstDrawn !== null", timeout=600_000, polling=100)
    figures["first_render_ms"] = page.evaluate("window.__bench.firstDrawn")
    page.wait_for_selector("#status.live", timeout=60_000)
    time.sleep(1)
    if screenshot:
        page.screenshot(path=screenshot)
    figures["dom_elements"] = page.evaluate("document.getElementsByTagName('*').length")
    cdp = context.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("Performance.enable")
    heap = {item["name"]: item["value"] for item in cdp.send("Performance.getMetrics")["metrics"]}["JSHeapUsedSize"]
    figures["heap_mb"] = heap / 1e6
    prefix, character = keystroke_text(uplinks)
    figures["keystroke_text"] = f"{prefix!r} + {character!r}"
    before = expected_ids(kind, dashboard, uplinks, prefix)
    after = expected_ids(kind, dashboard, uplinks, prefix + character)
    figures["keystroke_items"] = (before.count("\n") + 1, after.count("\n") + 1)
    samples = []
    for _ in range(reps):
        page.fill("#filter", prefix)
        page.wait_for_function("expect => window.__bench.ids() === expect", arg=before, timeout=600_000, polling=200)
        settle(page)
        page.evaluate("expect => { window.__bench.keyDone = null; window.__bench.expect = expect; }", after)
        page.focus("#filter")
        page.keyboard.type(character)
        page.wait_for_function("window.__bench.keyDone !== null", timeout=600_000, polling=50)
        samples.append(page.evaluate("window.__bench.keyDone - window.__bench.keydown"))
    figures["keystroke_ms"] = statistics.median(samples)
    figures["keystroke_samples"] = samples
    page.fill("#filter", "")
    page.wait_for_function("expect => window.__bench.ids() === expect", arg=expected_ids(kind, dashboard, uplinks, ""),
                           timeout=600_000, polling=200)
    if live:
        figures.update(live(page))
    figures["errors"] = errors
    context.close()
    return figures


def settle(page):
    """Let the page finish what the last input started (a redraw waiting for its frame, a query in flight)."""
    page.wait_for_timeout(1000)
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def live_update(page, process, admin, brokers, uplinks):
    """Server CPU per live update with `page` open: one minute more for every uplink (module docstring)."""
    in_flight, fetches = set(), [0]

    def sent(request):
        if "/api/overview" in request.url:
            in_flight.add(request)
            fetches[0] += 1
    page.on("request", sent)
    page.on("requestfinished", lambda request: in_flight.discard(request))
    page.on("requestfailed", lambda request: in_flight.discard(request))
    idle_start, idle_cpu = time.monotonic(), cpu_seconds(process.pid)
    page.wait_for_timeout(5000)
    idle_rate = (cpu_seconds(process.pid) - idle_cpu) / (time.monotonic() - idle_start)
    ticks_before, fetches_before = page.evaluate("window.__bench.ticks"), fetches[0]
    records_before, cpu_before, started = sink_records(admin, "dashboard"), cpu_seconds(process.pid), time.monotonic()
    produced = produce_minute(brokers, uplinks)
    wait_for(lambda: sink_records(admin, "dashboard") >= records_before + produced, 300, "the live minute")
    # Quiet: the alerts it fired read too, the page's last fetch done.
    # The CPU is read when the last change was seen, so the quiet seconds after it are not counted.
    last, quiet_since, cpu_after, ended = None, time.monotonic(), cpu_seconds(process.pid), time.monotonic()
    while time.monotonic() - quiet_since < 3:
        now = (sink_records(admin, "dashboard"), page.evaluate("window.__bench.ticks"), fetches[0], len(in_flight))
        if now != last or now[3]:
            last, quiet_since = now, time.monotonic()
            cpu_after, ended = cpu_seconds(process.pid), time.monotonic()
        page.wait_for_timeout(100)
    cpu = cpu_after - cpu_before
    ticks = page.evaluate("window.__bench.ticks") - ticks_before
    records = sink_records(admin, "dashboard") - records_before
    return {"live_cpu_s": cpu, "live_seconds": ended - started, "live_ticks": ticks,
            "live_fetches": fetches[0] - fetches_before, "live_records": records, "live_produced": produced,
            "idle_cpu_ms_per_s": idle_rate * 1000,
            "cpu_per_update_ms": cpu * 1000 / ticks if ticks else None,
            "cpu_per_1000_records_ms": cpu * 1000 / (records / 1000) if records else None}


def networks(binary, appliances):
    """`--networks 0` (sized like a real estate: mostly one MX a branch, some HA pairs, hubs) when the simulator
    has it, else one network per appliance."""
    usage = subprocess.run([binary, "simulate", "--help"], capture_output=True, text=True).stdout
    return "0" if "0 = sized" in usage else str(appliances)


def run_size(arguments, uplink_count, minutes, screenshot):
    """Everything for one estate size; returns the figures of both pages and of the run."""
    from playwright.sync_api import sync_playwright
    binary, appliances = arguments.binary, uplink_count // 2
    started = time.monotonic()
    run = {"uplinks": uplink_count, "appliances": appliances, "minutes": minutes, "reps": arguments.reps}
    directory = tempfile.mkdtemp(prefix=f"bench-dashboard-{uplink_count}-")
    processes = []
    try:
        port = free_port()
        broker = subprocess.Popen([binary, "broker", "--listen", f"127.0.0.1:{port}", "--memory"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        processes.append(broker)
        broker.stdout.readline()
        brokers = f"127.0.0.1:{port}"
        port = free_port()
        simulator = subprocess.Popen([binary, "simulate", "--listen", f"127.0.0.1:{port}", "--appliances",
                                      str(appliances), "--networks", networks(binary, appliances)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        processes.append(simulator)
        simulator.stdout.readline()
        alerts_admin = f"127.0.0.1:{free_port()}"
        processes.append(run_config(binary, directory, "alerts", f'[kafka]\nbrokers = "{brokers}"\n[admin]\n'
                                    f'listen = "{alerts_admin}"\n{ALERT_RULES}'))
        run["collect_s"] = collect(binary, f"127.0.0.1:{port}", brokers, directory, minutes * 60)
        run["samples"] = kafka_records(brokers, [UPLINKS_TOPIC])
        wait_for(lambda: sink_records(alerts_admin, "alerts") >= run["samples"], 600, "the alerts sink")
        run["fill_s"] = time.monotonic() - started
        dashboard, dashboard_admin = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        loading = time.monotonic()
        process = run_config(binary, directory, "dashboard", f'[kafka]\nbrokers = "{brokers}"\n[admin]\n'
                             f'listen = "{dashboard_admin}"\n[sinks.dashboard]\nlisten = "{dashboard}"\n')
        processes.append(process)
        wait_for(lambda: http_get(f"http://{dashboard_admin}/metrics")[0] == 200, 60, "the dashboard process")
        # Its window starts between its start and now: at least the records from now on are due.
        due = kafka_records(brokers, [UPLINKS_TOPIC, ALERTS_TOPIC], since=time.time() - HISTORY_S)
        wait_for(lambda: sink_records(dashboard_admin, "dashboard") >= due, 600, "the dashboard to read its window")
        previous = None
        while (current := sink_records(dashboard_admin, "dashboard")) != previous:
            previous = current
            time.sleep(2)
        run["dashboard_records"], run["load_s"] = current, time.monotonic() - loading
        run["dashboard_cpu_load_s"] = cpu_seconds(process.pid)
        status, body = http_get(f"http://{dashboard}/api/snapshot")
        snapshot = json.loads(body)
        uplinks = snapshot["uplinks"]
        run["snapshot_uplinks"], run["firing"] = len(uplinks), len(snapshot["alerts"])
        points = [len(uplink["points"]) for uplink in uplinks]
        run["points_min"], run["points_max"] = min(points, default=0), max(points, default=0)
        pages = {"today": {"data_bytes": len(body)}}
        status, overview = http_get(f"http://{dashboard}/api/overview")
        has_new = status == 200
        proxy, pages["today"]["page_bytes"] = baseline_server(dashboard, directory)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            try:
                pages["today"].update(measure_page(browser, "today", f"http://127.0.0.1:{proxy.server_port}/",
                                                   dashboard, uplinks, arguments.reps))
            except Exception as error:  # today's page may give up at 50,000 (a timeout): the new one is still measured
                pages["today"]["failed"] = str(error).splitlines()[0]
            if has_new:
                pages["new"] = {"data_bytes": len(overview),
                                "page_bytes": sum(len(http_get(f"http://{dashboard}/{name}")[1])
                                                  for name in ("", "app.js", "app.css"))}
                live = lambda page: live_update(page, process, dashboard_admin, brokers, uplinks)
                pages["new"].update(measure_page(browser, "new", f"http://{dashboard}/", dashboard, uplinks,
                                                 arguments.reps, screenshot=screenshot, live=live))
            browser.close()
        proxy.shutdown()
        run["total_s"] = time.monotonic() - started
        return run, pages
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(30)
        if arguments.keep:
            print(f"work directory kept: {directory}", file=sys.stderr)
        else:
            shutil.rmtree(directory, ignore_errors=True)


def cell(value, digits=0):
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def print_size(run, pages):
    """The Markdown table of one size: new page, today's, the ratio, and at 10,000 the goal."""
    new, today = pages.get("new", {}), pages["today"]
    goals = run["uplinks"] == 10000
    print(f"### {run['uplinks']:,} uplinks ({run['appliances']:,} MX appliances)\n")
    print(f"History: {run['minutes']} minutes collected ({run['samples']:,} samples in Kafka); the dashboard held "
          f"{run['dashboard_records']:,.0f} records ({run['points_min']}-{run['points_max']} points per uplink, "
          f"{run['snapshot_uplinks']:,} uplinks), {run['firing']:,} uplink alerts firing. "
          f"Filling Kafka (collector + alerts sink) {run['fill_s']:.0f} s, the dashboard reading it {run['load_s']:.0f} s "
          f"({run['dashboard_cpu_load_s']:.1f} s of CPU); the whole size {run['total_s']:.0f} s.\n")
    rows = [
        ("first render, ms", "first_render_ms", 0, 1, "first_render_ms"),
        (f"keystroke to repaint, ms (median of {run['reps']})", "keystroke_ms", 0, 1, "keystroke_ms"),
        ("DOM elements", "dom_elements", 0, 1, "dom_elements"),
        ("JS heap used, MB", "heap_mb", 1, 1, None),
        ("first response: data, KB (new: /api/overview; today: /api/snapshot)", "data_bytes", 0, 1000, "data_bytes"),
        ("page + JS + CSS, KB", "page_bytes", 1, 1000, None),
        ("server CPU per live update, ms", "cpu_per_update_ms", 1, 1, None),
        ("server CPU per 1,000 records read live, ms", "cpu_per_1000_records_ms", 1, 1, None),
    ]
    print("| figure | new page | today's page | new / today |" + (" goal at 10,000 |" if goals else ""))
    print("| --- | ---: | ---: | ---: |" + (" --- |" if goals else ""))
    for label, key, digits, scale, goal in rows:
        mine, theirs = new.get(key), today.get(key)
        mine = None if mine is None else mine / scale
        theirs = None if theirs is None else theirs / scale
        ratio = f"{mine / theirs:.3f}" if mine is not None and theirs else "n/a"
        line = f"| {label} | {cell(mine, digits)} | {cell(theirs, digits)} | {ratio} |"
        if goals:
            if goal is None:
                line += " |"
            else:
                limit = GOALS[goal] / scale
                verdict = "" if mine is None else (" met" if mine < limit else " **not met**")
                line += f" < {limit:,.0f}{verdict} |"
        print(line)
    print()
    for name, figures in (("new", new), ("today", today)):
        if not figures:
            print("- new page: not measured (this binary has no /api/overview).")
            continue
        if "failed" in figures:
            print(f"- {name}: gave up: {figures['failed']}")
            continue
        print(f"- {name}: keystroke {figures['keystroke_text']} ({figures['keystroke_items'][0]:,} → "
              f"{figures['keystroke_items'][1]:,} uplinks shown), samples "
              f"{', '.join(f'{sample:.0f}' for sample in figures['keystroke_samples'])} ms; page errors: "
              f"{len(figures['errors'])}")
    if new.get("live_records"):
        print(f"- live minute: {new['live_produced']:,} samples produced, {new['live_records']:,.0f} records read by "
              f"the dashboard (with the alerts they fired) in {new['live_seconds']:.1f} s, {new['live_cpu_s']:.2f} s of "
              f"its CPU, {new['live_ticks']} ticks, {new['live_fetches']} /api/overview fetches "
              f"(idle before: {new['idle_cpu_ms_per_s']:.1f} ms of CPU a second; /proc counts CPU in 10 ms ticks)")
    print("- today's page gets no live updates from this server (it sends `tick`, not `update`): its CPU per update "
          "is n/a; served from git by the bench's proxy.\n" if new else
          "- today's page: served from git by the bench's proxy, against this binary's own /api/snapshot and "
          f"/events ({today.get('updates', 0)} live `update` events seen).\n", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000], help="uplinks (appliances = half)")
    parser.add_argument("--reps", type=int, default=5, help="keystrokes per page; the median is reported")
    parser.add_argument("--history", nargs="*", default=[], metavar="UPLINKS=MINUTES",
                        help="minutes the collector reads back at a size (default 60, 15 at 50,000)")
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "semaphore"))
    parser.add_argument("--screenshot", default=os.path.join(ROOT, "bench", "dashboard-overview.png"),
                        help="the new overview at 10,000 uplinks")
    parser.add_argument("--keep", action="store_true", help="keep the work directories (configs, logs)")
    arguments = parser.parse_args()
    history = dict(DEFAULT_HISTORY_MINUTES)
    history.update({int(size): int(minutes) for size, minutes in (item.split("=") for item in arguments.history)})
    started = time.monotonic()
    print(f"Dashboard at scale: new page vs today's ({BASELINE_COMMIT}), Chromium {chromium_version()}, "
          f"{os.cpu_count()} cores, binary {arguments.binary}.\n")
    for size in arguments.sizes:
        run, pages = run_size(arguments, size, history.get(size, 60), arguments.screenshot if size == 10000 else None)
        print_size(run, pages)
    print(f"All sizes: {time.monotonic() - started:.0f} s.")


def chromium_version():
    output = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout
    return output.split()[1] if output else "?"


if __name__ == "__main__":
    main()
