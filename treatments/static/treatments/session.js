// The needling session screen (was an inline script: the Content-Security-Policy allows none).
(function () {
  "use strict";
  // A click (or Enter) on a body chart region loads the add-point form narrowed to that region, in place.
  document.addEventListener("click", function (event) {
    var zone = event.target.closest && event.target.closest("a.chart-zone[data-point-form]");
    if (!zone || !window.htmx) { return; }
    event.preventDefault();
    htmx.ajax("GET", zone.getAttribute("data-point-form"), { target: "#point-form", swap: "outerHTML" });
  });
  // The chart's zones are drawn to scale (the front of the neck is narrower than a fingertip): the same
  // regions as a list, a 44 px touch target, load the same narrowed form.
  var picker = document.getElementById("region-picker");
  if (picker && window.htmx) {
    document.querySelectorAll("#body-chart a.chart-zone[data-point-form]").forEach(function (zone) {
      var option = document.createElement("option");
      option.value = zone.getAttribute("data-point-form");
      option.textContent = zone.getAttribute("aria-label").replace(/^Start a point: /, "");
      picker.appendChild(option);
    });
    picker.closest("[data-region-picker]").hidden = false;
    picker.addEventListener("change", function () {
      if (!picker.value) { return; }
      htmx.ajax("GET", picker.value, { target: "#point-form", swap: "outerHTML" });
      picker.value = "";
    });
  }
  // Keyboard first: after a point is added (or a region chosen), the cursor is back on the muscle. Not on
  // page load: an autofocus there scrolled a tablet past the screening flags and the consent banner.
  document.body.addEventListener("htmx:afterSettle", function (event) {
    var path = (event.detail.pathInfo && event.detail.pathInfo.requestPath) || "";
    var muscle = document.getElementById("id_muscle");
    if (muscle && path.indexOf("/points") !== -1) { muscle.focus(); }
  });
  // The body chart follows the point entry down on a tablet in landscape, just under the sticky banner:
  // the banner's height changes with its flags and with the width, so it is measured, not guessed.
  var safety = document.getElementById("safety");
  if (safety && window.ResizeObserver) {
    new ResizeObserver(function () {
      document.documentElement.style.setProperty("--safety-height", safety.offsetHeight + "px");
    }).observe(safety);
  }
})();
