// monitord console: countdowns and the wallboard's live feed. Pages work without it.
"use strict";
(function () {
  var skew = Date.parse(document.body.dataset.now) - Date.now(); // server clock minus ours
  function fmt(s) {
    var sign = s < 0 ? "-" : "", a = Math.floor(Math.abs(s));
    var m = Math.floor(a % 3600 / 60), r = a % 60;
    return sign + Math.floor(a / 3600) + ":" + (m < 10 ? "0" : "") + m + ":" + (r < 10 ? "0" : "") + r;
  }
  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("time.countdown").forEach(function (t) {
      var left = (Date.parse(t.getAttribute("datetime")) - now) / 1000;
      t.textContent = fmt(left);
      if (left < 0) t.parentNode.classList.add("late");
    });
  }
  setInterval(tick, 1000);
  var grid = document.getElementById("grid");
  if (!grid || !window.EventSource) return;
  var stale = document.getElementById("stale"), asOf = document.getElementById("as-of");
  var seen = Date.now(), shown = new Date();
  function fresh() { seen = Date.now(); shown = new Date(); stale.hidden = true; }
  function lost() { asOf.textContent = shown.toLocaleTimeString(); stale.hidden = false; }
  var feed = new EventSource(grid.dataset.stream);
  feed.addEventListener("grid", function (e) { grid.innerHTML = e.data; fresh(); tick(); });
  feed.addEventListener("tick", fresh);
  feed.onerror = lost;
  setInterval(function () { if (Date.now() - seen > 5000) lost(); }, 1000);
})();
