// Shipyard UI behaviour: theme toggle, CSRF header for htmx, metric charts (uPlot), parallel coordinates.
(function () {
  "use strict";

  var PALETTE = ["#0b62c4", "#d1495b", "#2a9d8f", "#e9a23b", "#7b2cbf", "#577590", "#f3722c", "#43aa8b"];
  var DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];

  function themeToggle() {
    var button = document.getElementById("theme-toggle");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var root = document.documentElement;
      var dark = root.dataset.theme ? root.dataset.theme === "dark"
        : window.matchMedia("(prefers-color-scheme: dark)").matches;
      root.dataset.theme = dark ? "light" : "dark";
      try { window.localStorage.setItem("shipyard-theme", root.dataset.theme); } catch (e) { /* private mode */ }
      document.querySelectorAll("[data-chart-src]").forEach(function (el) { drawChart(el, true); });
      document.querySelectorAll("canvas.parcoords").forEach(drawParcoords);
    });
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
  }

  function drawChart(el, redraw) {
    if (typeof uPlot === "undefined") { return; }
    if (el.dataset.drawn === "1" && !redraw) { return; }
    el.dataset.drawn = "1";
    fetch(el.dataset.chartSrc, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("chart data: HTTP " + response.status); }
        return response.json();
      })
      .then(function (payload) { plot(el, payload); })
      .catch(function (error) {
        el.textContent = "Could not load the chart (" + error.message + ").";
      });
  }

  function plot(el, payload) {
    el.textContent = "";
    if (!payload.series.length) {
      el.textContent = "No points to draw.";
      return;
    }
    var tables = payload.series.map(function (s) { return [s.x, s.y]; });
    var data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    var series = [{ label: payload.x_label || "step" }];
    payload.series.forEach(function (s, i) {
      series.push({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length],
        width: 1.5,
        spanGaps: true,
        points: { show: s.x.length < 60 }
      });
    });
    var axisColor = cssVar("--fg");
    var grid = { stroke: cssVar("--line"), width: 1 };
    var width = Math.max(320, el.clientWidth || 600);
    var opts = {
      width: width,
      height: 220,
      scales: { x: { time: !!payload.x_time } },
      series: series,
      legend: { show: payload.series.length <= 30 },
      axes: [
        { stroke: axisColor, grid: grid, ticks: grid, label: payload.x_label || "step" },
        { stroke: axisColor, grid: grid, ticks: grid }
      ]
    };
    new uPlot(opts, data, el);
    if (payload.note) {
      var note = document.createElement("p");
      note.className = "muted";
      note.textContent = payload.note;
      el.appendChild(note);
    }
  }

  function drawParcoords(canvas) {
    var source = document.getElementById(canvas.dataset.source);
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth || 800;
    var height = canvas.clientHeight || 340;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    var ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.clearRect(0, 0, width, height);
    var axes = data.axes;
    if (axes.length < 2) { return; }
    var top = 28, bottom = height - 24, left = 40, right = width - 40;
    var step = (right - left) / (axes.length - 1);
    var scales = axes.map(function (axis) {
      var values = axis.values.filter(function (v) { return v !== null; });
      var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
      if (!isFinite(lo)) { lo = 0; hi = 1; }
      if (lo === hi) { lo -= 0.5; hi += 0.5; }
      return function (v) { return bottom - (v - lo) / (hi - lo) * (bottom - top); };
    });
    ctx.globalAlpha = data.runs.length > 100 ? 0.35 : 0.8;
    var color = cssVar("--accent");
    data.runs.forEach(function (_, r) {
      ctx.beginPath();
      var started = false;
      axes.forEach(function (axis, a) {
        var v = axis.values[r];
        if (v === null) { started = false; return; }
        var x = left + a * step, y = scales[a](v);
        if (started) { ctx.lineTo(x, y); } else { ctx.moveTo(x, y); started = true; }
      });
      ctx.strokeStyle = color;
      ctx.lineWidth = 1;
      ctx.stroke();
    });
    ctx.globalAlpha = 1;
    ctx.fillStyle = cssVar("--fg");
    ctx.strokeStyle = cssVar("--muted");
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    axes.forEach(function (axis, a) {
      var x = left + a * step;
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
      ctx.fillText(axis.name, x, top - 10);
      var values = axis.values.filter(function (v) { return v !== null; });
      if (values.length) {
        ctx.fillText(String(+Math.max.apply(null, values).toPrecision(4)), x, top + 4 - 12 + 24);
        ctx.fillText(String(+Math.min.apply(null, values).toPrecision(4)), x, bottom + 16);
      }
    });
  }

  function init(root) {
    (root || document).querySelectorAll("[data-chart-src]").forEach(function (el) { drawChart(el, false); });
    (root || document).querySelectorAll("canvas.parcoords").forEach(drawParcoords);
  }

  document.addEventListener("DOMContentLoaded", function () {
    themeToggle();
    init(document);
    document.body.addEventListener("htmx:configRequest", function (event) {
      event.detail.headers["X-CSRF-Token"] = csrfToken();
    });
    document.body.addEventListener("htmx:afterSwap", function (event) { init(event.detail.target); });
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.requestSubmit(); });
    });
  });
})();
