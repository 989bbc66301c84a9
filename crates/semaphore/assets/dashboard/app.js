// semaphore dashboard: a worst-first overview of the estate. The server answers only what is shown
// (/api/overview: totals, alert groups, one page of rows, full cards for a small selection); a `tick` on
// /events says something changed, and the page asks again. No dependencies.
"use strict";

// Rows per page. The server's default too, but sent explicitly: the pager computes offsets with it.
const LIMIT = 50;
// The server lists at most this many events per alert group; the page never draws more.
const EVENTS_PER_GROUP = 20;
// Typing asks in the next task: keys typed faster than an answer comes are coalesced by `refresh` (one
// request in flight, one more queued with the latest words), so waiting longer would only add latency.
const FILTER_DEBOUNCE_MS = 0;
// Measures sort highest first by nature, names ascending; `order` is only written when it differs.
const DESCENDING_SORTS = new Set(["worst", "down", "loss", "latency", "jitter"]);
// What the URL hash keeps, in this order. Every value is a string; "" means the server's default.
const VIEW_KEYS = ["q", "sort", "order", "offset", "network", "uplink"];
const KIND_LABELS = { uplink: "uplink", log: "log", snmp: "SNMP" };
const WAITING = "Waiting for the first records from Kafka…";
const NO_MATCH = "No uplink matches the filter.";

// chart() reads the window from here, as it always has; each answer sets it.
const state = { historySeconds: 3600 };

const filterBox = document.getElementById("filter");
const statusText = document.getElementById("status");
const recordsText = document.getElementById("records");
const totalsBox = document.getElementById("totals");
const matchingText = document.getElementById("matching");
const alertGroupsBox = document.getElementById("alert-groups");
const selectionBox = document.getElementById("selection");
const selectionText = document.getElementById("selection-text");
const emptyText = document.getElementById("empty");
const worstTable = document.getElementById("worst");
const worstBody = worstTable.tBodies[0];
const pager = document.getElementById("pager");
const rowsShown = document.getElementById("rows-shown");
const prevButton = document.getElementById("prev");
const nextButton = document.getElementById("next");
const cardsBox = document.getElementById("cards");

// The view asked for, the query string it makes, and a sequence number that changes with the query: an
// answer is drawn only if the query it was asked with is still the current one.
let view = emptyView();
let currentQuery = "";
let querySequence = 0;
// One fetch at a time; a tick or a change while one is out asks for exactly one more after it.
const fetching = { inFlight: false, again: false, askedSequence: -1 };
let lastAnswer = null;
// The event stream's state and the last fetch's error, which together make the status line.
let stream = "connecting";
let fetchError = null;
// Alert groups the operator opened (true) or closed (false), by kind and rule, across re-renders.
const openGroups = new Map();
let filterTimer = 0;

// ---------------------------------------------------------------------------------------------------------
// Alert identity and text (as before: the server's alert keys, today's log and SNMP wording).

// A log alert (it carries the syslog line) is one rule on one device; an SNMP alert one rule on one device's
// interface (or the device, for a trap without one); an uplink alert one rule on one uplink.
function alertKey(event) {
  if (event.syslog) return `${event.rule}/${event.serial}`;
  if (event.snmp) {
    const ifIndex = event.snmp.ifIndex;
    return ifIndex === null || ifIndex === undefined ? `${event.rule}/${event.serial}` : `${event.rule}/${event.serial}/${ifIndex}`;
  }
  return `${event.rule}/${event.serial}/${event.uplink}/${event.ip}`;
}
function uplinkId(event) { return `${event.serial}/${event.uplink}/${event.ip}`; }

function text(value) { return value === null || value === undefined ? "" : String(value); }
function escapeHtml(value) {
  return text(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// HH:MM UTC of Unix seconds or an RFC 3339 string; "" for anything unreadable (toISOString would throw).
function clock(value) {
  if (value === null || value === undefined || value === "") return "";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? "" : `${date.toISOString().slice(11, 16)} UTC`;
}
function fullTime(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : `${date.toISOString().replace("T", " ").slice(0, 19)} UTC`;
}
function percent(value) { return typeof value === "number" ? `${value.toFixed(1)} %` : "—"; }
function milliseconds(value) { return typeof value === "number" ? `${value.toFixed(1)} ms` : "—"; }

// What an SNMP alert is about: the trap and its interface, or the interface's value against the threshold.
function snmpText(event) {
  const snmp = event.snmp;
  const hasIndex = snmp.ifIndex !== null && snmp.ifIndex !== undefined;
  const port = !hasIndex ? "" : snmp.ifName ? ` on ${snmp.ifName} (ifIndex ${snmp.ifIndex})` : ` on ifIndex ${snmp.ifIndex}`;
  const value = typeof event.value === "number" ? Number(event.value.toFixed(2)) : text(event.value);
  if (snmp.metric) return `${snmp.metric} ${value} (threshold ${event.threshold})${port}`;
  return `${snmp.trapName || snmp.trapOid}${port} from ${snmp.address}`;
}

// One log or SNMP alert: its last event (firing: the line, trap or poll that fired it; resolved: when its
// window emptied, the resolving trap or poll). The texts are the former table row's, one cell per span.
function logAlertItem(event) {
  const line = event.syslog;
  const device = event.deviceName ? `${event.deviceName} (${event.serial})` : event.serial;
  const severity = !line || line.severity === null || line.severity === undefined ? "" : `${line.severity} ${text(line.severityName)}`;
  const message = line ? (line.mnemonic ? `${line.mnemonic}: ${line.message}` : line.message) : snmpText(event);
  return `<li class="alert-event device-event ${event.status === "firing" ? "firing" : "resolved"}" data-alert-key="${escapeHtml(alertKey(event))}" title="${escapeHtml(event.condition)}">`
    + `<span class="status">${escapeHtml(event.status)}</span><span class="device">${escapeHtml(device)}</span>`
    + `<span class="severity">${escapeHtml(severity)}</span><span class="message">${escapeHtml(message)}</span>`
    + `<span class="time" title="${escapeHtml(fullTime(event.ts))}">${escapeHtml(clock(event.ts))}</span></li>`;
}

// One uplink alert, with a link that opens its uplink (the row and its full charts).
function uplinkAlertItem(event) {
  const id = event.uplinkId || uplinkId(event);
  return `<li class="alert-event uplink-event ${event.status === "firing" ? "firing" : "resolved"}" data-alert-key="${escapeHtml(alertKey(event))}" title="${escapeHtml(event.condition)}">`
    + `<a class="uplink-link" data-uplink-id="${escapeHtml(id)}" href="#${escapeHtml(hashOf(openedView("uplink", id)))}">`
    + `${escapeHtml(event.deviceName || event.serial)} ${escapeHtml(event.uplink)} → ${escapeHtml(event.ip)}</a>`
    + `<span class="network">${escapeHtml(event.networkName || event.networkId)}</span>`
    + `<span class="condition">${escapeHtml(event.condition)}</span>`
    + `<span class="time" title="${escapeHtml(fullTime(event.startsAt))}">since ${escapeHtml(clock(event.startsAt))}</span></li>`;
}

// ---------------------------------------------------------------------------------------------------------
// Charts: today's card chart, unchanged, and the row's sparkline.

function chart(points, field, unit, now) {
  const width = 280, height = 60, top = 10, bottom = 10;
  const start = now - state.historySeconds;
  const x = (t) => ((t - start) / state.historySeconds) * width;
  const values = points.map((point) => point[field]).filter((value) => value !== null && value !== undefined);
  const max = Math.max(field === "loss" ? 5 : 10, ...values);
  const y = (value) => height - bottom - (value / max) * (height - top - bottom);
  let lines = "", current = [];
  const flush = () => {
    if (current.length === 1) current.push(current[0].replace(/^([\d.]+)/, (m) => String(Number(m) + 1)));
    if (current.length) lines += `<polyline class="line ${field}" points="${current.join(" ")}"/>`;
    current = [];
  };
  let gaps = "";
  for (const point of points) {
    const value = point[field];
    if (value === null || value === undefined) {
      flush();
      gaps += `<rect class="gap" x="${x(point.t).toFixed(1)}" y="${top}" width="${Math.max(width / 60, 2).toFixed(1)}" height="${height - top - bottom}"/>`;
    } else {
      current.push(`${x(point.t).toFixed(1)},${y(value).toFixed(1)}`);
    }
  }
  flush();
  return `<svg class="chart ${field}" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="${field} over the last hour">`
    + `<line class="axis" x1="0" y1="${height - bottom}" x2="${width}" y2="${height - bottom}"/>`
    + `<line class="grid" x1="0" y1="${y(max / 2).toFixed(1)}" x2="${width}" y2="${y(max / 2).toFixed(1)}"/>`
    + `<text x="2" y="8">${field} (max ${max.toFixed(field === "loss" ? 1 : 0)} ${unit})</text>`
    + `<text x="2" y="${height - 1}">−${Math.round(state.historySeconds / 60)} min</text>`
    + `<text x="${width - 2}" y="${height - 1}" text-anchor="end">now</text>${gaps}${lines}</svg>`;
}

// A row's last hour in three paths whatever the number of samples (50 rows stay a few hundred elements):
// down minutes as red marks (consecutive ones merged), then latency, then loss, each scaled like chart().
function sparkline(spark, now, historySeconds) {
  const width = 120, height = 22, margin = 2;
  const start = now - historySeconds;
  const x = (t) => ((t - start) / historySeconds) * width;
  const sampleWidth = Math.max(width / 60, 1.5);
  const sampleSeconds = historySeconds / 60;
  let maxLoss = 5, maxLatency = 10;
  for (const point of spark) {
    if (typeof point[1] === "number") maxLoss = Math.max(maxLoss, point[1]);
    if (typeof point[2] === "number") maxLatency = Math.max(maxLatency, point[2]);
  }
  const line = (index, max) => {
    const y = (value) => height - margin - (value / max) * (height - 2 * margin);
    let path = "", run = 0;
    for (const point of spark) {
      const value = point[index];
      if (typeof value !== "number") {
        if (run === 1) path += "h1.5"; // a lone sample is a dash, not nothing
        run = 0;
        continue;
      }
      path += `${run ? "L" : "M"}${x(point[0]).toFixed(1)},${y(value).toFixed(1)}`;
      run += 1;
    }
    return run === 1 ? `${path}h1.5` : path;
  };
  let down = "", from = null, to = null;
  const flushDown = () => {
    if (from === null) return;
    const left = x(from), markWidth = x(to) - left + sampleWidth;
    down += `M${left.toFixed(1)},0h${markWidth.toFixed(1)}v${height}h${(-markWidth).toFixed(1)}Z`;
    from = to = null;
  };
  for (const point of spark) {
    if (point[1] !== null) { flushDown(); continue; }
    // A gap without samples between two down minutes is unknown, not down: only neighbours merge.
    if (from !== null && point[0] - to <= sampleSeconds * 1.5) to = point[0];
    else { flushDown(); from = to = point[0]; }
  }
  flushDown();
  const latency = line(2, maxLatency), loss = line(1, maxLoss);
  return `<svg class="spark" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="loss, latency and down minutes over the last hour">`
    + (down ? `<path class="down" d="${down}"/>` : "")
    + (latency ? `<path class="latency" d="${latency}"/>` : "")
    + (loss ? `<path class="loss" d="${loss}"/>` : "")
    + `</svg>`;
}

// ---------------------------------------------------------------------------------------------------------
// Drawing one answer. Each part is one string and one innerHTML (or a few textContent) per answer.

function render(answer) {
  state.historySeconds = answer.historySeconds || 3600;
  lastAnswer = answer;
  drawTotals(answer);
  drawAlertGroups(Array.isArray(answer.alertGroups) ? answer.alertGroups : []);
  drawSelection(answer);
  drawRows(answer);
  drawCards(answer);
}

function drawTotals(answer) {
  const totals = answer.totals || {};
  const counts = answer.counts || {};
  const values = {
    uplinks: totals.uplinks, down: totals.down, degraded: totals.degraded, healthy: totals.healthy,
    alerts: answer.alertsFiring, "log-alerts": answer.logAlertsFiring,
  };
  for (const span of totalsBox.querySelectorAll("span[data-count]")) {
    const value = values[span.dataset.count] || 0;
    span.textContent = String(value);
    // A zero is shown muted, so the eye goes to what is not zero.
    span.parentElement.classList.toggle("zero", value === 0);
  }
  const filtered = Boolean(view.q.trim() || view.network || view.uplink);
  matchingText.hidden = !filtered;
  matchingText.textContent = filtered ? `${counts.matching || 0} of ${totals.uplinks || 0} uplinks match` : "";
  recordsText.textContent = `${text(answer.records)} records read`;
}

function groupKey(kind, rule) { return `${kind}/${rule}`; }

function drawAlertGroups(groups) {
  // The old elements are about to go: remember what the operator opened or closed in them first.
  for (const details of alertGroupsBox.querySelectorAll("details.alert-group")) {
    openGroups.set(groupKey(details.dataset.kind, details.dataset.rule), details.open);
  }
  alertGroupsBox.hidden = groups.length === 0;
  if (!groups.length) { alertGroupsBox.innerHTML = ""; return; }
  let html = `<h2>Alerts</h2>`;
  // The server orders the groups (firing first, then newest first); the page keeps its order.
  for (const group of groups) {
    const kind = text(group.kind), rule = text(group.rule);
    const open = openGroups.get(groupKey(kind, rule)) === true;
    const events = (Array.isArray(group.events) ? group.events : []).slice(0, EVENTS_PER_GROUP);
    html += `<details class="alert-group${group.firing > 0 ? " has-firing" : ""}" data-kind="${escapeHtml(kind)}" data-rule="${escapeHtml(rule)}"${open ? " open" : ""}>`
      + `<summary><span class="kind">${escapeHtml(KIND_LABELS[kind] || kind)}</span><span class="rule">${escapeHtml(rule)}</span>`
      + `<span class="count firing">${escapeHtml(group.firing || 0)} firing</span>`
      + `<span class="count resolved">${escapeHtml(group.resolved || 0)} resolved</span>`
      + `<span class="time" title="${escapeHtml(fullTime(group.newest))}">newest ${escapeHtml(clock(group.newest))}</span></summary>`
      + `<ul>${events.map((event) => (event.syslog || event.snmp ? logAlertItem(event) : uplinkAlertItem(event))).join("")}</ul>`
      + (group.more > 0 ? `<p class="more">and ${escapeHtml(group.more)} more</p>` : "")
      + `</details>`;
  }
  alertGroupsBox.innerHTML = html;
}

// Says what a selection shows, with names from the answer's rows when they are there (ids otherwise).
function drawSelection(answer) {
  const selected = Boolean(view.network || view.uplink);
  selectionBox.hidden = !selected;
  if (!selected) return;
  const rows = answer && Array.isArray(answer.rows) ? answer.rows : [];
  const parts = [];
  if (view.network) {
    const row = rows.find((candidate) => candidate.networkId === view.network);
    parts.push(row && row.networkName ? `network ${row.networkName} (${view.network})` : `network ${view.network}`);
  }
  if (view.uplink) {
    const row = rows.find((candidate) => candidate.id === view.uplink);
    parts.push(row ? `uplink ${row.deviceName || row.serial} ${row.uplink} → ${row.ip} (${row.networkName || row.networkId})` : `uplink ${view.uplink}`);
  }
  selectionText.textContent = `Showing ${parts.join(" and ")}`;
}

function rowHtml(row, now, historySeconds) {
  const stateName = escapeHtml(row.state);
  const last = row.last || {};
  const newest = last.t ? `newest (${clock(last.t)})` : "no sample in the window";
  const device = [row.serial, row.model, ...(Array.isArray(row.tags) ? row.tags : [])].filter(Boolean).join(" · ");
  return `<tr class="row ${stateName}" data-uplink-id="${escapeHtml(row.id)}" data-state="${stateName}" tabindex="0">`
    + `<td class="state"><span class="pill pill-${stateName}">${stateName}</span></td>`
    + `<td class="organization">${escapeHtml(row.organizationId)}</td>`
    + `<td class="network"><a class="network" data-network-id="${escapeHtml(row.networkId)}" href="#${escapeHtml(hashOf(openedView("network", text(row.networkId))))}" title="${escapeHtml(row.networkId)}">${escapeHtml(row.networkName || row.networkId)}</a></td>`
    + `<td class="device" title="${escapeHtml(device)}">${escapeHtml(row.deviceName || row.serial)}</td>`
    + `<td class="uplink">${escapeHtml(row.uplink)}</td>`
    + `<td class="ip">${escapeHtml(row.ip)}</td>`
    + `<td class="num down-minutes${row.downSamples ? "" : " none"}" title="${escapeHtml(`${text(row.downSamples)} of ${text(row.samples)} samples down`)}">${escapeHtml(row.downSamples || 0)} min</td>`
    + `<td class="num loss" title="${escapeHtml(`${newest}: ${percent(last.loss)}`)}">${percent(row.lossAvg)}</td>`
    + `<td class="num latency" title="${escapeHtml(`${newest}: ${milliseconds(last.latency)}`)}">${milliseconds(row.latencyAvg)}</td>`
    + `<td class="num jitter" title="${escapeHtml(`${newest}: ${milliseconds(last.jitter)}`)}">${milliseconds(row.jitterAvg)}</td>`
    + `<td class="alerts">${(Array.isArray(row.alerts) ? row.alerts : []).map((rule) => `<span class="rule">${escapeHtml(rule)}</span>`).join("")}</td>`
    + `<td class="spark">${sparkline(Array.isArray(row.spark) ? row.spark : [], now, historySeconds)}</td></tr>`;
}

function drawRows(answer) {
  const rows = (Array.isArray(answer.rows) ? answer.rows : []).slice(0, LIMIT);
  const matching = (answer.counts && answer.counts.matching) || 0;
  const offset = offsetNumber();
  if (!rows.length && matching > 0 && offset > 0) {
    // The selection shrank under the page the operator was on: go to its last page instead of a blank one.
    const lastPage = Math.floor((matching - 1) / LIMIT) * LIMIT;
    if (lastPage < offset && setView({ ...view, offset: lastPage ? String(lastPage) : "" }, "replace")) refresh();
  }
  const now = typeof answer.now === "number" ? answer.now : Math.floor(Date.now() / 1000);
  // A row focused from the keyboard keeps the focus across the re-render, or Tab would restart at the top.
  const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest("#worst tr.row") : null;
  const focusedId = focused ? focused.dataset.uplinkId : null;
  worstBody.innerHTML = rows.map((row) => rowHtml(row, now, state.historySeconds)).join("");
  if (focusedId) {
    const again = [...worstBody.rows].find((row) => row.dataset.uplinkId === focusedId);
    if (again) again.focus({ preventScroll: true });
  }
  worstTable.hidden = rows.length === 0;
  const estateEmpty = !(answer.totals && answer.totals.uplinks);
  emptyText.textContent = estateEmpty ? WAITING : matching === 0 ? NO_MATCH : "";
  emptyText.hidden = rows.length > 0 || !emptyText.textContent;
  pager.hidden = rows.length === 0;
  rowsShown.textContent = `rows ${offset + 1}–${offset + rows.length} of ${matching}`;
  prevButton.disabled = offset === 0;
  nextButton.disabled = offset + rows.length >= matching;
}

// Rules firing per uplink, for the cards' badges: from the rows, and from the listed uplink alert events.
function firingRules(answer) {
  const firingByUplink = new Map();
  const add = (id, rule) => {
    const rules = firingByUplink.get(id) || [];
    if (!rules.includes(rule)) rules.push(rule);
    firingByUplink.set(id, rules);
  };
  for (const row of Array.isArray(answer.rows) ? answer.rows : []) {
    for (const rule of Array.isArray(row.alerts) ? row.alerts : []) add(row.id, rule);
  }
  for (const group of Array.isArray(answer.alertGroups) ? answer.alertGroups : []) {
    for (const event of Array.isArray(group.events) ? group.events : []) {
      if (!event.syslog && !event.snmp && event.status === "firing") add(event.uplinkId || uplinkId(event), event.rule);
    }
  }
  return firingByUplink;
}

// Today's cards, markup unchanged: organization > network > cards, one article with two charts per uplink.
function cardsHtml(uplinks, firingByUplink, now) {
  const tree = new Map();
  for (const uplink of uplinks) {
    const org = tree.get(uplink.organizationId) || new Map();
    tree.set(uplink.organizationId, org);
    const network = uplink.networkName ? `${uplink.networkName} (${uplink.networkId})` : uplink.networkId;
    org.set(network, [...(org.get(network) || []), uplink]);
  }
  let html = "";
  for (const [orgId, networks] of [...tree].sort()) {
    html += `<section class="org" data-organization="${escapeHtml(orgId)}"><h2>Organization ${escapeHtml(orgId)}</h2>`;
    for (const [network, networkUplinks] of [...networks].sort()) {
      html += `<div class="network"><h3>${escapeHtml(network)}</h3><div class="cards">`;
      for (const uplink of networkUplinks.sort((a, b) => a.id.localeCompare(b.id))) {
        const points = Array.isArray(uplink.points) ? uplink.points : [];
        const last = points[points.length - 1] || {};
        const isDown = last.loss === null || last.loss === undefined;
        const rules = firingByUplink.get(uplink.id) || [];
        const classes = ["card", isDown ? "down" : "", rules.length ? "alerting" : ""].join(" ");
        html += `<article class="${classes}" data-uplink-id="${escapeHtml(uplink.id)}" data-points="${points.length}">`
          + `<div class="title"><span class="name">${escapeHtml(uplink.deviceName || uplink.serial)} · ${escapeHtml(uplink.uplink)}</span><span>`
          + (isDown ? `<span class="badge down">DOWN</span>` : "")
          + rules.map((rule) => `<span class="badge alert" title="alert firing">${escapeHtml(rule)}</span>`).join("")
          + `</span></div><div class="meta">${escapeHtml(uplink.serial)} · ${escapeHtml(uplink.model)} · to ${escapeHtml(uplink.ip)}</div>`
          + `<div class="now"><span class="loss">loss ${isDown ? "—" : last.loss.toFixed(1) + " %"}</span>`
          + `<span class="latency">latency ${last.latency === null || last.latency === undefined ? "—" : last.latency.toFixed(1) + " ms"}</span>`
          + `<span class="time">${last.t ? new Date(last.t * 1000).toISOString().slice(11, 16) + " UTC" : ""}</span></div>`
          + chart(points, "loss", "%", now) + chart(points, "latency", "ms", now)
          + `</article>`;
      }
      html += `</div></div>`;
    }
    html += `</section>`;
  }
  return html;
}

function drawCards(answer) {
  const cards = Array.isArray(answer.cards) ? answer.cards.slice(0, answer.cardsLimit || answer.cards.length) : [];
  const now = typeof answer.now === "number" ? answer.now : Math.floor(Date.now() / 1000);
  cardsBox.hidden = cards.length === 0;
  cardsBox.innerHTML = cards.length ? cardsHtml(cards, firingRules(answer), now) : "";
}

function drawSortHeaders() {
  const active = view.sort || "worst";
  for (const th of worstTable.tHead.querySelectorAll("th[data-sort]")) {
    const sorted = th.dataset.sort === active;
    th.classList.toggle("sorted", sorted);
    if (sorted) th.setAttribute("aria-sort", effectiveOrder(active) === "asc" ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  }
}

function drawStatus() {
  if (fetchError) { statusText.textContent = fetchError; statusText.className = "lost"; return; }
  if (stream === "live") { statusText.textContent = "live"; statusText.className = "live"; return; }
  statusText.textContent = stream === "lost" ? "reconnecting…" : "connecting…";
  statusText.className = stream === "lost" ? "lost" : "connecting";
}

// ---------------------------------------------------------------------------------------------------------
// The view: the URL hash, the query it makes, and the ways the operator changes it.

function emptyView() { return { q: "", sort: "", order: "", offset: "", network: "", uplink: "" }; }

function readHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const read = emptyView();
  for (const key of VIEW_KEYS) read[key] = params.get(key) || "";
  return read;
}

function hashOf(someView) {
  const params = new URLSearchParams();
  for (const key of VIEW_KEYS) {
    if (someView[key] && !(key === "offset" && someView[key] === "0")) params.set(key, someView[key]);
  }
  // Ids are SERIAL/UPLINK/IP: "/" and ":" are allowed in a fragment, and a hash that shows them reads better.
  return params.toString().replace(/%2F/gi, "/").replace(/%3A/gi, ":");
}

// Values from the hash go to the server as they are: a bad one earns the server's 400 and its message.
function apiQuery(someView) {
  const params = new URLSearchParams();
  const q = someView.q.trim();
  if (q) params.set("q", q);
  for (const key of ["sort", "order", "offset", "network", "uplink"]) {
    if (someView[key]) params.set(key, someView[key]);
  }
  params.set("limit", String(LIMIT));
  return params.toString();
}

function offsetNumber() { return Math.max(0, Number.parseInt(view.offset, 10) || 0); }
function effectiveOrder(sort) { return view.order || (DESCENDING_SORTS.has(sort) ? "desc" : "asc"); }

// Opening a network or an uplink shows all of it: the filter words and the page are left behind (Back
// brings them again), and the two selections replace each other.
function openedView(kind, id) {
  return { ...view, q: "", offset: "", network: kind === "network" ? id : "", uplink: kind === "uplink" ? id : "" };
}

// Makes `next` the view and writes it to the URL (`push`: a history entry, `replace`: none, `none`: the URL
// already says it). Returns whether the query changed, i.e. whether the server must be asked.
function setView(next, how) {
  view = next;
  const hash = hashOf(view);
  const url = `${location.pathname}${location.search}${hash ? `#${hash}` : ""}`;
  if (how === "push") history.pushState(null, "", url);
  else if (how === "replace") history.replaceState(null, "", url);
  drawSortHeaders();
  const query = apiQuery(view);
  if (query === currentQuery) return false;
  currentQuery = query;
  querySequence += 1;
  return true;
}

function openSelection(kind, id) {
  const next = openedView(kind, id);
  if (hashOf(next) === hashOf(view)) return;
  clearTimeout(filterTimer);
  filterBox.value = "";
  if (setView(next, "push")) refresh();
  drawSelection(lastAnswer);
  window.scrollTo(0, 0);
}

function sortBy(sort) {
  const current = view.sort || "worst";
  const natural = DESCENDING_SORTS.has(sort) ? "desc" : "asc";
  let order = "";
  if (sort === current) {
    // Again on the active column: the other direction; a third time: back to the natural one.
    const flipped = effectiveOrder(sort) === "asc" ? "desc" : "asc";
    order = flipped === natural ? "" : flipped;
  }
  if (setView({ ...view, sort: sort === "worst" ? "" : sort, order, offset: "" }, "replace")) refresh();
}

function turnPage(step) {
  const offset = Math.max(0, offsetNumber() + step * LIMIT);
  if (setView({ ...view, offset: offset ? String(offset) : "" }, "replace")) refresh();
}

// Back, Forward, or a hash typed by hand: the URL is the view.
function followHash() {
  const next = readHash();
  if (hashOf(next) === hashOf(view)) return;
  clearTimeout(filterTimer);
  if (filterBox.value !== next.q) filterBox.value = next.q;
  if (setView(next, "none")) refresh();
  drawSelection(lastAnswer);
}

// ---------------------------------------------------------------------------------------------------------
// Asking the server.

class QueryError extends Error {}

async function askOverview(query) {
  let response;
  try {
    response = await fetch(`/api/overview?${query}`, { cache: "no-store" });
  } catch (error) {
    throw new QueryError("cannot reach semaphore");
  }
  if (!response.ok) {
    const reason = (await response.text().catch(() => "")).trim().split("\n")[0].slice(0, 160);
    throw new QueryError(response.status === 400 ? `query refused: ${reason || "bad request"}` : `server error ${response.status}${reason ? `: ${reason}` : ""}`);
  }
  try {
    return await response.json();
  } catch (error) {
    throw new QueryError("unreadable answer from semaphore");
  }
}

// At most one fetch in flight: a call while one is out asks for exactly one more after it, which then
// carries the newest query. An answer (or error) to a query that is no longer current is dropped.
async function refresh() {
  if (fetching.inFlight) { fetching.again = true; return; }
  fetching.inFlight = true;
  fetching.again = false;
  const asked = querySequence;
  fetching.askedSequence = asked;
  try {
    const answer = await askOverview(currentQuery);
    if (asked === querySequence) {
      fetchError = null;
      render(answer);
    }
  } catch (error) {
    // The page keeps the last answer; the status line says why it is not newer.
    if (asked === querySequence) fetchError = error instanceof QueryError ? error.message : `cannot draw the answer: ${error.message}`;
    if (!(error instanceof QueryError)) console.error(error);
  } finally {
    fetching.inFlight = false;
    drawStatus();
    if (fetching.again) refresh();
  }
}

// The debounced filter asks only if nothing has asked for this query yet (a tick may have, meanwhile).
function refreshUnlessAsked() {
  if (fetching.askedSequence !== querySequence) refresh();
}

function connect() {
  const source = new EventSource("/events");
  // Fetched again once the stream is open, so nothing that changed before it opened is missed.
  source.addEventListener("open", () => { stream = "live"; drawStatus(); refresh(); });
  source.addEventListener("tick", () => refresh());
  source.addEventListener("error", () => {
    stream = "lost";
    drawStatus();
    // EventSource retries by itself, unless the server refused the stream outright: then the page does.
    if (source.readyState === EventSource.CLOSED) { source.close(); setTimeout(connect, 5000); }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Wiring.

filterBox.addEventListener("input", () => {
  setView({ ...view, q: filterBox.value, offset: "" }, "replace");
  clearTimeout(filterTimer);
  filterTimer = setTimeout(refreshUnlessAsked, FILTER_DEBOUNCE_MS);
});

document.addEventListener("click", (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  // Modified clicks keep the browser's meaning (a new tab on the link's href).
  if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  const sortHeader = target.closest("#worst thead th[data-sort]");
  if (sortHeader) { sortBy(sortHeader.dataset.sort); return; }
  const networkLink = target.closest("a.network[data-network-id]");
  if (networkLink) { event.preventDefault(); openSelection("network", networkLink.dataset.networkId); return; }
  const uplinkLink = target.closest("a.uplink-link[data-uplink-id]");
  if (uplinkLink) { event.preventDefault(); openSelection("uplink", uplinkLink.dataset.uplinkId); return; }
  const row = target.closest("#worst tr.row[data-uplink-id]");
  // Selecting text in a row is not a click on it.
  if (row && !String(window.getSelection())) openSelection("uplink", row.dataset.uplinkId);
});

worstBody.addEventListener("keydown", (event) => {
  const row = event.target instanceof Element ? event.target.closest("tr.row[data-uplink-id]") : null;
  if (row && event.key === "Enter") openSelection("uplink", row.dataset.uplinkId);
});

prevButton.addEventListener("click", () => turnPage(-1));
nextButton.addEventListener("click", () => turnPage(1));
document.getElementById("clear-selection").addEventListener("click", () => {
  if (setView({ ...view, network: "", uplink: "", offset: "" }, "push")) refresh();
  drawSelection(lastAnswer);
});
window.addEventListener("hashchange", followHash);
window.addEventListener("popstate", followHash);

// The table's header sticks below the page header, whose height depends on the width (it wraps).
const pageHeader = document.querySelector("header");
function measureHeader() { document.documentElement.style.setProperty("--header-height", `${pageHeader.offsetHeight}px`); }
if ("ResizeObserver" in window) new ResizeObserver(measureHeader).observe(pageHeader);
else window.addEventListener("resize", measureHeader);
measureHeader();

// Ask at once (the stream may take a moment), and again when the stream opens.
const initial = readHash();
filterBox.value = initial.q;
setView(initial, "none");
refresh();
connect();
