// monitord console's service worker (served as /console/sw.js, so its scope is /console/):
// sends the offline queue (offline.js) when the browser says the signal is back, even if
// the page that queued it has been closed. It caches no page: pages hold tenants' data.
"use strict";
importScripts("/console/static/offline.js");
self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (e) { e.waitUntil(self.clients.claim()); });
self.addEventListener("sync", function (e) {
  if (e.tag !== "monitord-queue") return;
  // Each entry with the token it was queued with: a 4xx here (a session since renewed)
  // leaves it for the page, which sends it with the fresh one. Rejecting asks the
  // browser to try again later while anything is left.
  e.waitUntil(monitordQueue.drain("", "", false).then(function () {
    return monitordQueue.all();
  }).then(function (left) {
    if (left.length) throw new Error("still queued");
  }));
});
