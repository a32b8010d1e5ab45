/*
 * RepairHub analytics pages: the helpers the dashboard, forecast and hotspot scripts share,
 * as window.RepairHubAnalytics. Loaded (deferred) before them.
 */
(function () {
  "use strict";

  function readJson(id) {
    var node = id && document.getElementById(id);
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  // "%(name)s" placeholders, as the page's translated labels carry them.
  function fmt(template, values) {
    return String(template || "").replace(/%\((\w+)\)s/g, function (_m, key) {
      return values[key] === undefined ? "" : values[key];
    });
  }

  function h(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function num(value) {
    return value === null || value === undefined ? "—" : String(value);
  }

  // A table whose first cell in each row heads it; a cell may be a node (a link).
  function table(container, head, rows) {
    var t = h("table", "list an-table");
    var thead = h("thead");
    var tr = h("tr");
    head.forEach(function (label) { tr.appendChild(h("th", "", label)); });
    thead.appendChild(tr);
    t.appendChild(thead);
    var tbody = h("tbody");
    rows.forEach(function (cells) {
      var row = h("tr");
      cells.forEach(function (cell, i) {
        var td = h(i === 0 ? "th" : "td");
        if (i === 0) td.scope = "row";
        if (cell && cell.nodeType) td.appendChild(cell); else td.textContent = num(cell);
        row.appendChild(td);
      });
      tbody.appendChild(row);
    });
    t.appendChild(tbody);
    container.textContent = "";
    container.appendChild(t);
  }

  // An ECharts chart in `node` (none without ECharts); a click goes where onClick says.
  function chart(node, option, onClick) {
    if (!node || !window.echarts) return null;
    var c = window.echarts.init(node);
    c.setOption(Object.assign({ animation: false, tooltip: { trigger: "axis" } }, option));
    if (onClick) {
      c.on("click", function (p) {
        var url = onClick(p);
        if (url) window.location.href = url;
      });
    }
    return c;
  }

  window.RepairHubAnalytics = { readJson: readJson, fmt: fmt, h: h, num: num, table: table, chart: chart };
})();
