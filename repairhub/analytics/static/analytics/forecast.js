/*
 * RepairHub forecast and hotspot pages (AN8).
 *
 * Forecast: `<div data-analytics-forecast data-config="ID" data-labels="ID">`, where the IDs
 * name `json_script` elements: the config ({api: /api/v1/analytics/forecast with the filters,
 * weeks and level; drill: the drill-down page URL for the history weeks; dim}) and the words
 * in the page language (forecast_views.chart_labels). One card per series: the last weeks'
 * actual counts, the forecast and its interval band, last year's same weeks; its numbers in a
 * table where each history week links to its orders. Then the fitted weekday and month
 * factors of the first series that has them.
 *
 * Hotspots: `<div data-analytics-hotspots data-chart="ID">` names a json_script list of
 * {label, count, url}; a bar per hotspot, a click opens its orders.
 *
 * Without ECharts the tables are still filled and opened.
 */
(function () {
  "use strict";

  var L = {};
  var charts = [];
  var A = window.RepairHubAnalytics;
  var readJson = A.readJson, fmt = A.fmt, h = A.h, num = A.num, table = A.table;

  function chart(node, option, onClick) {
    var c = A.chart(node, option, onClick);
    if (c) charts.push(c);
    return c;
  }

  // --- forecast ---------------------------------------------------------------------------------

  function drillUrl(config, series, week) {
    var url = config.drill + "&bucket=" + encodeURIComponent(week);
    if (series.key !== "total") {
      url += "&dim=" + encodeURIComponent(config.dim) + "&key=" + encodeURIComponent(series.key);
    }
    return url;
  }

  function seriesChart(node, s, config) {
    var weeks = s.history.map(function (w) { return w.week; })
      .concat(s.forecast.map(function (w) { return w.week; }));
    var nh = s.history.length;
    function pad(values, before) {
      var out = [];
      for (var i = 0; i < before; i++) out.push("-");
      return out.concat(values);
    }
    var actual = s.history.map(function (w) { return w.count; });
    var expected = pad(s.forecast.map(function (w) { return w.expected; }), nh);
    if (nh) expected[nh - 1] = actual[nh - 1]; // the forecast line starts where history ends
    var lower = pad(s.forecast.map(function (w) { return w.lower; }), nh);
    var spread = pad(s.forecast.map(function (w) { return w.upper - w.lower; }), nh);
    var lastYear = pad(s.forecast.map(function (w) { return w.last_year === null ? "-" : w.last_year; }), nh);
    chart(node, {
      legend: { top: 0, data: [L.actual, L.expected, L.band, L.lastYear] },
      grid: { left: 44, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: weeks, boundaryGap: false },
      yAxis: { type: "value", minInterval: 1, name: L.count },
      tooltip: {
        trigger: "axis",
        formatter: function (items) {
          var i = items.length ? items[0].dataIndex : 0;
          var lines = [weeks[i]];
          if (i < nh) lines.push(L.actual + ": " + actual[i]);
          else {
            var f = s.forecast[i - nh];
            lines.push(L.expected + ": " + f.expected);
            lines.push(L.band + ": " + f.lower + " – " + f.upper);
            if (f.observed) lines.push(L.observed + ": " + f.observed);
            if (f.last_year !== null) lines.push(L.lastYear + ": " + f.last_year);
          }
          return lines.join("<br>");
        },
      },
      series: [
        { name: L.actual, type: "line", data: actual.concat(pad([], s.forecast.length)), showSymbol: true },
        { name: L.expected, type: "line", data: expected, lineStyle: { type: "dashed" } },
        { name: "lower", type: "line", data: lower, stack: "band", symbol: "none",
          lineStyle: { opacity: 0 }, tooltip: { show: false } },
        { name: L.band, type: "line", data: spread, stack: "band", symbol: "none",
          lineStyle: { opacity: 0 }, areaStyle: { opacity: 0.25 } },
        { name: L.lastYear, type: "line", data: lastYear, symbol: "emptyCircle",
          lineStyle: { type: "dotted", width: 1 } },
      ],
    }, function (p) {
      return p.dataIndex < nh && p.seriesIndex === 0 ? drillUrl(config, s, weeks[p.dataIndex]) : null;
    });
  }

  function seriesCard(s, config, wide) {
    var card = h("section", "card an-card" + (wide ? " an-wide" : ""));
    card.setAttribute("data-series", s.key);
    card.appendChild(h("h2", "", s.label));
    if (s.message) card.appendChild(h("p", s.status === "insufficient" ? "errorlist" : "muted small", s.message));
    if (s.status !== "insufficient") {
      var node = h("div", "an-chart");
      node.setAttribute("role", "img");
      node.setAttribute("aria-label", s.label);
      card.appendChild(node);
      var facts = fmt(L.history, { days: s.history_days, orders: s.orders });
      if (s.dispersion !== null) facts += " " + fmt(L.dispersion, { phi: s.dispersion });
      card.appendChild(h("p", "muted small", facts));
    }
    var details = h("details");
    details.appendChild(h("summary", "", L.numbers));
    var wrap = h("div", "table-wrap");
    details.appendChild(wrap);
    card.appendChild(details);
    var rows = s.history.map(function (w) {
      var a = h("a", "", String(w.count));
      a.href = drillUrl(config, s, w.week);
      return [w.week, a, "", "", "", ""];
    });
    s.forecast.forEach(function (w) {
      rows.push([w.week, "", w.expected, w.lower + " – " + w.upper, w.observed, w.last_year]);
    });
    table(wrap, [L.week, L.actual, L.expected, L.band, L.observed, L.lastYear], rows);
    return { card: card, chartNode: card.querySelector(".an-chart") };
  }

  function effects(root, s) {
    if (!s || !s.effects) return;
    var e = s.effects;
    var card = h("section", "card an-card");
    card.appendChild(h("h2", "", L.weekday + " · " + s.label));
    var node = h("div", "an-chart");
    card.appendChild(node);
    card.appendChild(h("p", "muted small", fmt(L.holiday, {
      f: e.holiday, g: e.makeup, t: (e.trend_per_year >= 0 ? "+" : "") + (e.trend_per_year * 100).toFixed(1) + "%",
    })));
    root.appendChild(card);
    chart(node, {
      grid: { left: 44, right: 16, top: 16, bottom: 28 },
      xAxis: { type: "category", data: L.days },
      yAxis: { type: "value", name: L.factor },
      series: [{ name: L.factor, type: "bar", data: e.weekday }],
    });
    if (!e.months) return;
    var card2 = h("section", "card an-card");
    card2.appendChild(h("h2", "", L.months + " · " + s.label));
    var node2 = h("div", "an-chart");
    card2.appendChild(node2);
    root.appendChild(card2);
    chart(node2, {
      grid: { left: 44, right: 16, top: 16, bottom: 28 },
      xAxis: { type: "category", data: L.monthNames },
      yAxis: { type: "value", name: L.factor },
      series: [{ name: L.factor, type: "bar", data: e.months }],
    });
  }

  function drawForecast(root, config, d) {
    var notes = document.getElementById("fc-notes");
    notes.textContent = "";
    d.notes.forEach(function (n) { notes.appendChild(h("p", "card muted small", n)); });
    var box = document.getElementById("fc-series");
    box.textContent = "";
    var made = d.series.map(function (s, i) {
      var c = seriesCard(s, config, i === 0);
      box.appendChild(c.card);
      return c;
    });
    // Charts are drawn once their nodes are in the page, so they know their size.
    d.series.forEach(function (s, i) {
      if (made[i].chartNode) seriesChart(made[i].chartNode, s, config);
    });
    effects(box, d.series.filter(function (s) { return s.effects; })[0]);
    if (!window.echarts) root.querySelectorAll("details").forEach(function (n) { n.open = true; });
  }

  function status(text, failed) {
    var node = document.getElementById("fc-status");
    node.textContent = text;
    node.classList.toggle("error", !!failed);
  }

  function loadForecast(root) {
    var config = readJson(root.dataset.config);
    L = readJson(root.dataset.labels) || {};
    if (!config) return;
    status(L.loading);
    fetch(config.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.message || r.status);
          return body;
        });
      })
      .then(function (d) {
        drawForecast(root, config, d);
        root.dataset.loaded = "1";
        status(fmt(L.loaded, { today: d.today, level: d.level + "%" }));
      })
      .catch(function (e) { status(fmt(L.failed, { message: e.message }), true); });
  }

  // --- hotspots ---------------------------------------------------------------------------------

  function drawHotspots(root) {
    var rows = readJson(root.dataset.chart) || [];
    L = readJson(root.dataset.labels) || {};
    var node = root.querySelector(".an-chart");
    if (!rows.length || !node) return;
    node.style.height = Math.max(160, 36 * rows.length + 40) + "px";
    chart(node, {
      grid: { left: 8, right: 24, top: 8, bottom: 24, containLabel: true },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.label; }) },
      xAxis: { type: "value", minInterval: 1 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      series: [{ name: L.hotspots, type: "bar", data: rows.map(function (r) { return r.count; }) }],
    }, function (p) { return rows[p.dataIndex].url; });
    root.dataset.loaded = "1";
  }

  function init() {
    var fc = document.querySelector("[data-analytics-forecast]");
    if (fc) loadForecast(fc);
    var hs = document.querySelector("[data-analytics-hotspots]");
    if (hs) drawHotspots(hs);
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
