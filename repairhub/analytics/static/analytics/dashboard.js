/*
 * RepairHub analytics dashboard (AN1, AN6): draws the figures of /api/v1/analytics/dashboard.
 *
 * The page holds `<div data-analytics-dashboard data-config="ID" data-labels="ID">`, where the
 * IDs name `json_script` elements: the config ({api: the dashboard URL with the period and
 * filters, drill: the drill-down page URL with the same, split}) and the words in the page
 * language (views.chart_labels). Every chart point and every number in the tables links to
 * the orders behind it: drill URL + figure, bucket, dim, key, flag (docs/analytics.md).
 * Without ECharts the tables are still filled and opened.
 */
(function () {
  "use strict";

  var root, config, L;
  var charts = [];
  var A = window.RepairHubAnalytics;
  var readJson = A.readJson, fmt = A.fmt, h = A.h, num = A.num, table = A.table;

  function chart(id, option, onClick) {
    var c = A.chart(document.getElementById(id), option, onClick);
    if (c) charts.push(c);
  }

  function drill(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      if (params[k] !== undefined && params[k] !== null && params[k] !== "") {
        parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
      }
    });
    return config.drill + (parts.length ? "&" + parts.join("&") : "");
  }

  function pct(rate) {
    return rate === null || rate === undefined ? "—" : (rate * 100).toFixed(1) + "%";
  }

  function link(text, params) {
    var a = h("a", "", text);
    a.href = drill(params);
    return a;
  }

  function summary(d) {
    var box = document.getElementById("an-summary");
    box.textContent = "";
    var cards = [
      [L.reported, num(d.summary.reported), { figure: "reported" }],
      [L.completed, num(d.summary.completed), { figure: "completed" }],
      [L.successRate, pct(d.summary.success_rate), { figure: "completed", flag: "success" }],
      [L.meanRepairHours, num(d.summary.mean_repair_hours), { figure: "completed" }],
      [L.backlog, num(d.backlog.total), { figure: "backlog" }],
      [L.onTimeRate, pct(d.on_time.rate), { figure: "deadline" }],
      [L.late, num(d.on_time.late), { figure: "deadline", flag: "late" }],
      [L.meanRating, num(d.satisfaction.mean), { figure: "rated" }],
    ];
    cards.forEach(function (c) {
      var a = h("a", "card an-figure");
      a.href = drill(c[2]);
      a.appendChild(h("span", "an-figure-value", c[1]));
      a.appendChild(h("span", "an-figure-label", c[0]));
      box.appendChild(a);
    });
  }

  function volume(v) {
    var splitDim = config.split || "";
    function params(bucket, key) {
      var p = { figure: "reported", bucket: bucket };
      if (splitDim && key !== "other") { p.dim = splitDim; p.key = key; }
      return p;
    }
    chart("chart-volume", {
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: v.buckets },
      yAxis: { type: "value", minInterval: 1 },
      series: v.series.map(function (s) {
        return { name: s.label, type: "line", data: s.data, showSymbol: v.buckets.length < 60 };
      }),
    }, function (p) {
      var s = v.series[p.seriesIndex];
      return drill(params(v.buckets[p.dataIndex], s.key));
    });
    var head = [L.bucket].concat(v.series.map(function (s) { return s.label; }));
    var rows = v.buckets.map(function (b, i) {
      return [b].concat(v.series.map(function (s) {
        return s.data[i] ? link(String(s.data[i]), params(b, s.key)) : "0";
      }));
    });
    rows.push([L.total].concat(v.series.map(function (s) {
      return link(String(s.total), splitDim && s.key !== "other" ? { figure: "reported", dim: splitDim, key: s.key } : { figure: "reported" });
    })));
    table(document.getElementById("table-volume"), head, rows);
  }

  function backlog(b) {
    chart("chart-backlog", {
      grid: { left: 40, right: 16, top: 16, bottom: 40 },
      xAxis: { type: "category", data: b.states.map(function (s) { return s.label; }), axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: L.backlog, type: "bar", data: b.states.map(function (s) { return s.count; }) }],
    }, function (p) {
      return drill({ figure: "backlog", dim: "status", key: b.states[p.dataIndex].status });
    });
    var rows = b.states.map(function (s) {
      return [s.label, link(String(s.count), { figure: "backlog", dim: "status", key: s.status })];
    });
    rows.push([L.total, link(String(b.total), { figure: "backlog" })]);
    rows.push([L.overdue, String(b.overdue)]);
    table(document.getElementById("table-backlog"), [L.state, L.count], rows);
  }

  function onTime(o) {
    var buckets = o.buckets.map(function (b) { return b.bucket; });
    chart("chart-ontime", {
      legend: { top: 0 },
      grid: { left: 40, right: 48, top: 36, bottom: 28 },
      xAxis: { type: "category", data: buckets },
      yAxis: [
        { type: "value", minInterval: 1, name: L.withDeadline },
        { type: "value", min: 0, max: 100, name: "%" },
      ],
      series: [
        { name: L.withDeadline, type: "bar", data: o.buckets.map(function (b) { return b.with_deadline; }) },
        { name: L.onTimeRate, type: "line", yAxisIndex: 1, connectNulls: true,
          data: o.buckets.map(function (b) { return b.rate === null ? null : +(b.rate * 100).toFixed(1); }) },
      ],
    }, function (p) {
      return drill({ figure: "deadline", bucket: buckets[p.dataIndex] });
    });
    var rows = o.buckets.filter(function (b) { return b.with_deadline; }).map(function (b) {
      return [
        b.bucket,
        link(String(b.with_deadline), { figure: "deadline", bucket: b.bucket }),
        link(String(b.on_time), { figure: "deadline", bucket: b.bucket, flag: "on_time" }),
        link(String(b.with_deadline - b.on_time), { figure: "deadline", bucket: b.bucket, flag: "late" }),
        pct(b.rate),
      ];
    });
    rows.push([L.total, link(String(o.with_deadline), { figure: "deadline" }),
      link(String(o.on_time), { figure: "deadline", flag: "on_time" }),
      link(String(o.late), { figure: "deadline", flag: "late" }), pct(o.rate)]);
    table(document.getElementById("table-ontime"), [L.bucket, L.withDeadline, L.onTime, L.late, L.onTimeRate], rows);
  }

  function satisfaction(s) {
    var buckets = s.buckets.map(function (b) { return b.bucket; });
    chart("chart-satisfaction", {
      legend: { top: 0 },
      grid: { left: 40, right: 40, top: 36, bottom: 28 },
      xAxis: { type: "category", data: buckets },
      yAxis: [
        { type: "value", min: 1, max: 5, name: L.meanRating },
        { type: "value", minInterval: 1, name: L.rated },
      ],
      series: [
        { name: L.rated, type: "bar", yAxisIndex: 1, data: s.buckets.map(function (b) { return b.rated; }) },
        { name: L.meanRating, type: "line", connectNulls: true, data: s.buckets.map(function (b) { return b.mean; }) },
      ],
    }, function (p) {
      return drill({ figure: "rated", bucket: buckets[p.dataIndex] });
    });
    var rows = s.buckets.filter(function (b) { return b.rated; }).map(function (b) {
      return [b.bucket, link(String(b.rated), { figure: "rated", bucket: b.bucket }), num(b.mean)];
    });
    s.distribution.forEach(function (d) {
      rows.push([fmt(L.stars, { n: d.rating }), link(String(d.count), { figure: "rated", dim: "rating", key: d.rating }), ""]);
    });
    rows.push([L.total, link(String(s.rated), { figure: "rated" }), num(s.mean)]);
    table(document.getElementById("table-satisfaction"), [L.bucket, L.rated, L.meanRating], rows);
  }

  function faults(f) {
    var rows = f.rows.filter(function (r) { return r.completed; });
    chart("chart-faults", {
      legend: { top: 0 },
      grid: { left: 120, right: 24, top: 36, bottom: 24 },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }), inverse: true },
      xAxis: { type: "value", name: L.hours },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      series: [
        { name: L.mean, type: "bar", data: rows.map(function (r) { return r.mean_hours; }) },
        { name: L.median, type: "bar", data: rows.map(function (r) { return r.median_hours; }) },
        { name: L.longest, type: "bar", data: rows.map(function (r) { return r.longest_hours; }) },
      ],
    }, function (p) {
      return drill({ figure: "completed", dim: "category", key: rows[p.dataIndex].key });
    });
    var body = f.rows.map(function (r) {
      return [
        r.name,
        link(String(r.reported), { figure: "reported", dim: "category", key: r.key }),
        link(String(r.completed), { figure: "completed", dim: "category", key: r.key }),
        pct(r.success_rate), num(r.mean_hours), num(r.median_hours), num(r.longest_hours),
      ];
    });
    var t = f.total;
    body.push([L.total, link(String(t.reported), { figure: "reported" }),
      link(String(t.completed), { figure: "completed" }), "", num(t.mean_hours), num(t.median_hours), num(t.longest_hours)]);
    table(document.getElementById("table-faults"),
      [L.category, L.reported, L.completed, L.successRate, L.meanHours, L.medianHours, L.longestHours], body);
  }

  function draw(d) {
    summary(d);
    volume(d.volume);
    backlog(d.backlog);
    onTime(d.on_time);
    satisfaction(d.satisfaction);
    faults(d.fault_types);
    if (!window.echarts) {
      root.querySelectorAll("details").forEach(function (n) { n.open = true; });
    }
  }

  function status(text, failed) {
    var node = document.getElementById("an-status");
    node.textContent = text;
    node.classList.toggle("error", !!failed);
  }

  function load() {
    status(L.loading);
    fetch(config.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.message || r.status);
          return body;
        });
      })
      .then(function (d) {
        draw(d);
        root.dataset.loaded = "1";
        status(fmt(L.loaded, { start: d.period.start, end: d.period.end }));
      })
      .catch(function (e) { status(fmt(L.failed, { message: e.message }), true); });
  }

  function init() {
    root = document.querySelector("[data-analytics-dashboard]");
    if (!root) return;
    config = readJson(root.dataset.config);
    L = readJson(root.dataset.labels) || {};
    if (!config) return;
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
    load();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
