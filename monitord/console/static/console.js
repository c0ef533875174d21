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
  // The live feed: the wallboard's grid, or a discovery run's progress (which says `done`).
  var grid = document.querySelector("[data-stream]");
  if (!grid || !window.EventSource) return;
  var stale = document.getElementById("stale"), asOf = document.getElementById("as-of");
  var seen = Date.now(), shown = new Date();
  function fresh() { seen = Date.now(); shown = new Date(); if (stale) stale.hidden = true; }
  function lost() { if (!stale) return; asOf.textContent = shown.toLocaleTimeString(); stale.hidden = false; }
  var feed = new EventSource(grid.dataset.stream);
  feed.addEventListener("grid", function (e) { grid.innerHTML = e.data; fresh(); tick(); });
  feed.addEventListener("tick", fresh);
  var over = false;
  feed.addEventListener("done", function () { over = true; feed.close();
    if (window.location.search) window.location.replace(window.location.pathname); // drop ?done=
    else window.location.reload();
  });
  feed.onerror = function () { if (!over) lost(); };
  setInterval(function () { if (!over && Date.now() - seen > 5000) lost(); }, 1000);
})();
