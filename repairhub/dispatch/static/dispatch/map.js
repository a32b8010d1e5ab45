/*
 * RepairHub live map (DP3): technicians, their recent tracks and open orders, on Leaflet.
 *
 * The page holds a container `<div data-live-map data-config="ID" data-snapshot="ID">`, where
 * the IDs name `json_script` elements: the config (tiles, start view, feed URL, refresh period,
 * words in the page language; see dispatch/map_views.py `map_config`) and the first snapshot
 * (dispatch/positions.py `map_snapshot`). When the config has a `feedUrl`, the snapshot is
 * fetched again every `refreshSeconds` while the page is visible, and the map, the legend
 * counts and the list tables beside it (#map-technicians, #map-orders) are redrawn. Without
 * tiles (`tileUrl` empty) the map is a plain background with the same markers and tracks.
 * Without Leaflet at all the tables still refresh.
 *
 * Hook for other pages (the optimised plan page):
 *
 *   window.RepairHubMap.showRoutes(routes)
 *     routes = [{technician: "username or name",
 *                color: "#hex" (optional; a palette colour otherwise),
 *                points: [[lat, lng], ...]  (the path; when empty, the stops in sequence),
 *                stops: [{number: "BX-…", lat, lng, sequence: 1}, ...]}]
 *     Draws each route as a polyline and its stops as numbered markers, on a layer of its own
 *     that replaces the previous routes (the live markers stay), and fits the view to them.
 *     Called before the map exists, the routes are drawn as soon as it does.
 *   window.RepairHubMap.clearRoutes()      removes them.
 *   window.RepairHubMap.refresh()          fetches the feed now.
 *   window.RepairHubMap.map                the Leaflet map, once created.
 */
(function () {
  "use strict";

  var api = (window.RepairHubMap = window.RepairHubMap || {});
  // Dark enough to read on a plain background and on street tiles.
  var PALETTE = ["#0b6bcb", "#d81b60", "#00796b", "#e65100", "#5e35b1", "#558b2f", "#6d4c41", "#00838f", "#ad1457", "#283593"];
  var state = null;
  var pendingRoutes = null;

  function readJson(id) {
    var node = id && document.getElementById(id);
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

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

  function colourOf(key) {
    var sum = 0;
    for (var i = 0; i < key.length; i++) sum = (sum * 31 + key.charCodeAt(i)) >>> 0;
    return PALETTE[sum % PALETTE.length];
  }

  // --- time in the server's time zone -----------------------------------------------------------

  function parts(date, tz) {
    var out = {};
    try {
      new Intl.DateTimeFormat("en-GB", {
        timeZone: tz, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
        second: "2-digit", hour12: false
      }).formatToParts(date).forEach(function (p) { out[p.type] = p.value; });
    } catch (e) {
      out = { month: pad(date.getMonth() + 1), day: pad(date.getDate()), hour: pad(date.getHours()),
        minute: pad(date.getMinutes()), second: pad(date.getSeconds()) };
    }
    if (out.hour === "24") out.hour = "00";
    return out;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function shortTime(iso, tz) {
    var p = parts(new Date(iso), tz);
    return p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
  }

  function clockTime(iso, tz) {
    var p = parts(new Date(iso), tz);
    return p.hour + ":" + p.minute + ":" + p.second;
  }

  function ago(iso, nowIso, text) {
    var minutes = Math.floor((new Date(nowIso) - new Date(iso)) / 60000);
    if (minutes < 1) return text.justNow;
    if (minutes < 60) return fmt(text.minutesAgo, { n: minutes });
    if (minutes < 48 * 60) return fmt(text.hoursAgo, { n: Math.floor(minutes / 60) });
    return fmt(text.daysAgo, { n: Math.floor(minutes / 1440) });
  }

  // --- the map ----------------------------------------------------------------------------------

  function createMap(container, config) {
    if (!window.L) {
      container.classList.add("unavailable");
      container.appendChild(h("p", "map-unavailable", config.text.mapUnavailable));
      return null;
    }
    var L = window.L;
    var map = L.map(container, { maxZoom: 19, attributionControl: Boolean(config.tileUrl) });
    if (config.tileUrl) {
      L.tileLayer(config.tileUrl, { attribution: config.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    if (config.center) map.setView(config.center, config.zoom || 16);
    else map.setView([35, 105], 4);
    return {
      map: map,
      tracks: L.layerGroup().addTo(map),
      orders: L.layerGroup().addTo(map),
      technicians: L.layerGroup().addTo(map),
      routes: L.layerGroup().addTo(map)
    };
  }

  function mark(layer, attrs) {
    var node = layer.getElement && layer.getElement();
    if (!node) return;
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, attrs[key]); });
  }

  function technicianPopup(t, snapshot, text, tz) {
    var box = h("div", "map-popup");
    box.appendChild(h("strong", "", t.name));
    if (t.team) box.appendChild(h("div", "muted", t.team));
    var status = [t.on_duty ? text.onDuty : text.offDuty];
    if (t.stale) status.push(text.stale);
    if (t.at_base) status.push(text.atBase);
    box.appendChild(h("div", "", status.join(" · ")));
    var seen = t.last_position_at
      ? shortTime(t.last_position_at, tz) + "（" + ago(t.last_position_at, snapshot.now, text) + "）"
      : text.never;
    box.appendChild(h("div", "", text.lastSeen + (text.sep || "：") + seen));
    box.appendChild(h("div", "", text.openOrders + (text.sep || "：") + t.open_orders));
    return box;
  }

  function orderPopup(o, text) {
    var box = h("div", "map-popup");
    var link = h("a", "", o.number);
    link.href = o.url;
    box.appendChild(h("strong")).appendChild(link);
    box.appendChild(h("div", "", text.category + (text.sep || "：") + o.category));
    box.appendChild(h("div", "", text.place + (text.sep || "：") + o.place));
    box.appendChild(h("div", "", text.status + (text.sep || "：") + o.status_label + " · " + text.urgency + (text.sep || "：") + o.urgency_label));
    box.appendChild(h("div", "", text.assignee + (text.sep || "：") + (o.assignee_name || text.unassigned)));
    return box;
  }

  function technicianClasses(t) {
    var names = ["tech-marker"];
    if (t.stale) names.push("is-stale");
    if (!t.on_duty) names.push("is-off");
    if (t.at_base) names.push("is-base");
    return names.join(" ");
  }

  function drawMap(snapshot) {
    var m = state.layers;
    if (!m) return;
    var L = window.L;
    var text = state.config.text;
    var tz = state.config.timeZone;
    var statuses = {};
    var urgencies = {};
    snapshot.legend.statuses.forEach(function (s) { statuses[s.code] = s; });
    snapshot.legend.urgencies.forEach(function (u) { urgencies[u.code] = u; });
    var bounds = L.latLngBounds([]);

    m.tracks.clearLayers();
    m.orders.clearLayers();
    m.technicians.clearLayers();

    // Least urgent first, so the urgent circles are drawn on top.
    snapshot.orders.slice().reverse().forEach(function (o) {
      var style = urgencies[o.urgency] || { radius: 8, ring: "" };
      var fill = (statuses[o.status] || {}).color || "#616e7c";
      var circle = L.circleMarker([o.lat, o.lng], {
        radius: style.radius,
        color: style.ring || "#ffffff",
        weight: style.ring ? 3 : 1.5,
        fillColor: fill,
        fillOpacity: 0.9,
        className: "order-marker status-" + o.status + " urgency-" + o.urgency
      });
      circle.bindPopup(orderPopup(o, text));
      circle.addTo(m.orders);
      mark(circle, { "data-number": o.number });
      bounds.extend([o.lat, o.lng]);
    });

    snapshot.technicians.forEach(function (t) {
      var grey = t.stale || !t.on_duty;
      if (t.track && t.track.length > 1) {
        var line = L.polyline(t.track, {
          color: grey ? "#9aa5b1" : colourOf(t.username),
          weight: 3,
          opacity: 0.75,
          dashArray: grey ? "4 6" : null,
          className: "tech-track" + (grey ? " is-stale" : "")
        });
        line.addTo(m.tracks);
        mark(line, { "data-username": t.username });
        t.track.forEach(function (p) { bounds.extend(p); });
      }
      if (t.lat === null || t.lng === null) return;
      var label = h("span", "", (t.name || t.username).charAt(0));
      var marker = L.marker([t.lat, t.lng], {
        icon: L.divIcon({
          className: technicianClasses(t),
          html: label,
          iconSize: [30, 30],
          iconAnchor: [15, 15],
          popupAnchor: [0, -15]
        }),
        title: t.name,
        alt: t.name,
        riseOnHover: true,
        zIndexOffset: grey ? 0 : 1000
      });
      marker.bindPopup(technicianPopup(t, snapshot, text, tz));
      marker.addTo(m.technicians);
      mark(marker, { "data-username": t.username });
      bounds.extend([t.lat, t.lng]);
    });

    if (!state.fitted && bounds.isValid()) {
      state.fitted = true;
      if (!state.config.center) {
        m.map.fitBounds(bounds.pad(0.15), { maxZoom: 17 });
      }
    }
  }

  // --- the list beside the map -------------------------------------------------------------------

  function badge(className, label) { return h("span", "badge " + className, label); }

  function emptyRow(message) {
    var tr = h("tr", "empty");
    var td = h("td", "muted", message);
    td.colSpan = 4;
    tr.appendChild(td);
    return tr;
  }

  function drawTables(snapshot) {
    var text = state.config.text;
    var tz = state.config.timeZone;
    var techBody = document.querySelector("#map-technicians tbody");
    if (techBody) {
      var rows = snapshot.technicians.map(function (t) {
        var tr = h("tr", "tech-row" + (t.stale ? " is-stale" : "") + (t.on_duty ? "" : " is-off"));
        tr.setAttribute("data-username", t.username);
        var name = h("th", "", t.name);
        name.scope = "row";
        if (t.team) name.appendChild(h("div", "muted small", t.team));
        var status = h("td");
        status.appendChild(t.on_duty ? badge("on-duty", text.onDuty) : badge("off-duty", text.offDuty));
        if (t.stale) { status.appendChild(document.createTextNode(" ")); status.appendChild(badge("stale", text.stale)); }
        var seen = h("td");
        if (t.last_position_at) {
          var time = h("time", "", shortTime(t.last_position_at, tz));
          time.setAttribute("datetime", t.last_position_at);
          time.title = ago(t.last_position_at, snapshot.now, text);
          seen.appendChild(time);
        } else {
          seen.appendChild(h("span", "muted", text.never));
        }
        if (t.at_base) seen.appendChild(h("div", "muted small", text.atBase));
        else if (t.lat === null) seen.appendChild(h("div", "muted small", text.noPosition));
        tr.appendChild(name);
        tr.appendChild(status);
        tr.appendChild(seen);
        tr.appendChild(h("td", "", String(t.open_orders)));
        return tr;
      });
      techBody.replaceChildren.apply(techBody, rows.length ? rows : [emptyRow(text.noTechnicians)]);
    }
    var orderBody = document.querySelector("#map-orders tbody");
    if (orderBody) {
      var orderRows = snapshot.orders.map(function (o) {
        var tr = h("tr", "order-row");
        tr.setAttribute("data-number", o.number);
        var head = h("th");
        head.scope = "row";
        var link = h("a", "", o.number);
        link.href = o.url;
        head.appendChild(link);
        head.appendChild(h("div", "muted small", o.category));
        var status = h("td");
        status.appendChild(badge(o.status, o.status_label));
        status.appendChild(document.createTextNode(" "));
        status.appendChild(badge("urgency-" + o.urgency, o.urgency_label));
        var who = o.assignee ? h("td", "", o.assignee_name) : h("td");
        if (!o.assignee) who.appendChild(h("span", "muted", text.unassigned));
        tr.appendChild(head);
        tr.appendChild(status);
        tr.appendChild(h("td", "", o.place));
        tr.appendChild(who);
        return tr;
      });
      orderBody.replaceChildren.apply(orderBody, orderRows.length ? orderRows : [emptyRow(text.noOrders)]);
    }
    setText("#map-technician-count", String(snapshot.technicians.length));
    setText("#map-order-count", String(snapshot.orders.length));
    var unmapped = document.getElementById("map-unmapped");
    if (unmapped) {
      unmapped.hidden = !snapshot.unmapped_orders;
      unmapped.textContent = fmt(text.unmapped, { n: snapshot.unmapped_orders });
    }
  }

  function setText(selector, value) {
    var node = document.querySelector(selector);
    if (node) node.textContent = value;
  }

  function setStatus(message, failed) {
    var node = document.getElementById("map-status");
    if (!node) return;
    node.textContent = message;
    node.classList.toggle("error", Boolean(failed));
  }

  function render(snapshot) {
    if (!snapshot) return;
    state.snapshot = snapshot;
    drawMap(snapshot);
    drawTables(snapshot);
    var empty = !snapshot.orders.length && !snapshot.technicians.some(function (t) { return t.lat !== null; });
    setStatus(fmt(state.config.text.updated, { time: clockTime(snapshot.now, state.config.timeZone) }) +
      (empty ? " · " + state.config.text.noData : ""), false);
  }

  // --- refreshing --------------------------------------------------------------------------------

  function refresh() {
    if (!state || !state.config.feedUrl || document.hidden || state.loading) return;
    state.loading = true;
    fetch(state.config.feedUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.message || String(response.status));
          return body;
        }, function () { throw new Error(String(response.status)); });
      })
      .then(render)
      .catch(function (error) {
        setStatus(fmt(state.config.text.refreshFailed, { reason: error.message }), true);
      })
      .then(function () { state.loading = false; });
  }

  // --- routes of an optimised plan ------------------------------------------------------------------

  function drawRoutes(routes) {
    var m = state && state.layers;
    if (!m) { pendingRoutes = routes; return null; }
    var L = window.L;
    var text = state.config.text;
    m.routes.clearLayers();
    var bounds = L.latLngBounds([]);
    (routes || []).forEach(function (route, i) {
      var colour = route.color || PALETTE[i % PALETTE.length];
      var stops = (route.stops || []).slice().sort(function (a, b) { return a.sequence - b.sequence; });
      var points = route.points && route.points.length ? route.points
        : stops.map(function (s) { return [s.lat, s.lng]; });
      if (points.length > 1) {
        var line = L.polyline(points, { color: colour, weight: 4, opacity: 0.85, className: "plan-route" });
        line.bindTooltip(text.route + (text.sep || "：") + (route.technician || ""), { sticky: true });
        line.addTo(m.routes);
        mark(line, { "data-technician": route.technician || "" });
      }
      points.forEach(function (p) { bounds.extend(p); });
      stops.forEach(function (stop) {
        var label = h("span", "", String(stop.sequence));
        label.style.background = colour;
        var marker = L.marker([stop.lat, stop.lng], {
          icon: L.divIcon({ className: "plan-stop", html: label, iconSize: [24, 24], iconAnchor: [12, 12] }),
          title: fmt(text.stop, { n: stop.sequence }) + " " + (stop.number || ""),
          zIndexOffset: 2000
        });
        var box = h("div", "map-popup");
        box.appendChild(h("strong", "", fmt(text.stop, { n: stop.sequence })));
        box.appendChild(h("div", "", stop.number || ""));
        box.appendChild(h("div", "muted", route.technician || ""));
        marker.bindPopup(box);
        marker.addTo(m.routes);
        mark(marker, { "data-number": stop.number || "", "data-sequence": String(stop.sequence) });
        bounds.extend([stop.lat, stop.lng]);
      });
    });
    if (bounds.isValid()) m.map.fitBounds(bounds.pad(0.15), { maxZoom: 17 });
    return m.routes;
  }

  api.showRoutes = drawRoutes;
  api.clearRoutes = function () {
    pendingRoutes = null;
    if (state && state.layers) state.layers.routes.clearLayers();
  };
  api.refresh = refresh;

  // --- start ---------------------------------------------------------------------------------------

  function start() {
    var container = document.querySelector("[data-live-map]");
    if (!container || state) return;
    var config = readJson(container.getAttribute("data-config")) || {};
    config.text = config.text || {};
    state = { config: config, layers: createMap(container, config), fitted: false, loading: false };
    if (state.layers) api.map = state.layers.map;
    render(readJson(container.getAttribute("data-snapshot")));
    if (pendingRoutes) drawRoutes(pendingRoutes);
    if (config.feedUrl) {
      window.setInterval(refresh, Math.max(5, config.refreshSeconds || 15) * 1000);
      document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
