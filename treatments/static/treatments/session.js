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
