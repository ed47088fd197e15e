// The agent-metrics dashboard: reads the JSON views, redraws on every change the server
// streams. Strings from the store only ever reach the page as text (textContent), never as
// markup, so an agent named `<img src=x onerror=...>` shows as those characters.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

// As the CLI shows money: cents from a dollar up (with thousands separators), four decimals
// below, so the page and `agent-metrics status` agree to the cent.
function usd(n) {
  const v = Number(n) || 0;
  if (Math.abs(v) < 1) return "$" + (Math.abs(v) < 0.00005 ? 0 : v).toFixed(4);
  return "$" + v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}
const count = (n) => (Number(n) || 0).toLocaleString("en-US");
function duration(seconds) {
  const s = Number(seconds) || 0;
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + "s";
  if (s < 3600) return Math.floor(s / 60) + "m " + Math.round(s % 60) + "s";
  return Math.floor(s / 3600) + "h " + Math.round((s % 3600) / 60) + "m";
}
const utc = (ts) => (ts ? new Date(ts).toISOString().slice(0, 16).replace("T", " ") : "never");
function ago(ts) {
  if (!ts) return "never";
  const s = (Date.now() - new Date(ts).getTime()) / 1000;
  if (s < 60) return "just now";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h ago";
  return Math.floor(s / 86400) + " d ago";
}

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(path + ": HTTP " + response.status);
  return response.json();
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const [text, className] of cells) tr.appendChild(el("td", text, className));
  return tr;
}

function fill(tableId, rows, emptyText, columns) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren(...rows);
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = el("td", emptyText, "empty");
    td.colSpan = columns;
    tr.appendChild(td);
    body.appendChild(tr);
  }
}

function renderTotals(status) {
  const t = status.totals;
  const cards = [
    ["Sessions", count(t.total_sessions)], ["Invocations", count(t.total_invocations)],
    ["Tokens", count(t.total_tokens)], ["Cost", usd(t.total_cost_usd)],
    ["Agent time", duration(t.total_duration_seconds)], ["Agents", count(status.agents.length)],
  ];
  $("totals").replaceChildren(...cards.map(([label, value]) => {
    const card = el("div", null, "card");
    card.append(el("div", label, "label"), el("div", value, "value"));
    return card;
  }));
}

function renderAgents(agents) {
  fill("agents", agents.map((a) => {
    const rate = Math.round(a.success_rate * 100) + "%";
    const rateClass = "n " + (a.success_rate >= 0.9 ? "success" : a.success_rate < 0.7 ? "error" : "");
    const tr = row([[a.agent_name, "name"], [a.level + " " + a.level_title], [count(a.xp), "n"],
      [count(a.total_invocations), "n"], [rate, rateClass], [a.current_streak, "n"],
      [usd(a.total_cost_usd), "n"], [ago(a.last_active)]]);
    tr.dataset.agent = a.agent_name;
    return tr;
  }), "no agents recorded yet", 8);
  const select = $("f-agent");
  const chosen = select.value;
  const options = [new Option("all", "")].concat(agents.map((a) => new Option(a.agent_name, a.agent_name)));
  select.replaceChildren(...options);
  select.value = agents.some((a) => a.agent_name === chosen) ? chosen : "";
}

function renderEvents(events) {
  fill("events", events.map((e) => row([[utc(e.ended_at)], [e.agent_name, "name"], [e.status, e.status],
    [count(e.total_tokens), "n"], [usd(e.estimated_cost_usd), "n"], [duration(e.duration_seconds), "n"],
    [e.ticket_key || "–", "name"], [e.model_used || "–", "name"]])), "no events", 8);
}

function renderSessions(sessions) {
  fill("sessions", sessions.map((s) => row([[s.session_number], [s.session_id, "name"], [s.session_type],
    [s.status, s.status], [count(s.total_tokens), "n"], [usd(s.total_cost_usd), "n"],
    [(s.agents_invoked || []).join(", "), "name"], [utc(s.ended_at)]])), "no sessions recorded", 8);
}

function emptyChart(id, text) {
  $(id).replaceChildren(el("div", text, "empty"));
}

// Bars of events per hour over the 24 hours up to the latest stored event, successes
// stacked under failures.
function chartEvents(events) {
  if (events.length === 0) return emptyChart("chart-events", "no events yet");
  const hour = 3600 * 1000;
  const ends = events.map((e) => new Date(e.ended_at).getTime());
  const last = Math.floor(Math.max(...ends) / hour);
  const n = 24;
  const first = last - n + 1;
  const ok = new Array(n).fill(0), bad = new Array(n).fill(0);
  events.forEach((e, i) => {
    const slot = Math.floor(ends[i] / hour) - first;
    if (slot < 0) return;
    (e.status === "success" ? ok : bad)[slot] += 1;
  });
  const max = Math.max(1, ...ok.map((v, i) => v + bad[i]));
  const W = 300, H = 140, w = W / n;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H + 14}`, role: "img", "aria-label": "events per hour" });
  for (let i = 0; i < n; i++) {
    const hOk = (ok[i] / max) * H, hBad = (bad[i] / max) * H;
    chart.appendChild(svg("rect", { x: i * w + 0.5, y: H - hOk, width: Math.max(w - 1, 0.5), height: hOk, fill: "var(--good)" }));
    chart.appendChild(svg("rect", { x: i * w + 0.5, y: H - hOk - hBad, width: Math.max(w - 1, 0.5), height: hBad, fill: "var(--bad)" }));
  }
  const label = svg("text", { x: 0, y: H + 12, "font-size": 10, fill: "var(--muted)" });
  // The hours shown, by their start: the last bar is the hour of the latest event.
  label.textContent = "hours " + utc(new Date(first * hour).toISOString()) + " … " +
    utc(new Date(last * hour).toISOString()).slice(11) + " UTC (max " + max + "/h)";
  chart.appendChild(label);
  $("chart-events").replaceChildren(chart);
}

// The cumulative cost of the stored events, oldest to newest.
function chartCost(events) {
  if (events.length === 0) return emptyChart("chart-cost", "no events yet");
  const sorted = events.slice().sort((a, b) => new Date(a.ended_at) - new Date(b.ended_at));
  let sum = 0;
  const points = sorted.map((e) => (sum += Number(e.estimated_cost_usd) || 0));
  const W = 300, H = 140, max = Math.max(sum, 1e-9);
  const step = points.length > 1 ? W / (points.length - 1) : W;
  const path = points.map((v, i) => (i ? "L" : "M") + (i * step).toFixed(1) + " " + (H - (v / max) * H).toFixed(1)).join(" ");
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H + 14}`, role: "img", "aria-label": "cumulative cost" });
  chart.appendChild(svg("path", { d: path, fill: "none", stroke: "var(--accent)", "stroke-width": 2 }));
  const label = svg("text", { x: 0, y: H + 12, "font-size": 10, fill: "var(--muted)" });
  label.textContent = usd(sum) + " over " + points.length + " stored events";
  chart.appendChild(label);
  $("chart-cost").replaceChildren(chart);
}

// Every agent, worst first (lowest success rate, then most invocations), so the one that
// fails most is never hidden below a cut.
function chartSuccess(agents) {
  if (agents.length === 0) return emptyChart("chart-success", "no agents yet");
  const shown = agents.slice().sort((a, b) =>
    a.success_rate - b.success_rate || b.total_invocations - a.total_invocations ||
    a.agent_name.localeCompare(b.agent_name));
  const W = 300, rowH = 18, H = shown.length * rowH;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "success rate per agent" });
  shown.forEach((a, i) => {
    const y = i * rowH;
    const name = svg("text", { x: 0, y: y + 13, "font-size": 11, fill: "var(--fg)" });
    name.textContent = a.agent_name.length > 14 ? a.agent_name.slice(0, 13) + "…" : a.agent_name;
    chart.appendChild(name);
    chart.appendChild(svg("rect", { x: 100, y: y + 3, width: 160, height: 12, fill: "var(--line)" }));
    chart.appendChild(svg("rect", { x: 100, y: y + 3, width: 160 * a.success_rate, height: 12,
      fill: a.success_rate >= 0.9 ? "var(--good)" : a.success_rate < 0.7 ? "var(--bad)" : "var(--warn)" }));
    const pct = svg("text", { x: 266, y: y + 13, "font-size": 11, fill: "var(--muted)" });
    pct.textContent = Math.round(a.success_rate * 100) + "%";
    chart.appendChild(pct);
  });
  $("chart-success").style.height = "auto";
  chart.style.height = Math.max(H, 40) + "px";
  $("chart-success").replaceChildren(chart);
}

function eventQuery() {
  const params = new URLSearchParams({ limit: "50" });
  if ($("f-agent").value) params.set("agent", $("f-agent").value);
  if ($("f-status").value) params.set("status", $("f-status").value);
  if ($("f-ticket").value.trim()) params.set("ticket", $("f-ticket").value.trim());
  return "/api/v1/events?" + params;
}

let refreshing = null, again = false;
async function refresh() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    try {
      const [status, all, filtered, sessions] = await Promise.all([
        getJson("/api/v1/status?limit=0"), getJson("/api/v1/events?limit=100000"),
        getJson(eventQuery()), getJson("/api/v1/sessions?limit=20")]);
      const name = status.project_name || "(unnamed project)";
      $("project").textContent = name;
      document.title = "Agent metrics · " + name;
      $("updated").textContent = "updated " + (status.totals.updated_at ? utc(status.totals.updated_at) + " UTC" : "never") +
        " · generation " + status.generation;
      $("warning").hidden = !status.warning;
      $("warning").textContent = status.warning || "";
      renderTotals(status);
      renderAgents(status.agents);
      renderEvents(filtered.events);
      renderSessions(sessions.sessions);
      chartEvents(all.events);
      chartCost(all.events);
      chartSuccess(status.agents);
      document.body.dataset.generation = String(status.generation);
    } catch (err) {
      $("updated").textContent = "cannot reach the server: " + err.message;
    }
  })();
  await refreshing;
  refreshing = null;
  if (again) { again = false; refresh(); }
}

function connect() {
  const source = new EventSource("/api/v1/stream");
  source.addEventListener("open", () => { $("live").className = "live on"; });
  source.addEventListener("change", () => refresh());
  source.addEventListener("error", () => { $("live").className = "live off"; });
}

for (const id of ["f-agent", "f-status"]) $(id).addEventListener("change", refresh);
$("f-ticket").addEventListener("input", refresh);
$("filters").addEventListener("submit", (e) => e.preventDefault());
refresh();
connect();
