// semaphore dashboard: the snapshot, then live updates over server-sent events. No dependencies.
"use strict";

const state = { historySeconds: 3600, records: 0, uplinks: new Map(), alerts: new Map(), logAlerts: new Map() };
// As the server: each log or SNMP alert's last event, the newest fifty, resolved ones leaving first.
const LOG_ALERTS_SHOWN = 50;
const groups = document.getElementById("groups");
const filterBox = document.getElementById("filter");
const statusText = document.getElementById("status");
const counts = document.getElementById("counts");
let drawScheduled = false;

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

function applySnapshot(snapshot) {
  state.historySeconds = snapshot.historySeconds;
  state.records = snapshot.records;
  state.uplinks = new Map(snapshot.uplinks.map((uplink) => [uplink.id, uplink]));
  state.alerts = new Map(snapshot.alerts.map((event) => [alertKey(event), event]));
  state.logAlerts = new Map();
  for (const event of snapshot.logAlerts || []) rememberLogAlert(event);
  scheduleDraw();
}

function rememberLogAlert(event) {
  state.logAlerts.set(alertKey(event), event);
  while (state.logAlerts.size > LOG_ALERTS_SHOWN) {
    const firstToGo = (a, b) => (a.status === "firing") - (b.status === "firing") || Date.parse(a.ts) - Date.parse(b.ts);
    state.logAlerts.delete(alertKey([...state.logAlerts.values()].sort(firstToGo)[0]));
  }
}

function applyUpdate(update) {
  state.records = update.records;
  for (const sample of update.samples) {
    const known = state.uplinks.get(sample.id);
    if (!known) { state.uplinks.set(sample.id, sample); continue; }
    Object.assign(known, { networkName: sample.networkName, deviceName: sample.deviceName, model: sample.model });
    for (const point of sample.points) {
      const at = known.points.findIndex((existing) => existing.t >= point.t);
      if (at === -1) known.points.push(point);
      else if (known.points[at].t === point.t) known.points[at] = point;
      else known.points.splice(at, 0, point);
    }
  }
  for (const event of update.alerts) {
    if (event.syslog || event.snmp) rememberLogAlert(event);
    else if (event.status === "firing") state.alerts.set(alertKey(event), event);
    else state.alerts.delete(alertKey(event));
  }
  scheduleDraw();
}

function scheduleDraw() {
  if (drawScheduled) return;
  drawScheduled = true;
  requestAnimationFrame(() => { drawScheduled = false; draw(); });
}

function text(value) { return value === null || value === undefined ? "" : String(value); }
function escapeHtml(value) {
  return text(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

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

function matches(uplink, needle) {
  if (!needle) return true;
  const haystack = [uplink.serial, uplink.deviceName, uplink.networkName, uplink.networkId, uplink.organizationId,
    uplink.uplink, uplink.ip, uplink.model].map(text).join(" ").toLowerCase();
  return needle.split(/\s+/).every((word) => haystack.includes(word));
}

function draw() {
  const now = Math.floor(Date.now() / 1000);
  const needle = filterBox.value.trim().toLowerCase();
  const firingByUplink = new Map();
  for (const event of state.alerts.values()) {
    const id = uplinkId(event);
    firingByUplink.set(id, [...(firingByUplink.get(id) || []), event.rule]);
  }
  const tree = new Map();
  let shown = 0, down = 0;
  for (const uplink of state.uplinks.values()) {
    if (!matches(uplink, needle)) continue;
    shown += 1;
    const org = tree.get(uplink.organizationId) || new Map();
    tree.set(uplink.organizationId, org);
    const network = uplink.networkName ? `${uplink.networkName} (${uplink.networkId})` : uplink.networkId;
    org.set(network, [...(org.get(network) || []), uplink]);
  }
  let html = "";
  for (const [orgId, networks] of [...tree].sort()) {
    html += `<section class="org" data-organization="${escapeHtml(orgId)}"><h2>Organization ${escapeHtml(orgId)}</h2>`;
    for (const [network, uplinks] of [...networks].sort()) {
      html += `<div class="network"><h3>${escapeHtml(network)}</h3><div class="cards">`;
      for (const uplink of uplinks.sort((a, b) => a.id.localeCompare(b.id))) {
        const last = uplink.points[uplink.points.length - 1] || {};
        const isDown = last.loss === null || last.loss === undefined;
        if (isDown) down += 1;
        const rules = firingByUplink.get(uplink.id) || [];
        const classes = ["card", isDown ? "down" : "", rules.length ? "alerting" : ""].join(" ");
        html += `<article class="${classes}" data-uplink-id="${escapeHtml(uplink.id)}" data-points="${uplink.points.length}">`
          + `<div class="title"><span class="name">${escapeHtml(uplink.deviceName || uplink.serial)} · ${escapeHtml(uplink.uplink)}</span><span>`
          + (isDown ? `<span class="badge down">DOWN</span>` : "")
          + rules.map((rule) => `<span class="badge alert" title="alert firing">${escapeHtml(rule)}</span>`).join("")
          + `</span></div><div class="meta">${escapeHtml(uplink.serial)} · ${escapeHtml(uplink.model)} · to ${escapeHtml(uplink.ip)}</div>`
          + `<div class="now"><span class="loss">loss ${isDown ? "—" : last.loss.toFixed(1) + " %"}</span>`
          + `<span class="latency">latency ${last.latency === null || last.latency === undefined ? "—" : last.latency.toFixed(1) + " ms"}</span>`
          + `<span class="time">${last.t ? new Date(last.t * 1000).toISOString().slice(11, 16) + " UTC" : ""}</span></div>`
          + chart(uplink.points, "loss", "%", now) + chart(uplink.points, "latency", "ms", now)
          + `</article>`;
      }
      html += `</div></div>`;
    }
    html += `</section>`;
  }
  groups.innerHTML = html || `<p class="empty">${state.uplinks.size ? "No uplink matches the filter." : "Waiting for the first records from Kafka…"}</p>`;
  const logFiring = [...state.logAlerts.values()].filter((event) => event.status === "firing").length;
  counts.textContent = `${shown} of ${state.uplinks.size} uplinks · ${down} down · ${state.alerts.size} alerts firing · ${logFiring} log and SNMP alerts firing · ${state.records} records read`;
  const alertList = document.getElementById("alert-list");
  document.getElementById("alerts").hidden = state.alerts.size === 0;
  alertList.innerHTML = [...state.alerts.values()].map((event) =>
    `<li><b>${escapeHtml(event.rule)}</b> ${escapeHtml(event.deviceName || event.serial)} ${escapeHtml(event.uplink)} → ${escapeHtml(event.ip)}: ${escapeHtml(event.condition)} (since ${escapeHtml(event.startsAt)})</li>`).join("");
  const logAlerts = [...state.logAlerts.values()].sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts));
  document.getElementById("log-alerts").hidden = logAlerts.length === 0;
  document.getElementById("log-alert-rows").innerHTML = logAlerts.map(logAlertRow).join("");
}

// One log or SNMP alert: its last event (firing: the line, trap or poll that fired it; resolved: when its
// window emptied, the resolving trap or poll).
function logAlertRow(event) {
  const line = event.syslog;
  const device = event.deviceName ? `${event.deviceName} (${event.serial})` : event.serial;
  const severity = !line || line.severity === null || line.severity === undefined ? "" : `${line.severity} ${text(line.severityName)}`;
  const message = line ? (line.mnemonic ? `${line.mnemonic}: ${line.message}` : line.message) : snmpText(event);
  const time = new Date(event.ts).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  return `<tr class="${event.status === "firing" ? "firing" : "resolved"}" data-alert-key="${escapeHtml(alertKey(event))}" title="${escapeHtml(event.condition)}">`
    + `<td class="status">${escapeHtml(event.status)}</td><td class="rule">${escapeHtml(event.rule)}</td>`
    + `<td class="device">${escapeHtml(device)}</td><td class="severity">${escapeHtml(severity)}</td>`
    + `<td class="message">${escapeHtml(message)}</td><td class="time">${escapeHtml(time)}</td></tr>`;
}

// What an SNMP alert is about: the trap and its interface, or the interface's value against the threshold.
function snmpText(event) {
  const snmp = event.snmp;
  const hasIndex = snmp.ifIndex !== null && snmp.ifIndex !== undefined;
  const port = !hasIndex ? "" : snmp.ifName ? ` on ${snmp.ifName} (ifIndex ${snmp.ifIndex})` : ` on ifIndex ${snmp.ifIndex}`;
  const value = typeof event.value === "number" ? Number(event.value.toFixed(2)) : text(event.value);
  if (snmp.metric) return `${snmp.metric} ${value} (threshold ${event.threshold})${port}`;
  return `${snmp.trapName || snmp.trapOid}${port} from ${snmp.address}`;
}

async function loadSnapshot() {
  const response = await fetch("/api/snapshot");
  applySnapshot(await response.json());
}

function connect() {
  const source = new EventSource("/events");
  // The snapshot is fetched once the stream is open, so no update falls between the two.
  source.addEventListener("open", () => {
    statusText.textContent = "live";
    statusText.className = "live";
    loadSnapshot().catch(() => { statusText.textContent = "cannot load the snapshot"; statusText.className = "lost"; });
  });
  source.addEventListener("update", (message) => applyUpdate(JSON.parse(message.data)));
  source.addEventListener("resync", () => loadSnapshot());
  source.addEventListener("error", () => { statusText.textContent = "reconnecting…"; statusText.className = "lost"; });
}

filterBox.addEventListener("input", scheduleDraw);
// Charts slide with the clock even between records.
setInterval(scheduleDraw, 30000);
connect();
