// monitord console: the offline queue. A form marked data-queue is sent through here: each
// action gets an idempotency key and the time it was taken, waits in IndexedDB while there
// is no signal, and is sent when the signal returns, one at a time, in the order taken; an
// entry leaves the queue only once the server has answered it. The server records a key
// once (console/actions.py), so a resend after a lost answer changes nothing.
// The work forms (multipart, with photos) are queued too: their photos, shrunk first
// (work.js), wait as Blobs in IndexedDB beside the text fields.
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
  var at = { hour12: false, timeZone: page.dataset.tz || undefined }; // as the page's times
  var work = typeof monitordWork !== "undefined" ? monitordWork : null;
  var chain = Promise.resolve([]);
  var outcomes = {}; // key -> what the server said, from whichever pass sent it

  function csrfNow() {
    var field = document.querySelector("input[name=csrf]");
    return field ? field.value : "";
  }
  function show() {
    if (!badge) return Promise.resolve();
    return monitordQueue.all().then(function (entries) {
      var mine = entries.filter(function (e) { return e.user === who; }), n = mine.length;
      badge.hidden = n === 0;
      badge.querySelector("b").textContent = String(n);
      badge.querySelector(".words").textContent = n === 1 ? badge.dataset.one : badge.dataset.many;
      var list = badge.querySelector("ol");
      list.textContent = "";
      mine.forEach(function (e) { // what waits, in the order it will be sent, and when taken
        var item = document.createElement("li");
        item.textContent = (e.label || "") + " · " + new Date(e.taken).toLocaleTimeString([], at);
        list.appendChild(item);
      });
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
      done.forEach(function (r) { outcomes[r.key] = r; });
      refused(done.filter(function (r) { return r.how === "refused"; }).length);
      return show().then(function () { return done; });
    }).catch(function () { return []; });
    return chain;
  }
  function serialise(form, submitter) {
    var taken = new Date(Date.now() + skew).toISOString(); // the tap, not the photos' shrinking
    var fields = [];
    new FormData(form, submitter).forEach(function (value, name) {
      if (typeof value === "string") fields.push([name, value]);
      else if (value.size) fields.push([name, value, value.name]); // an empty file input: none
    });
    var ready = work && form.matches("[data-work]") ? work.prepare(form, fields)
                                                    : Promise.resolve(fields);
    var key = crypto.randomUUID();
    return ready.then(function (prepared) {
      prepared.push(["idem", key], ["taken_at", taken]);
      var label = submitter ? submitter.textContent.trim() : "";
      // Not form.action: a control named "action" (the pause form's button) shadows it.
      var to = new URL(form.getAttribute("action") || "", location.href).href;
      return { key: key, entry: { action: to, user: who, fields: prepared,
                                  label: label, taken: taken } };
    });
  }
  function plain(form, submitter) { // as the form would post without JavaScript
    if (submitter && submitter.name) {
      var field = document.createElement("input");
      field.type = "hidden"; field.name = submitter.name; field.value = submitter.value;
      form.appendChild(field);
    }
    HTMLFormElement.prototype.submit.call(form);
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches("form[data-queue]") || !window.indexedDB || !window.crypto.randomUUID) return;
    e.preventDefault();
    var submitter = e.submitter, made = null, queued = false;
    // Taken without signal: it waits, and the page stays where it is when it is sent later
    // (the engineer may be on the next step by then); taken online: the answer is shown.
    var answer = navigator.onLine;
    if (form.dataset.busy) return; // a second tap while the first is being queued
    form.dataset.busy = "1";
    serialise(form, submitter).then(function (m) {
      made = m;
      return monitordQueue.add(m.entry);
    }).then(function () {
      queued = true;
      delete form.dataset.busy;
      if (work && form.closest("section.work")) work.taken(form, submitter); // the next step
      else if (submitter) { submitter.disabled = true; submitter.classList.add("queued"); }
      form.querySelectorAll("textarea, input[type=file], input[name=reason]")
        .forEach(function (f) { f.value = ""; });
      return show().then(drain);
    }).then(function () {
      // A pass already under way (the signal just came back) may have sent it first.
      var mine = answer ? outcomes[made.key] : null;
      if (mine && mine.how === "sent") location.assign(mine.url); // as the plain form would
      else if (mine && mine.how === "refused") { // the server's page says why, as without JS
        document.open(); document.write(mine.page); document.close();
      }
      else if (navigator.serviceWorker && navigator.serviceWorker.ready) {
        navigator.serviceWorker.ready.then(function (r) {
          return r.sync && r.sync.register("monitord-queue"); // sends even if the tab closes
        }).catch(function () {});
      }
    }).catch(function () {
      delete form.dataset.busy;
      if (!queued) plain(form, submitter); // no IndexedDB after all: post it plainly
    });
  });
  window.addEventListener("online", drain);
  setInterval(function () { if (navigator.onLine) drain(); }, 15000);
  if (navigator.serviceWorker) {
    navigator.serviceWorker.register("/console/sw.js", { scope: "/console/" }).catch(function () {});
  }
  drain();
})();
