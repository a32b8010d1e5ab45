/* Progressive enhancement only: every form here works without this file. */
(function () {
  "use strict";
  // The reporter's name and phone, remembered on this phone for the next report.
  var report = document.getElementById("report-form");
  if (report) {
    var keys = ["reporter_name", "reporter_phone"];
    try {
      keys.forEach(function (k) {
        var el = report.elements[k];
        if (el && !el.value) el.value = window.localStorage.getItem("repairhub." + k) || "";
      });
      report.addEventListener("submit", function () {
        keys.forEach(function (k) {
          var el = report.elements[k];
          if (el && el.value) window.localStorage.setItem("repairhub." + k, el.value.trim());
        });
      });
    } catch (e) { /* storage disabled (private mode): nothing to remember */ }
  }
  // Agent desk: Enter moves to the next field; only the last field submits.
  var desk = document.getElementById("desk-form");
  if (desk) {
    desk.addEventListener("keydown", function (ev) {
      var t = ev.target;
      if (ev.key !== "Enter" || t.tagName !== "INPUT" || t.type === "submit" || t.dataset.submitOnEnter) return;
      ev.preventDefault();
      var fields = Array.prototype.filter.call(desk.elements, function (el) {
        return !el.disabled && el.type !== "hidden" && el.type !== "radio" && el.tagName !== "BUTTON" && el.tagName !== "FIELDSET";
      });
      var next = fields[fields.indexOf(t) + 1];
      if (next) next.focus();
    });
  }
})();
