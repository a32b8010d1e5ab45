/* Draws the plan's routes on the map (map.js draws the live markers first). */
(function () {
  "use strict";
  function draw() {
    var node = document.getElementById("plan-routes-data");
    if (!node || !window.RepairHubMap || !window.RepairHubMap.showRoutes) return;
    try {
      window.RepairHubMap.showRoutes(JSON.parse(node.textContent));
    } catch (e) {
      /* the lists below carry the same plan */
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
