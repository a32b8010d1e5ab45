// Arrival: ask the browser for the technician's position (only when he agrees), then submit.
// Denied, unsupported or slow: submit without a position.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-geolocate]") || form.dataset.located) return;
    var share = form.querySelector("[data-share-position]");
    if (!share || !share.checked || !navigator.geolocation) return;
    event.preventDefault();
    var status = form.querySelector("[data-geo-status]");
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    if (status) { status.hidden = false; status.textContent = status.dataset.locating || ""; }
    var done = function () {
      form.dataset.located = "1";
      if (button) button.disabled = false;
      form.requestSubmit ? form.requestSubmit() : form.submit();
    };
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector("[name=lat]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("[name=lng]").value = pos.coords.longitude.toFixed(6);
      done();
    }, done, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
  });
})();
