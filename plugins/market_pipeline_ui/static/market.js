/* Market pipeline page: polls the JSON endpoints and fills the panels. Vanilla JS, no build step.
 * Every panel fails on its own: an endpoint's `error` is shown in that panel, the rest keeps working.
 * Values are written with textContent only (never innerHTML), so data cannot inject markup. */
(function () {
  "use strict";
  const body = document.body;
  const ROOT = body.dataset.root || "";
  const REFRESH = {
    lag: Number(body.dataset.refreshLag || 5),
    lake: Number(body.dataset.refreshLake || 15),
    freshness: Number(body.dataset.refreshFreshness || 30),
    bars: Number(body.dataset.refreshBars || 60),
    producer: Number(body.dataset.refreshProducer || 10),
  };
  const REQUEST_TIMEOUT_MS = 45000;
  const NUM = new Intl.NumberFormat("en-US");

  // ------------------------------------------------------------------ helpers
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const child of children || []) node.append(child);
    return node;
  }
  function td(text, cls) { return el("td", { class: cls || "", text: text == null ? "–" : String(text) }); }
  function num(v) { return v == null ? "–" : NUM.format(v); }
  function bytes(n) {
    if (n == null) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0, v = n;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? v : v.toFixed(1)) + " " + units[i];
  }
  function duration(seconds) {
    if (seconds == null) return "–";
    const sign = seconds < 0 ? "−" : "", s = Math.abs(seconds);
    if (s < 90) return sign + Math.round(s) + " s";
    if (s < 5400) return sign + (s / 60).toFixed(1) + " min";
    if (s < 172800) return sign + (s / 3600).toFixed(1) + " h";
    return sign + (s / 86400).toFixed(1) + " days";
  }
  // 24-hour UTC times on the chart (uPlot's default is the browser's locale and zone).
  function hhmm(ts, withDate) {
    const iso = new Date(ts * 1000).toISOString();
    return withDate ? iso.slice(0, 10) + " " + iso.slice(11, 16) : iso.slice(11, 16);
  }
  function utc(iso) { return iso ? iso.replace("T", " ").replace(/(\.\d+)?Z$/, "") : "–"; }
  function panelError(id, message) {
    const box = document.querySelector("#" + id + " .panel-error");
    if (!box) return;
    box.hidden = !message;
    box.textContent = message ? "⚠ " + message : "";
  }
  function fillRows(tbody, rows, emptyText, colspan) {
    tbody.replaceChildren();
    if (!rows.length) {
      tbody.append(el("tr", { class: "placeholder" }, [el("td", { colspan: String(colspan), text: emptyText })]));
      return;
    }
    for (const row of rows) tbody.append(row);
  }

  async function getJSON(path) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const resp = await fetch(ROOT + path, { credentials: "same-origin", signal: controller.signal,
                                              headers: { Accept: "application/json" } });
      let data = null;
      try { data = await resp.json(); } catch (e) { data = null; }
      if (!data) return { ok: false, error: "HTTP " + resp.status + " " + resp.statusText + " (no JSON body)" };
      if (resp.status === 401 || resp.status === 403) {
        return { ok: false, data, error: "not logged in to Airflow (HTTP " + resp.status + "): reload the page to log in" };
      }
      if (!resp.ok || data.error) return { ok: false, data, error: data.error || data.detail || ("HTTP " + resp.status) };
      return { ok: true, data };
    } catch (e) {
      const why = e.name === "AbortError" ? "no answer within " + REQUEST_TIMEOUT_MS / 1000 + " s" : e.message;
      return { ok: false, error: "request failed: " + why };
    } finally {
      clearTimeout(timer);
    }
  }

  function every(seconds, fn) {
    let running = false;
    const tick = async () => {
      if (running) return;
      running = true;
      try { await fn(); } finally { running = false; }
    };
    tick();
    return setInterval(tick, seconds * 1000);
  }

  // ------------------------------------------------------------------ lag
  async function refreshLag() {
    const res = await getJSON("/api/lag");
    const tbody = document.querySelector("#lag-table tbody");
    if (!res.ok) {
      panelError("panel-lag", res.error);
      document.getElementById("lag-total").textContent = "unavailable";
      fillRows(tbody, [], "no data: " + res.error, 6);
      body.dataset.lagState = "error";
      return;
    }
    panelError("panel-lag", null);
    const d = res.data;
    const rate = d.throughput_msgs_per_s;
    document.getElementById("lag-total").textContent = num(d.total_lag) + " messages";
    document.getElementById("lag-rate").textContent =
      rate.toFixed(1) + " messages/s (" + num(d.appended_in_window) + " appended in the last " + d.throughput_window_s + " s)";
    document.getElementById("lag-messages").textContent = num(d.total_messages);
    const rows = d.partitions.map((p) => {
      // More than ten minutes of traffic behind (two ingest windows) is a problem; no commit is a warning.
      const behindSeconds = rate ? p.lag / rate : null;
      const bad = behindSeconds != null ? behindSeconds > 600 : p.lag > 100000;
      const cls = bad ? "bad" : p.committed == null ? "warn" : "";
      return el("tr", { class: cls, "data-partition": String(p.partition) }, [
        td(p.partition, "num"), td(num(p.low), "num"), td(num(p.high), "num"),
        td(p.committed == null ? "no commit yet" : num(p.committed), "num" + (p.committed == null ? " warn" : "")),
        td(num(p.lag), "num" + (bad ? " bad" : "")), td(utc(p.last_message_time)),
      ]);
    });
    fillRows(tbody, rows, "the topic has no partitions", 6);
    body.dataset.lagState = "ok";
  }

  // ------------------------------------------------------------------ producer (the simulator's runs)
  async function refreshProducer() {
    const res = await getJSON("/api/producer?limit=10");
    const tbody = document.querySelector("#producer-table tbody");
    const running = document.getElementById("producer-running");
    const lost = document.getElementById("producer-undelivered");
    if (!res.ok) {
      panelError("panel-producer", res.error);
      running.textContent = "unavailable";
      fillRows(tbody, [], "no data: " + res.error, 8);
      return;
    }
    panelError("panel-producer", null);
    const d = res.data;
    const now = d.running;
    running.textContent = now
      ? now.run_id + (now.rate != null ? " at " + num(now.rate) + " ticks/s" : "") + (now.sent != null ? ", " + num(now.sent) + " sent" : "")
      : "no run (the feed is stopped)";
    lost.textContent = num(d.undelivered_total) + (d.runs_with_losses ? " in " + d.runs_with_losses + " run(s)" : "");
    lost.className = "big" + (d.undelivered_total ? " bad" : "");
    const rows = d.runs.map((r) => {
      const bad = (r.undelivered || 0) > 0 || r.state === "failed";
      return el("tr", { class: bad ? "bad" : "", "data-run-id": r.run_id, "data-undelivered": String(r.undelivered ?? "") }, [
        td(r.run_id), td(r.state, r.state === "failed" ? "bad" : r.state === "success" ? "ok" : ""), td(utc(r.start_date)),
        td(r.rate == null ? null : num(r.rate), "num"), td(num(r.sent), "num"), td(num(r.delivered), "num"),
        td(num(r.undelivered), "num" + ((r.undelivered || 0) > 0 ? " bad" : "")),
        td(r.stop_reason || (r.final ? "" : "running")),
      ]);
    });
    fillRows(tbody, rows, "no simulator runs yet", 8);
  }

  // ------------------------------------------------------------------ freshness
  async function refreshFreshness() {
    const res = await getJSON("/api/freshness");
    const status = document.getElementById("fresh-status");
    if (!res.ok) {
      panelError("panel-freshness", res.error);
      document.getElementById("fresh-newest").textContent = "unavailable";
      status.textContent = "unknown";
      status.className = "badge bad";
      return;
    }
    panelError("panel-freshness", null);
    const d = res.data;
    document.getElementById("fresh-newest").textContent = d.newest_event_time ? utc(d.newest_event_time) : "no data yet";
    document.getElementById("fresh-age").textContent =
      d.age_seconds == null ? "–" : d.age_seconds < 0 ? duration(-d.age_seconds) + " ahead of now" : duration(d.age_seconds) + " old";
    const labels = { fresh: ["fresh", "ok"], stale: ["stale", "bad"], empty: ["no data", "warn"], ahead: ["ahead of clock", "warn"] };
    const [text, cls] = labels[d.status] || [d.status, "warn"];
    status.textContent = text;
    status.className = "badge " + cls;
    document.getElementById("fresh-checked").textContent =
      utc(d.checked_at) + " (query cached " + Math.round(d.cache_age_seconds || 0) + " s)";
  }

  // ------------------------------------------------------------------ windows and reports
  async function refreshWindows() {
    const res = await getJSON("/api/windows?limit=12");
    const tbody = document.querySelector("#windows-table tbody");
    if (!res.ok) { panelError("panel-windows", res.error); fillRows(tbody, [], "no data: " + res.error, 9); return; }
    panelError("panel-windows", null);
    const rows = res.data.windows.map((w) => {
      const bad = w.status !== "ok" || w.unaccounted !== 0;
      const cls = bad ? "bad" : w.dlq_count > 0 ? "warn" : "";
      return el("tr", { class: cls, "data-window-end": w.window_end }, [
        td(utc(w.window_start) + " → " + utc(w.window_end).slice(11)),
        td(w.status, w.status === "ok" ? "ok" : "bad"),
        td(num(w.messages_in), "num"), td(num(w.rows_out), "num"),
        td(num(w.dlq_count), "num" + (w.dlq_count ? " warn" : "")),
        td(num(w.unaccounted), "num" + (w.unaccounted ? " bad" : "")),
        td(num(w.data_objects), "num"), td(bytes(w.data_bytes), "num"), td(num(w.dlq_objects), "num"),
      ]);
    });
    fillRows(tbody, rows, "no ingest windows yet (no manifests under the prefix)", 9);
  }

  async function refreshGaps() {
    const res = await getJSON("/api/gaps?days=7");
    const tbody = document.querySelector("#gaps-table tbody");
    const attempts = document.querySelector("#attempts-table tbody");
    const status = document.getElementById("gaps-status");
    if (!res.ok) {
      panelError("panel-gaps", res.error);
      status.textContent = "unavailable";
      fillRows(tbody, [], "no data: " + res.error, 5);
      fillRows(attempts, [], "no data: " + res.error, 6);
      body.dataset.gapsState = "error";
      return;
    }
    panelError("panel-gaps", null);
    const d = res.data;
    status.textContent = d.gaps.length
      ? d.gaps.length + " gap(s): " + num(d.intervals_missing) + " interval(s), " + num(d.messages_missing) +
        " message(s) never landed, " + num(d.unlisted_objects) + " unlisted object(s). Newest window ends " + utc(d.newest_window_end) + "."
      : "No gaps since " + utc(d.since) + (d.newest_window_end ? "; newest window ends " + utc(d.newest_window_end) + "." : "; no windows yet.");
    status.className = d.gaps.length ? "bad" : "muted";
    const rows = d.gaps.map((g) => {
      const keys = el("ul", { class: "checks" }, g.unlisted_keys.map((k) => el("li", { text: k })));
      const more = g.unlisted_objects > g.unlisted_keys.length ? [el("span", { text: "… and " + (g.unlisted_objects - g.unlisted_keys.length) + " more" })] : [];
      return el("tr", { class: "bad", "data-gap-start": g.start }, [
        td(utc(g.start) + " → " + utc(g.end)),
        td(num(g.intervals), "num"), td(num(g.messages_missing), "num bad"),
        td(num(g.unlisted_objects), "num" + (g.unlisted_objects ? " bad" : "")),
        el("td", {}, g.unlisted_keys.length ? [keys, ...more] : ["none"]),
      ]);
    });
    fillRows(tbody, rows, "no gaps: every interval between the first and the newest window has a manifest", 5);
    const open = d.open_attempts.map((a) => {
      const cls = a.state === "running" ? "warn" : "bad";
      return el("tr", { class: cls, "data-window-end": a.window_end }, [
        td(utc(a.window_end)), td(a.scope), td(a.state, cls), td(num(a.attempt), "num"), td(a.mode),
        td(a.error || a.reason || ""),
      ]);
    });
    fillRows(attempts, open, "no open attempts: every attempt so far completed with a manifest", 6);
    body.dataset.gapsState = d.gaps.length ? "gaps" : "ok";
  }

  async function refreshReports() {
    const res = await getJSON("/api/reports?limit=12");
    const tbody = document.querySelector("#reports-table tbody");
    if (!res.ok) { panelError("panel-reports", res.error); fillRows(tbody, [], "no data: " + res.error, 7); return; }
    panelError("panel-reports", null);
    const rows = res.data.reports.map((r) => {
      const failed = r.status !== "passed";
      const list = el("ul", { class: "checks" }, r.failed_checks.map((c) =>
        el("li", { text: c.name + ": " + (c.message || "") + " (expected " + c.expected + ", actual " + c.actual + ")" })));
      const failedCell = el("td", { class: failed ? "bad" : "" }, r.failed_checks.length ? [list] : [r.error || "none"]);
      return el("tr", { class: failed ? "bad" : "", "data-status": r.status }, [
        td(utc(r.interval_start) + " → " + utc(r.interval_end)),
        td(r.status, failed ? "bad" : "ok"),
        td(num(r.athena_rows), "num"), td(num(r.manifest_rows), "num"),
        td((r.checks_total - r.checks_failed) + " / " + r.checks_total, "num"),
        failedCell, td(utc(r.generated_at)),
      ]);
    });
    fillRows(tbody, rows, "no validation reports yet", 7);
  }

  // ------------------------------------------------------------------ chart
  const charts = [];
  const SYMBOL_RE = /^[A-Z][A-Z0-9.]{0,9}$/;
  let knownSymbols = [];

  function chosenSymbols() {
    const raw = document.getElementById("chart-symbols").value.toUpperCase();
    return raw.split(",").map((s) => s.trim()).filter(Boolean);
  }

  async function loadSymbols() {
    const res = await getJSON("/api/symbols");
    if (res.ok) {
      knownSymbols = res.data.symbols;
      document.getElementById("chart-known").textContent =
        knownSymbols.length ? "available: " + knownSymbols.slice(0, 20).join(", ") + (knownSymbols.length > 20 ? " …" : "") : "no bars yet";
      const input = document.getElementById("chart-symbols");
      if (!input.value && knownSymbols.length) input.value = knownSymbols.slice(0, 3).join(",");
    } else {
      document.getElementById("chart-known").textContent = "";
      panelError("panel-chart", "cannot list the symbols with bars: " + res.error);
    }
    return res;
  }

  // Time-axis ticks on whole minutes only (bars are one minute apart): with a few bars uPlot would
  // otherwise tick every few seconds and print the same HH:MM several times.
  const MINUTE_INCRS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

  function minuteLabels(u, splits) {
    const withDate = u.scales.x.max - u.scales.x.min > 20 * 3600;  // a day's range would repeat HH:MM
    return splits.map((ts) => hhmm(ts, withDate));
  }

  function drawChart(symbol, s, width) {
    const fg = getComputedStyle(body).color;
    const axis = { stroke: fg, grid: { stroke: "rgba(128,128,128,0.2)" }, ticks: { stroke: "rgba(128,128,128,0.4)" } };
    const fmt = (digits) => (u, v) => (v == null ? "–" : v.toFixed(digits));
    const holder = el("div", { class: "chart", id: "chart-" + symbol, "data-symbol": symbol, "data-points": String(s.t.length) },
                      [el("h3", { text: symbol + " — " + s.t.length + " one-minute bars" })]);
    const opts = {
      width, height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      scales: {
        // Half a minute of room on each side, so one or two bars are drawn whole, with a label.
        x: { time: true, range: (u, min, max) => [min - 30, max + 30] },
        price: { auto: true },
        vol: { range: (u, min, max) => [0, Math.max(1, max) * 3] },
      },
      series: [
        { label: "Time (UTC)", value: (u, ts) => (ts == null ? "–" : hhmm(ts, true)) },
        { label: "Close (USD)", scale: "price", stroke: "#0969da", width: 2, value: fmt(2) },
        { label: "High (USD)", scale: "price", stroke: "rgba(26,127,55,0.6)", width: 1, dash: [4, 4], value: fmt(2) },
        { label: "Low (USD)", scale: "price", stroke: "rgba(207,34,46,0.6)", width: 1, dash: [4, 4], value: fmt(2) },
        { label: "Volume (shares)", scale: "vol", stroke: "rgba(110,118,129,0.9)", fill: "rgba(110,118,129,0.35)",
          paths: uPlot.paths.bars({ size: [0.6, 40] }), value: (u, v) => (v == null ? "–" : NUM.format(v)) },
      ],
      axes: [
        { ...axis, label: "Time (UTC)", incrs: MINUTE_INCRS,
          values: (u, splits) => {
            const labels = minuteLabels(u, splits);
            holder.dataset.xLabels = labels.join("|");  // what the axis shows, for tests and inspection
            return labels;
          } },
        { ...axis, scale: "price", label: "Price (USD)", size: 70 },
        { ...axis, scale: "vol", side: 1, label: "Volume (shares)", size: 70, grid: { show: false } },
      ],
    };
    document.getElementById("charts").append(holder);
    charts.push(new uPlot(opts, [s.t, s.close, s.high, s.low, s.volume], holder));
  }

  async function refreshChart() {
    if (!knownSymbols.length) await loadSymbols();
    const symbols = chosenSymbols();
    const status = document.getElementById("chart-status");
    const tbody = document.querySelector("#bars-table tbody");
    if (!symbols.length) {
      status.textContent = "Enter one or more symbols (comma-separated) and press Show.";
      body.dataset.chartState = "idle";
      return;
    }
    const bad = symbols.filter((s) => !SYMBOL_RE.test(s));
    if (bad.length || symbols.length > 10) {
      panelError("panel-chart", bad.length ? "not a valid symbol: " + bad.join(", ") : "at most 10 symbols");
      return;
    }
    const minutes = document.getElementById("chart-minutes").value;
    const query = "/api/bars?symbols=" + encodeURIComponent(symbols.join(",")) + "&minutes=" + encodeURIComponent(minutes);
    const res = await getJSON(query);
    while (charts.length) charts.pop().destroy();
    document.getElementById("charts").replaceChildren();
    if (!res.ok) {
      panelError("panel-chart", res.error);
      status.textContent = "no chart: " + res.error;
      tbody.replaceChildren();
      body.dataset.chartState = "error";
      return;
    }
    panelError("panel-chart", null);
    const d = res.data;
    status.textContent = d.rows + " bars from " + utc(d.start) + " to " + utc(d.end) + " UTC (" + d.minutes + " minutes ending at the newest bar)";
    const width = Math.max(320, document.getElementById("charts").clientWidth - 8);
    const rows = [];
    for (const symbol of d.symbols) {
      const s = d.series[symbol];
      if (!s || !s.t.length) {
        rows.push(el("tr", { class: "warn" }, [td(symbol), el("td", { colspan: "8", text: "no bars in this range" })]));
        continue;
      }
      drawChart(symbol, s, width);
      const i = s.t.length - 1;
      rows.push(el("tr", { "data-symbol": symbol }, [
        td(symbol), td(utc(new Date(s.t[i] * 1000).toISOString())),
        td(s.open[i]?.toFixed(2), "num"), td(s.high[i]?.toFixed(2), "num"), td(s.low[i]?.toFixed(2), "num"),
        td(s.close[i]?.toFixed(2), "num"), td(s.vwap[i]?.toFixed(2), "num"), td(num(s.volume[i]), "num"), td(num(s.t.length), "num"),
      ]));
    }
    tbody.replaceChildren(...rows);
    body.dataset.chartState = d.rows ? "ok" : "empty";
  }

  document.getElementById("chart-form").addEventListener("submit", (event) => {
    event.preventDefault();
    refreshChart();
  });
  window.addEventListener("resize", () => {
    const width = Math.max(320, document.getElementById("charts").clientWidth - 8);
    for (const c of charts) c.setSize({ width, height: 260 });
  });

  every(REFRESH.lag, refreshLag);
  every(REFRESH.producer, refreshProducer);
  every(REFRESH.freshness, refreshFreshness);
  every(REFRESH.lake, refreshWindows);
  every(REFRESH.lake, refreshReports);
  every(REFRESH.lake, refreshGaps);
  every(REFRESH.bars, refreshChart);
})();
