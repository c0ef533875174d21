// monitord console: the offline queue. A form marked data-queue is sent through here: each
// action gets an idempotency key and the time it was taken, waits in IndexedDB while there
// is no signal, and is sent when the signal returns, one at a time, in the order taken; an
// entry leaves the queue only once the server has answered it. The server records a key
// once (console/actions.py), so a resend after a lost answer changes nothing.
// Loaded by the pages and by the service worker (sw.js); without JavaScript the forms post
// as plain forms. Separate from console.js on purpose.
"use strict";
var monitordQueue = (function (scope) {
  var DB = "monitord-offline", STORE = "actions", LOCK = "monitord-offline-queue";

  function open() {
    return new Promise(function (ok, fail) {
      var req = scope.indexedDB.open(DB, 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
      };
      req.onsuccess = function () { ok(req.result); };
      req.onerror = function () { fail(req.error); };
    });
  }
  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (ok, fail) {
        var t = db.transaction(STORE, mode), out = work(t.objectStore(STORE));
        t.oncomplete = function () { db.close(); ok(out && out.result); };
        t.onerror = t.onabort = function () { db.close(); fail(t.error); };
      });
    });
  }
  function add(entry) { return tx("readwrite", function (s) { return s.add(entry); }); }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function drop(seq) { return tx("readwrite", function (s) { return s.delete(seq); }); }

  function body(entry, csrf) {
    // Files (photos) travel as multipart, as the form itself would send them.
    var multipart = entry.fields.some(function (f) { return typeof f[1] !== "string"; });
    var out = multipart ? new FormData() : new URLSearchParams();
    entry.fields.forEach(function (f) {
      var value = f[0] === "csrf" && csrf ? csrf : f[1];
      if (typeof value === "string") out.append(f[0], value);
      else out.append(f[0], value, f[2] || "photo");
    });
    return out;
  }

  // One entry: "sent" (answered: a page after the redirect), "refused" (a 4xx: the server
  // said no, and will say no again), "wait" (no signal, a 5xx, or signed out: keep it).
  function send(entry, csrf, mayRefuse) {
    return scope.fetch(entry.action, { method: "POST", body: body(entry, csrf),
                                       credentials: "same-origin" })
      .then(function (r) {
        if (new URL(r.url).pathname === "/console/login") return { how: "wait" };
        if (r.ok) return { how: "sent", url: r.url };
        if (r.status >= 400 && r.status < 500 && mayRefuse) {
          return r.text().then(function (page) { return { how: "refused", page: page }; });
        }
        return { how: "wait" };
      }, function () { return { how: "wait" }; });
  }

  // Sends the queue in order, one at a time, under a lock so the page and the service
  // worker never send side by side. `who`: only this user's entries (a shared phone);
  // `csrf`: the page's token, fresher than a queued one. Resolves to what happened to each.
  function drain(who, csrf, mayRefuse) {
    var run = function () {
      return all().then(function (entries) {
        var done = [];
        var mine = entries.filter(function (e) { return !who || e.user === who; });
        var step = function (i) {
          if (i >= mine.length) return done;
          return send(mine[i], csrf, mayRefuse).then(function (r) {
            if (r.how === "wait") return done;
            r.key = mine[i].fields.filter(function (f) { return f[0] === "idem"; })[0][1];
            done.push(r);
            return drop(mine[i].seq).then(function () { return step(i + 1); });
          });
        };
        return step(0);
      });
    };
    if (scope.navigator.locks) return scope.navigator.locks.request(LOCK, run);
    return run();
  }

  return { add: add, all: all, drain: drain };
})(self);

if (typeof document !== "undefined") (function () {
  var page = document.body, who = page.dataset.user || "";
  var skew = Date.parse(page.dataset.now) - Date.now(); // server clock minus ours
  var badge = document.getElementById("queue");
  var chain = Promise.resolve([]);

  function csrfNow() {
    var field = document.querySelector("input[name=csrf]");
    return field ? field.value : "";
  }
  function show() {
    if (!badge) return Promise.resolve();
    return monitordQueue.all().then(function (entries) {
      var n = entries.filter(function (e) { return e.user === who; }).length;
      badge.hidden = n === 0;
      badge.querySelector("b").textContent = String(n);
    });
  }
  function refused(n) {
    var note = document.getElementById("queue-refused");
    if (note && n) { note.hidden = false; note.querySelector("b").textContent = String(n); }
  }
  // Resolves to the outcomes of a pass that starts after every pass asked for before it
  // (each reads the queue afresh, so an action added meanwhile is not left behind).
  function drain() {
    chain = chain.then(function () {
      return monitordQueue.drain(who, csrfNow(), true);
    }).then(function (done) {
      refused(done.filter(function (r) { return r.how === "refused"; }).length);
      return show().then(function () { return done; });
    }).catch(function () { return []; });
    return chain;
  }
  function serialise(form, submitter) {
    var fields = [];
    new FormData(form, submitter).forEach(function (value, name) {
      if (typeof value === "string") fields.push([name, value]);
      else if (value.size) fields.push([name, value, value.name]); // an empty file input: none
    });
    var key = crypto.randomUUID();
    fields.push(["idem", key], ["taken_at", new Date(Date.now() + skew).toISOString()]);
    return { key: key, entry: { action: form.action, user: who, fields: fields } };
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form[data-queue]") || !window.indexedDB || !window.crypto.randomUUID) return;
    e.preventDefault();
    var made = serialise(form, e.submitter);
    monitordQueue.add(made.entry).then(function () {
      var again = e.submitter && e.submitter.hasAttribute("data-again"); // a note: more may follow
      if (e.submitter && !again) { e.submitter.disabled = true; e.submitter.classList.add("queued"); }
      form.querySelectorAll("textarea, input[type=file]").forEach(function (f) { f.value = ""; });
      return show().then(drain);
    }).then(function (done) {
      var mine = (done || []).filter(function (r) { return r.key === made.key; })[0];
      if (mine && mine.how === "sent") location.assign(mine.url); // as the plain form would
      else if (mine && mine.how === "refused") { // the server's page says why, as without JS
        document.open(); document.write(mine.page); document.close();
      }
      else if (navigator.serviceWorker && navigator.serviceWorker.ready) {
        navigator.serviceWorker.ready.then(function (r) {
          return r.sync && r.sync.register("monitord-queue"); // sends even if the tab closes
        }).catch(function () {});
      }
    }, function () { form.submit(); }); // no IndexedDB after all: post it plainly
  });
  window.addEventListener("online", drain);
  setInterval(function () { if (navigator.onLine) drain(); }, 15000);
  if (navigator.serviceWorker) {
    navigator.serviceWorker.register("/console/sw.js", { scope: "/console/" }).catch(function () {});
  }
  drain();
})();
