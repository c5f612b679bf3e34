// pi-sim console: scenario summary, tag browser, an SVG plot of recorded and interpolated values,
// the request journal and the fault rules (both polled). Plain JavaScript, no libraries.
"use strict";

const BASE = "/__console";
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
let selected = null;

async function getJSON(url) {
  const response = await fetch(url, {headers: {"Accept": "application/json"}});
  const body = await response.json();
  if (!response.ok) throw new Error((body.Errors || [response.statusText]).join("; "));
  return body;
}

function element(tag, attributes = {}, text = null) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

// -- summary ---------------------------------------------------------------------------------

async function loadSummary() {
  const s = await getJSON(`${BASE}/api/summary`);
  $("scenario-name").textContent = s.name;
  $("clock").textContent = `now ${s.now}${s.pinned ? " (pinned)" : ""}`;
  const rows = [["name", s.name], ["description", s.description], ["seed", s.seed], ["now", s.now],
    ["clock", s.pinned ? "pinned" : "moving"], ["time zone", s.timezone], ["auth", s.auth.join(", ")],
    ...s.data_servers.map((d) => [`data server ${d.name}`, `${d.points} points`]),
    ["AF databases", s.databases], ["scenario faults", s.faults],
    ["max items/call", s.limits.max_returned_items_per_call], ["default maxCount", s.limits.default_max_count]];
  const list = $("summary-list");
  list.replaceChildren();
  for (const [key, value] of rows) { list.append(element("dt", {}, key), element("dd", {}, String(value ?? ""))); }
}

// -- tags ------------------------------------------------------------------------------------

async function searchTags(query) {
  const found = await getJSON(`${BASE}/api/tags?q=${encodeURIComponent(query || "*")}`);
  $("tag-count").textContent = `${found.total} tag(s)${found.total > found.tags.length ? `, first ${found.tags.length}` : ""}`;
  const list = $("tag-list");
  list.replaceChildren();
  for (const tag of found.tags) {
    const item = element("li", {"data-tag": tag.name, title: tag.descriptor});
    item.append(element("span", {}, tag.name), " ", element("small", {}, `${tag.type}${tag.units ? " " + tag.units : ""}`));
    item.addEventListener("click", () => { selected = tag.name; markSelected(); plotSelected(); });
    list.append(item);
  }
  markSelected();
}

function markSelected() {
  for (const item of $("tag-list").children) item.classList.toggle("selected", item.dataset.tag === selected);
}

// -- plot ------------------------------------------------------------------------------------

function quality(item) {
  const v = item.Value;
  if (!item.Good || (v && typeof v === "object" && v.IsSystem)) return "bad";
  if (item.Questionable) return "questionable";
  if (item.Substituted) return "substituted";
  return "good";
}

function label(value) {
  if (value && typeof value === "object") return value.Name;
  return String(value);
}

async function plotSelected() {
  if (!selected) return;
  const params = new URLSearchParams({tag: selected, start: $("start").value, end: $("end").value,
                                      interval: $("interval").value});
  $("plot-tag").textContent = selected;
  try {
    const data = await getJSON(`${BASE}/api/values?${params}`);
    draw(data);
    $("plot-status").className = "";
    $("plot-status").textContent = `${data.recorded.length} recorded, ${data.interpolated.length} interpolated, ` +
      `${data.start} to ${data.end}${data.truncated ? " (recorded values cut at the first 20,000)" : ""}`;
  } catch (error) {
    $("plot-status").className = "status-error";
    $("plot-status").textContent = error.message;
  }
}

function draw(data) {
  const width = 820, height = 320, left = 70, right = 12, top = 12, bottom = 28;
  const t0 = Date.parse(data.start), t1 = Math.max(Date.parse(data.end), t0 + 1);
  const all = data.recorded.concat(data.interpolated);
  // numbers on a linear axis; digital states by code; strings by their order of appearance
  const categories = new Map();
  for (const [code, name] of Object.entries(data.states || {})) categories.set(name, Number(code));
  const position = (value) => {
    if (typeof value === "number") return value;
    if (value && typeof value === "object") {
      if (value.IsSystem) return null;
      if (!categories.has(value.Name)) categories.set(value.Name, value.Value);
      return categories.get(value.Name);
    }
    if (typeof value === "string") {
      if (!categories.has(value)) categories.set(value, categories.size);
      return categories.get(value);
    }
    return null;
  };
  const ys = all.map((item) => position(item.Value)).filter((y) => y !== null && Number.isFinite(y));
  let lo = ys.length ? Math.min(...ys) : 0, hi = ys.length ? Math.max(...ys) : 1;
  if (hi === lo) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.08; lo -= pad; hi += pad;
  const x = (t) => left + (Date.parse(t) - t0) / (t1 - t0) * (width - left - right);
  const y = (v) => v === null ? height - bottom - 4 : top + (hi - v) / (hi - lo) * (height - top - bottom - 8);
  const svg = element("svg:svg", {width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
                                  "data-recorded": data.recorded.length, "data-interpolated": data.interpolated.length});
  svg.append(element("svg:line", {class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom}));
  svg.append(element("svg:line", {class: "axis", x1: left, y1: top, x2: left, y2: height - bottom}));
  const ticks = categories.size && ys.every((v) => Number.isInteger(v))
    ? [...categories.entries()].map(([name, v]) => [v, name])
    : [0, 1, 2, 3, 4].map((i) => { const v = lo + pad + (hi - lo - 2 * pad) * i / 4; return [v, v.toPrecision(4)]; });
  for (const [v, text] of ticks) {
    svg.append(element("svg:line", {class: "gridline", x1: left, y1: y(v), x2: width - right, y2: y(v)}));
    svg.append(element("svg:text", {x: left - 4, y: y(v) + 4, "text-anchor": "end"}, text));
  }
  for (let i = 0; i <= 4; i++) {
    const t = new Date(t0 + (t1 - t0) * i / 4).toISOString().slice(11, 19);
    svg.append(element("svg:text", {x: left + (width - left - right) * i / 4, y: height - 8, "text-anchor": "middle"}, t));
  }
  const line = data.interpolated.filter((item) => position(item.Value) !== null)
    .map((item) => `${x(item.Timestamp).toFixed(1)},${y(position(item.Value)).toFixed(1)}`);
  svg.append(element("svg:polyline", {class: "interp", points: line.join(" ")}));
  for (const item of data.interpolated) {
    const dot = element("svg:circle", {class: "interp", r: 2, cx: x(item.Timestamp), cy: y(position(item.Value))});
    dot.append(element("svg:title", {}, `interpolated ${item.Timestamp}: ${label(item.Value)}`));
    svg.append(dot);
  }
  let previous = null;
  for (const item of data.recorded) {  // name each run of system states once, where it starts
    const state = item.Value && typeof item.Value === "object" && item.Value.IsSystem ? item.Value.Name : null;
    if (state && state !== previous) {
      svg.append(element("svg:text", {class: "state bad", x: x(item.Timestamp) + 5, y: height - bottom - 8}, state));
    }
    previous = state;
  }
  for (const item of data.recorded) {
    const kind = quality(item);
    const dot = element("svg:circle", {class: `recorded ${kind}`, r: kind === "good" ? 2.5 : 3.5,
                                       cx: x(item.Timestamp), cy: y(position(item.Value))});
    const flags = ["Questionable", "Substituted", "Annotated"].filter((f) => item[f]).join(", ");
    dot.append(element("svg:title", {}, `${item.Timestamp}: ${label(item.Value)}${item.Good ? "" : " (bad)"}` +
                                          `${flags ? " [" + flags + "]" : ""}`));
    svg.append(dot);
  }
  $("chart").replaceChildren(svg);
}

// -- journal and faults (polled) -------------------------------------------------------------

// Every `ms`, fill the table body `id` with one row of cells per item that `rows(document)` gives.
function poll(url, id, rows, ms) {
  const refresh = async () => {
    try {
      const body = $(id);
      body.replaceChildren(...rows(await getJSON(url)).map((cells) => {
        const row = element("tr");
        row.append(...cells.map(([text, attributes]) => element("td", attributes || {}, String(text ?? ""))));
        return row;
      }));
    } catch (error) { /* the next poll tries again */ }
  };
  refresh();
  setInterval(refresh, ms);
}

const journalRows = (journal) => journal.requests.map((entry) => [
  [(entry.request.loggedDateString || "").slice(11, 23)], [entry.request.method],
  [entry.request.url, {class: "url"}], [entry.response ? entry.response.status : ""]]);

const faultRows = (state) => state.faults.map((rule) => [
  [rule.name], [`${rule.method} ${rule.path}`], [rule.status ?? "delay"], [rule.matched], [rule.fired]])
  .concat(state.enabled ? [] : [[["(all fault rules switched off)"]]]);

$("tag-search").addEventListener("submit", (event) => { event.preventDefault(); searchTags($("tag-query").value); });
$("window").addEventListener("submit", (event) => { event.preventDefault(); plotSelected(); });
loadSummary();
searchTags("*");
poll("/__admin/requests?limit=50", "journal-rows", journalRows, 1000);
poll("/__admin/faults", "fault-rows", faultRows, 2000);
