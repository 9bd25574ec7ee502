// status.js - fills the status page from /status.json every 10 s.
// Every value goes in as text (textContent), never as markup.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

function text(id, value) {
  document.getElementById(id).textContent = value;
}

function when(unix) {
  if (!unix) return "never";
  return new Date(unix * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

function percent(x) {
  return x === null || x === undefined ? "–" : (100 * x).toFixed(1) + "%";
}

function svgEl(name, attrs) {
  const el = document.createElementNS(SVG, name);
  for (const k of Object.keys(attrs)) el.setAttribute(k, attrs[k]);
  return el;
}

function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

// Rows of [label, value, class] into a tbody.
function rows(id, list) {
  const body = document.getElementById(id);
  clear(body);
  for (const [label, value, cls] of list) {
    const tr = document.createElement("tr");
    const a = document.createElement("td");
    const b = document.createElement("td");
    a.textContent = label;
    b.textContent = String(value);
    b.className = "n" + (cls ? " " + cls : "");
    tr.append(a, b);
    body.append(tr);
  }
}

// Stacked bars per minute: new, legacy, 401, 503.
function trafficChart(minutes) {
  const svg = document.getElementById("chart-traffic");
  clear(svg);
  const kinds = ["served_new", "served_legacy", "refused", "unavailable"];
  const cls = ["new", "legacy", "refused", "unavailable"];
  let max = 1;
  for (const m of minutes) max = Math.max(max, kinds.reduce((s, k) => s + m[k], 0));
  const w = 600 / minutes.length;
  minutes.forEach((m, i) => {
    let y = 160;
    kinds.forEach((k, j) => {
      if (!m[k]) return;
      const h = (m[k] / max) * 150;
      y -= h;
      svg.append(svgEl("rect", { x: (i * w + 0.5).toFixed(2), y: y.toFixed(2),
        width: Math.max(w - 1, 1).toFixed(2), height: h.toFixed(2),
        class: "bar-" + cls[j] + " " + cls[j] }));
    });
  });
  svg.dataset.points = String(minutes.filter(m => kinds.some(k => m[k] > 0)).length);
  text("traffic-max", "max " + max + " / min");
}

// The share of active users holding a new credential, per minute.
function progressChart(minutes) {
  const svg = document.getElementById("chart-progress");
  clear(svg);
  for (const f of [0.25, 0.5, 0.75])
    svg.append(svgEl("line", { x1: 0, x2: 600, y1: 160 - f * 150, y2: 160 - f * 150, class: "grid" }));
  const w = 600 / minutes.length;
  const pts = [];
  minutes.forEach((m, i) => {
    if (m.active_any > 0)
      pts.push([(i + 0.5) * w, 160 - (m.active_new / m.active_any) * 150]);
  });
  if (pts.length > 0)
    svg.append(svgEl("polyline", { class: "line",
      points: pts.map(p => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" ") }));
  for (const [x, y] of pts)
    svg.append(svgEl("rect", { class: "dot", x: (x - 2).toFixed(1), y: (y - 3).toFixed(1),
      width: 4, height: 6 }));
  svg.dataset.points = String(pts.length);
}

function render(s) {
  text("version", s.version);
  text("generation", s.config.generation);
  text("loaded", when(s.config.loaded_at));
  const last = s.config.last_reload;
  text("reload", last ? last.result + " at " + when(last.at) : "none since start");
  const r = s.route;
  text("route-legacy", r.legacy || "(not set)");
  text("route-new", r.new || "(not set)");
  text("route-mint", r.mint || "(not set)");
  text("route-shadow", r.shadow ? "on" : "off");
  text("route-retire", r.retire || "off");
  const split = (x) => {
    const all = x.new + x.legacy;
    return all === 0 ? "no traffic" : percent(x.new / all) + " new (" + x.new + " of " + all + ")";
  };
  const routed = s.split.backends;
  const hourTotal = routed.reduce((n, b) => n + b.last_hour, 0);
  rows("backends", routed.length === 0 ? [["no forward-auth yet", ""]] : routed.map(b =>
    [b.backend, (hourTotal ? percent(b.last_hour / hourTotal) : "–") + " of the hour (" +
      b.last_minute + " in the last minute)"]));
  text("split-minute", split(s.split.last_minute));
  text("split-hour", split(s.split.last_hour));
  const p = s.progress;
  text("share", percent(p.share_new));
  text("active-any", p.active_users.any);
  text("active-new", p.active_users.new);
  text("window", p.window_seconds / 60 + " minutes");
  document.getElementById("share-bar").style.width =
    (p.share_new === null ? 0 : 100 * p.share_new).toFixed(1) + "%";
  trafficChart(s.minutes);
  progressChart(s.minutes);
  const errs = Object.entries(s.errors).sort((a, b) => b[1] - a[1]);
  rows("errors", errs.length ? errs.map(([k, v]) => [k, v, "bad"]) : [["none", 0, "ok"]]);
  rows("revocations", Object.entries(s.revocations).map(([k, v]) => [k, v]));
  const c = s.cache, d = s.redis;
  const ms = (x) => x === null ? "–" : (1000 * x).toFixed(2) + " ms";
  rows("health", [
    ["Redis", d.ready ? "answers PING" : "not answering", d.ready ? "ok" : "bad"],
    ["Redis round trips (p50 / p99)", ms(d.latency.p50_seconds) + " / " + ms(d.latency.p99_seconds)],
    ["Redis errors / reconnects", d.errors + " / " + d.reconnects],
    ["progress flushes ok / failed", p.flushes.ok + " / " + p.flushes.error],
    ["cache", c.capacity === 0 ? "disabled" : c.entries + " of " + c.capacity + " entries"],
    ["cache subscribed", c.subscribed ? "yes" : "no", c.subscribed || c.capacity === 0 ? "ok" : "bad"],
    ["cache hits / misses", c.hits + " / " + c.misses],
  ]);
  const problem = document.getElementById("problem");
  problem.hidden = d.ready;
  problem.textContent = d.ready ? "" : "Redis is not answering: forward-auth answers 503.";
  text("updated", when(s.now));
  document.body.dataset.loaded = "1";
}

async function refresh() {
  try {
    const resp = await fetch("/status.json", { cache: "no-store", credentials: "same-origin" });
    if (!resp.ok) throw new Error("/status.json answered " + resp.status);
    render(await resp.json());
  } catch (e) {
    const problem = document.getElementById("problem");
    problem.hidden = false;
    problem.textContent = "Cannot read /status.json: " + e.message;
  }
}

refresh();
setInterval(refresh, 10000);
