// The lab's live view: reads /picture.svg once, then the state from /events (server-sent
// events; /state holds the same JSON). Everything that came from the network (payloads,
// addresses) goes into the page with textContent, never as markup.
"use strict";

const $ = (selector) => document.querySelector(selector);
window.labUpdates = 0;
window.labState = null;
let cables = new Map();
let previousCounters = new Map();

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text === undefined || text === null ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function row(cells, className) {
  const tr = document.createElement("tr");
  for (const c of cells) tr.appendChild(c);
  if (className) tr.className = className;
  return tr;
}

function fill(table, rows) {
  const body = $(table + " tbody");
  body.replaceChildren(...rows);
}

function rate(perSecond) {
  if (perSecond >= 1000) return (perSecond / 1000).toFixed(1) + " k/s";
  return perSecond.toFixed(perSecond < 10 ? 1 : 0) + " /s";
}

async function loadPicture() {
  const response = await fetch("/picture.svg");
  const text = await response.text();
  // Our own drawing (the lab's host names and addresses, no peer bytes), parsed as SVG.
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = document.importNode(parsed.documentElement, true);
  $("#topology").replaceChildren(svg);
  cables = new Map();
  for (const line of svg.querySelectorAll("line[data-cable]")) {
    const label = document.createElementNS("http://www.w3.org/2000/svg", "text");
    const x1 = Number(line.getAttribute("x1")), x2 = Number(line.getAttribute("x2"));
    const y1 = Number(line.getAttribute("y1")), y2 = Number(line.getAttribute("y2"));
    label.setAttribute("x", String((x1 + x2) / 2 + 5));
    label.setAttribute("y", String((y1 + y2) / 2 + 4));
    label.setAttribute("class", "counter");
    svg.appendChild(label);
    cables.set(line.getAttribute("data-cable"), { line, label });
  }
  if (window.labState) render(window.labState);
}

function renderCables(state) {
  for (const host of state.hosts) {
    for (const iface of host.interfaces) {
      const key = host.name + " " + iface.name;
      const cable = cables.get(key);
      if (!cable) continue;
      cable.label.textContent = "↓" + iface.rx_packets + " ↑" + iface.tx_packets;
      const before = previousCounters.get(key);
      const now = iface.rx_packets + iface.tx_packets;
      cable.line.classList.toggle("active", before !== undefined && now !== before);
      previousCounters.set(key, now);
    }
  }
}

function render(state) {
  $("#lab").textContent = state.lab;
  const showAutomatic = $("#show-automatic").checked;
  const memberships = [];
  for (const host of state.hosts) {
    for (const m of host.memberships) {
      if (m.automatic && !showAutomatic) continue;
      const tr = row([
        cell(host.name), cell(m.interface), cell(m.group), cell(m.protocol),
        cell(m.mode), cell(m.sources.join(", ")),
      ], m.automatic ? "automatic" : "");
      tr.dataset.host = host.name;
      tr.dataset.group = m.group;
      memberships.push(tr);
    }
  }
  fill("#memberships", memberships);

  fill("#flows", state.flows.map((f) => {
    const reached = f.reached.map((r) => r.host + " " + r.interface).join(", ");
    const tr = row([
      cell(f.source_host || "(outside)"), cell(f.source), cell(f.group), cell(f.ttl, "number"),
      cell(f.size + " B", "number"), cell(rate(f.rate), "number"), cell(f.datagrams, "number"),
      cell(reached, "reached"),
    ]);
    tr.dataset.group = f.group;
    tr.dataset.reached = f.reached.map((r) => r.host).join(" ");
    return tr;
  }));

  const routes = [];
  for (const host of state.hosts) {
    for (const r of host.routes) {
      routes.push(row([
        cell(host.name), cell(r.origin), cell(r.group), cell(r.input), cell(r.outputs.join(", ")),
        cell(r.packets, "number"), cell(r.bytes, "number"), cell(r.wrong_interface, "number"),
      ]));
    }
  }
  $("#routes-section").hidden = routes.length === 0;
  fill("#routes", routes);

  const log = state.log.slice().reverse().map((l) => row([
    cell((l.at_ms / 1000).toFixed(3) + " s", "number"), cell(l.host), cell(l.interface),
    cell(l.direction), cell(l.source + " → " + l.group), cell(l.ttl, "number"),
    cell(l.size + " B", "number"), cell(l.preview, "payload"),
  ]));
  fill("#log", log);

  const missed = state.hosts.reduce((sum, h) => sum + h.missed, 0);
  $("#missed").textContent = missed > 0
    ? missed + " frames went by faster than the view reads them: flows and this log are samples; the cable counters are exact."
    : "";
  renderCables(state);
}

function connect() {
  const events = new EventSource("/events");
  events.addEventListener("state", (event) => {
    const state = JSON.parse(event.data);
    window.labState = state;
    window.labUpdates += 1;
    $("#status").textContent = "live: " + window.labUpdates + " updates";
    $("#status").className = "live";
    render(state);
  });
  events.onerror = () => {
    $("#status").textContent = "disconnected (the lab ended?); retrying";
    $("#status").className = "lost";
  };
}

document.addEventListener("DOMContentLoaded", () => {
  $("#show-automatic").addEventListener("change", () => {
    if (window.labState) render(window.labState);
  });
  loadPicture();
  connect();
});
