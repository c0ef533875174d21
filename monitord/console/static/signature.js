// monitord console: the sign-off's signature pad. Pointer events (mouse, pen, touch) draw on
// a canvas; the PNG goes into the form's hidden `signature` field as a data URL. Without
// this script the pad stays hidden and the typed name is the signature.
"use strict";
(function () {
  document.querySelectorAll("form.signoff").forEach(function (form) {
    var box = form.querySelector(".signature"), pad = form.querySelector("canvas.pad");
    var field = form.querySelector("input[name=signature]");
    if (!box || !pad || !pad.getContext) return;
    box.hidden = false;
    var ctx = pad.getContext("2d"), last = null;
    function pen() { ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.lineJoin = "round";
      ctx.strokeStyle = "#10151c"; ctx.fillStyle = "#10151c"; }
    pen();
    if (field.value.indexOf("data:image/png;base64,") === 0) { // a kept draft: show it again
      var img = new Image();
      img.onload = function () { ctx.drawImage(img, 0, 0); };
      img.src = field.value;
    }
    function at(e) {
      var r = pad.getBoundingClientRect();
      return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
    }
    pad.addEventListener("pointerdown", function (e) {
      e.preventDefault();
      if (pad.setPointerCapture) pad.setPointerCapture(e.pointerId);
      last = at(e);
      ctx.beginPath(); ctx.arc(last[0], last[1], 1.5, 0, 2 * Math.PI); ctx.fill();
    });
    pad.addEventListener("pointermove", function (e) {
      if (!last) return;
      e.preventDefault();
      var p = at(e);
      ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
      last = p;
    });
    function end() { if (last) { last = null; field.value = pad.toDataURL("image/png"); } }
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (n) { pad.addEventListener(n, end); });
    form.querySelector("button.clear").addEventListener("click", function () {
      ctx.clearRect(0, 0, pad.width, pad.height); field.value = ""; pen();
    });
  });
})();
