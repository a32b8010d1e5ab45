/*
 * Position sharing on the technician's phone page (DP3).
 *
 * Sends the phone's position to the dispatcher only when all hold: the technician ticked
 * "共享我的位置（仅在岗时）" (remembered in localStorage on this phone), his profile says he is on
 * duty, and this page is visible. Then it asks the browser for one fix and posts it to
 * /dispatch/position/ at most once every REPORT_MS; the server throttles repeats as well and
 * refuses reports when he is off duty, which stops sharing until the page is reloaded.
 * Ticking the box off, or leaving the page, stops it at once. Errors are shown in plain words.
 */
(function () {
  "use strict";

  var KEY = "repairhub.sharePosition";
  var REPORT_MS = 60000;
  var TICK_MS = 5000;

  function init(box) {
    var consent = box.querySelector("[data-position-consent]");
    var status = box.querySelector("[data-position-status]");
    var tokenInput = box.querySelector("[name=csrfmiddlewaretoken]");
    var onDuty = box.getAttribute("data-on-duty") === "1";
    var timer = null;
    var busy = false;
    var lastTry = 0;
    var halted = false; // refused by the server (off duty, signed out) or by the browser

    function text(name, values) {
      var template = box.getAttribute("data-text-" + name) || "";
      return template.replace(/%\((\w+)\)s/g, function (_m, key) { return values ? values[key] : ""; });
    }

    function say(message, failed) {
      status.textContent = message;
      status.classList.toggle("error", Boolean(failed));
      status.classList.toggle("muted", !failed);
    }

    function clock() {
      return new Date().toLocaleTimeString(document.documentElement.lang || undefined, { hour12: false });
    }

    function remembered() {
      try { return window.localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
    }

    function remember(on) {
      try {
        if (on) window.localStorage.setItem(KEY, "1");
        else window.localStorage.removeItem(KEY);
      } catch (e) { /* private mode: the box simply starts unticked next time */ }
    }

    function active() {
      return onDuty && !halted && consent.checked && !document.hidden;
    }

    function send(pos) {
      var body = {
        latitude: Number(pos.coords.latitude.toFixed(6)),
        longitude: Number(pos.coords.longitude.toFixed(6)),
        accuracy: pos.coords.accuracy === null || pos.coords.accuracy === undefined ? null : Math.round(pos.coords.accuracy),
        recorded_at: new Date(pos.timestamp || Date.now()).toISOString()
      };
      return fetch(box.getAttribute("data-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": tokenInput ? tokenInput.value : ""
        },
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().then(function (reply) {
          if (response.ok) {
            say(text(reply.throttled ? "same" : "sent", { time: clock() }), false);
            return;
          }
          if (response.status === 401 || response.status === 403) {
            halted = true;
            stop();
          }
          say(reply.message || text("failed", { reason: response.status }), true);
        }, function () {
          say(text("failed", { reason: response.status }), true);
        });
      });
    }

    function tick() {
      if (!active() || busy || Date.now() - lastTry < REPORT_MS) return;
      lastTry = Date.now();
      busy = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        if (!active()) { busy = false; return; }
        send(pos).catch(function (error) {
          say(text("failed", { reason: error.message }), true);
        }).then(function () { busy = false; });
      }, function (error) {
        busy = false;
        if (error.code === 1) { // PERMISSION_DENIED: asking again every minute would not help
          halted = true;
          stop();
          say(text("denied"), true);
        } else {
          say(text("unavailable"), true);
        }
      }, { enableHighAccuracy: true, maximumAge: 30000, timeout: 30000 });
    }

    function start() {
      if (timer === null) timer = window.setInterval(tick, TICK_MS);
      if (Date.now() - lastTry >= REPORT_MS) say(text("locating"), false);
      tick();
    }

    function stop() {
      if (timer !== null) window.clearInterval(timer);
      timer = null;
    }

    function update() {
      if (!onDuty) { stop(); say(text("off-duty"), false); return; }
      if (!consent.checked) { stop(); say(text("off"), false); return; }
      if (halted) { stop(); return; }
      if (document.hidden) { stop(); say(text("hidden"), false); return; }
      start();
    }

    if (!navigator.geolocation || !window.fetch) {
      consent.disabled = true;
      say(text("unsupported"), true);
      return;
    }
    consent.checked = remembered();
    consent.addEventListener("change", function () {
      remember(consent.checked);
      halted = false;
      update();
    });
    document.addEventListener("visibilitychange", update);
    update();
  }

  function boot() {
    var box = document.querySelector("[data-position-reporter]");
    if (box) init(box);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
