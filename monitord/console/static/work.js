// monitord console: the engineer's work forms (templates/_milestones.html) with JavaScript.
// A photo is shrunk to at most 1600 px on its long side before it is sent or queued (a phone
// camera's 4-12 MP JPEG becomes ~0.3 MB, which a basement's signal can carry); the on-site
// form asks the phone where it is; and a step queued while there is no signal moves the
// page on (console/work.py LEADS_TO) so that the next step can be taken before it is sent.
// offline.js calls prepare() and taken(); without JavaScript the forms post as they are.
"use strict";
var monitordWork = (function () {
  var LONG_SIDE = 1600, KEEP_BYTES = 1024 * 1024, QUALITY = 0.85, WHERE_MS = 4000;

  function shrink(file) {
    if (!/^image\//.test(file.type) || !window.createImageBitmap) return Promise.resolve(file);
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bmp) {
      var scale = Math.min(1, LONG_SIDE / Math.max(bmp.width, bmp.height));
      if (scale === 1 && file.size <= KEEP_BYTES) { bmp.close(); return file; }
      var c = document.createElement("canvas");
      c.width = Math.max(1, Math.round(bmp.width * scale));
      c.height = Math.max(1, Math.round(bmp.height * scale));
      c.getContext("2d").drawImage(bmp, 0, 0, c.width, c.height);
      bmp.close();
      return new Promise(function (ok) {
        c.toBlob(function (blob) {
          var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
          ok(blob ? new File([blob], name, { type: "image/jpeg" }) : file);
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; }); // the server judges what it cannot read
  }

  // The phone's position into the on-site form's hidden fields, if it gives one in time.
  function locate(form) {
    var lat = form.querySelector("input[name=lat]");
    if (!lat || lat.value || !navigator.geolocation) return Promise.resolve();
    return new Promise(function (ok) {
      navigator.geolocation.getCurrentPosition(function (p) {
        lat.value = String(p.coords.latitude);
        form.querySelector("input[name=lon]").value = String(p.coords.longitude);
        form.querySelector("input[name=accuracy]").value = String(p.coords.accuracy);
        ok();
      }, function () { ok(); }, { enableHighAccuracy: true, timeout: WHERE_MS, maximumAge: 60000 });
    });
  }

  // fields: [[name, value, filename?]] as offline.js keeps them; resolves to the same, with
  // photos shrunk and the location filled in.
  function prepare(form, fields) {
    var where = locate(form);
    return Promise.all(fields.map(function (f) {
      if (typeof f[1] === "string") return f;
      return shrink(f[1]).then(function (file) { return [f[0], file, file.name]; });
    })).then(function (shrunk) {
      return where.then(function () {
        ["lat", "lon", "accuracy"].forEach(function (name) {
          var input = form.querySelector("input[name=" + name + "]");
          shrunk.forEach(function (f) { if (input && f[0] === name) f[1] = input.value; });
        });
        return shrunk;
      });
    });
  }

  // A step (or pause/resume) is queued: show the page as it will be once it is recorded.
  function taken(form, submitter) {
    var work = form.closest("section.work");
    if (!work) return;
    if (form.matches(".pause")) {
      var b = form.querySelector("button[name=action]"), span = form.querySelector("label span");
      var now = b.value, label = b.textContent, reason = span.textContent;
      b.value = form.dataset.other; b.textContent = form.dataset.otherLabel;
      span.textContent = form.dataset.otherReason;
      form.dataset.other = now; form.dataset.otherLabel = label; form.dataset.otherReason = reason;
      return;
    }
    var step = submitter ? submitter.value : "", details = form.closest("details.step");
    if (details && details.dataset.to) work.dataset.status = details.dataset.to;
    if (step === "onway") work.dataset.enRoute = "1";
    show(work);
  }

  function show(work) {
    var first = null;
    work.querySelectorAll("details.step").forEach(function (d) {
      var offered = d.dataset["in"].split(" ").indexOf(work.dataset.status) >= 0 &&
        !(d.dataset.step === "onway" && work.dataset.enRoute === "1");
      d.hidden = !offered;
      if (offered && !first) first = d;
      d.querySelector("button").classList.toggle("primary", d === first);
    });
    if (first) first.open = true;
  }

  if (typeof document !== "undefined") {
    document.addEventListener("toggle", function (e) { // ask early: the answer may be slow
      var d = e.target;
      if (d.matches && d.matches("details.step[data-step=onsite]") && d.open) {
        locate(d.querySelector("form"));
      }
    }, true);
  }
  return { prepare: prepare, taken: taken };
})();
