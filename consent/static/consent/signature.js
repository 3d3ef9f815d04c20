// The signature box of the consent page: signature_pad draws on the canvas, and the drawing goes to the
// hidden "signature" field as an SVG data: URL when the form is sent (empty when nothing was drawn, so
// the server refuses it with a message). The submit button is disabled once sent, against double clicks.
(function () {
  "use strict";
  const form = document.getElementById("consent-form");
  const canvas = document.getElementById("signature-canvas");
  if (!form || !canvas || typeof SignaturePad === "undefined") {
    return;
  }
  const input = form.querySelector("input[name=signature]");
  const pad = new SignaturePad(canvas, { penColor: "#000", minWidth: 0.8, maxWidth: 2.4 });

  function fitCanvas() {
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    const strokes = pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(strokes);
  }
  window.addEventListener("resize", fitCanvas);
  fitCanvas();
  // A signature belongs to the decisions above it: after a refused submission the signer signs again.
  input.value = "";

  document.getElementById("signature-clear").addEventListener("click", function () {
    pad.clear();
    input.value = "";
  });
  form.addEventListener("submit", function () {
    input.value = pad.isEmpty() ? "" : pad.toDataURL("image/svg+xml");
    const button = document.getElementById("consent-submit");
    if (button) {
      setTimeout(function () { button.disabled = true; }, 0);
    }
  });
})();
