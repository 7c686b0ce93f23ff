/*
 * Field work without a connection: the outbox on the device, and the copies the service worker keeps.
 *
 * Every page works without this script. With it:
 * - An encounter, a tally tap or a follow-up mark made without a connection (or whose send failed on
 *   the way) is kept in IndexedDB with its client_uuid and shown as "Waiting to send (n)". It is
 *   sent when the connection returns and on the next page load, through the same field views as
 *   the forms (asking for JSON), oldest first, one at a time. The server answers a resend of a
 *   client_uuid with the record already made, so each entry counts exactly once however often
 *   it is sent. An entry is removed only when the server has it; an entry the server refuses
 *   stays, shown with the server's reason, until the worker corrects or removes it.
 * - A session that ended while offline stops the sending and says so; nothing is lost.
 * - Today and the worker's own current outing are kept for the service worker (/sw.js) from
 *   their "offline/" copies, which hold no client data.
 * - Everything kept is deleted on sign-out, when another user signs in on the device, and after
 *   the idle time of the settings (OFFLINE_IDLE_TIMEOUT).
 * Online, the forms go to the server as before: this script only looks at the requests.
 */
(function () {
  "use strict";

  var settingsElement = document.getElementById("offline-settings");
  if (!settingsElement || !window.indexedDB || !window.fetch) {
    return;
  }
  var S = JSON.parse(settingsElement.textContent);
  var T = S.texts;
  var DB_NAME = "outreach-outbox";
  var ENTRIES = "entries";
  var META = "meta";
  var PAGES_CACHE = "outreach-pages";
  var LAST_USED = "/sw.js?last-used";
  var RETRY_MS = 20000;
  var FOLD_AFTER = 5;
  var SENT_SHOWN_MS = 10000;
  var KEEP_FRESH_MS = 5 * 60 * 1000;
  var sentAny = false;
  var foldOpen = false;
  var isCopy = !!document.querySelector("meta[name=outreach-offline-copy]");
  var keepMeta = document.querySelector("meta[name=outreach-keep-offline]");
  var state = { flushing: false, signedOut: false, serverError: false, finished: false, sent: false };

  // IndexedDB ---------------------------------------------------------------------------

  var dbPromise = null;

  function openDb() {
    if (dbPromise) {
      return dbPromise;
    }
    dbPromise = new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore(ENTRIES, { keyPath: "uuid" });
        db.createObjectStore(META);
      };
      request.onsuccess = function () {
        var db = request.result;
        // The service worker deletes the database after the idle time: let it.
        db.onversionchange = function () {
          db.close();
          dbPromise = null;
        };
        resolve(db);
      };
      request.onerror = function () {
        dbPromise = null;
        reject(request.error);
      };
    });
    return dbPromise;
  }

  function withStore(name, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(name, mode);
        var result;
        Promise.resolve(work(transaction.objectStore(name))).then(function (value) {
          result = value;
        });
        transaction.oncomplete = function () {
          resolve(result);
        };
        transaction.onerror = transaction.onabort = function () {
          reject(transaction.error);
        };
      });
    });
  }

  function asPromise(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () {
        resolve(request.result);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  function allEntries() {
    return withStore(ENTRIES, "readonly", function (store) {
      return asPromise(store.getAll());
    }).then(function (entries) {
      return (entries || []).sort(function (a, b) {
        return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0;
      });
    });
  }

  function putEntry(entry) {
    return withStore(ENTRIES, "readwrite", function (store) {
      store.put(entry);
    });
  }

  function deleteEntry(uuid) {
    return withStore(ENTRIES, "readwrite", function (store) {
      store.delete(uuid);
    });
  }

  function getMeta(key) {
    return withStore(META, "readonly", function (store) {
      return asPromise(store.get(key));
    });
  }

  function setMeta(key, value) {
    return withStore(META, "readwrite", function (store) {
      store.put(value, key);
    });
  }

  function clearStores() {
    return withStore(ENTRIES, "readwrite", function (store) {
      store.clear();
    }).then(function () {
      return withStore(META, "readwrite", function (store) {
        store.clear();
      });
    });
  }

  // The caches of the service worker -----------------------------------------------------

  function hasCaches() {
    return typeof window.caches !== "undefined";
  }

  function clearCaches() {
    if (!hasCaches()) {
      return Promise.resolve();
    }
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("outreach-") === 0;
      }).map(function (name) {
        return caches.delete(name);
      }));
    });
  }

  /** Delete all the device keeps: the outbox and the kept pages and files. */
  function wipeDevice() {
    return Promise.all([clearStores().catch(function () {}), clearCaches().catch(function () {})]);
  }

  function touch() {
    if (!hasCaches()) {
      return Promise.resolve();
    }
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.put(LAST_USED, new Response(String(Date.now())));
    });
  }

  function lastUsed() {
    if (!hasCaches()) {
      return Promise.resolve(null);
    }
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(LAST_USED);
    }).then(function (response) {
      return response ? response.text().then(function (text) { return parseInt(text, 10); }) : null;
    });
  }

  /**
   * Keep the copy of this page for the service worker, or forget it where none may be kept. A copy
   * kept in the last minutes is kept as it is (one request less per page load), unless `fresh`
   * asks for the tally's count of now.
   */
  function keepThisPage(fresh) {
    if (!hasCaches() || isCopy || !navigator.onLine) {
      return Promise.resolve();
    }
    var path = window.location.pathname;
    if (!keepMeta) {
      return caches.open(PAGES_CACHE).then(function (cache) {
        return cache.delete(path);
      });
    }
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(path);
    }).then(function (kept) {
      var keptAt = kept ? parseInt(kept.headers.get("X-Kept-At"), 10) || 0 : 0;
      // Only the outing page's copy is kept a while: Today's lists the outings, which change as they start.
      var outingPage = !!document.querySelector(".tally__form");
      if (!fresh && outingPage && Date.now() - keptAt < KEEP_FRESH_MS) {
        return null;
      }
      return fetchCopy(path);
    });
  }

  function fetchCopy(path) {
    return fetch(keepMeta.content, { credentials: "same-origin", redirect: "error", cache: "no-store" })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("text/html") !== 0) {
          return caches.open(PAGES_CACHE).then(function (cache) {
            return cache.delete(path);
          });
        }
        return response.text().then(function (body) {
          return caches.open(PAGES_CACHE).then(function (cache) {
            var headers = { "Content-Type": type, "X-Kept-At": String(Date.now()) };
            return cache.put(path, new Response(body, { headers: headers }));
          });
        });
      })
      .catch(function () {});
  }

  var keepTimer = null;
  function keepSoon() {
    window.clearTimeout(keepTimer);
    keepTimer = window.setTimeout(function () {
      keepThisPage(true);
    }, 1500);
  }

  // Entries ------------------------------------------------------------------------------

  function newUuid() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function fieldsOf(formData) {
    var fields = [];
    formData.forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && typeof value === "string") {
        fields.push([name, value]);
      }
    });
    return fields;
  }

  function fieldValue(fields, name) {
    for (var i = 0; i < fields.length; i += 1) {
      if (fields[i][0] === name) {
        return fields[i][1];
      }
    }
    return null;
  }

  function chipLabels(form) {
    var labels = [];
    ["depth", "gender", "age_group", "needs"].forEach(function (name) {
      form.querySelectorAll("input[name=" + name + "]:checked").forEach(function (input) {
        var label = form.querySelector("label[for='" + input.id + "']");
        if (label && label.textContent.trim()) {
          labels.push(label.textContent.trim());
        }
      });
    });
    return labels.join(", ");
  }

  function kindOf(form) {
    if (!form || !form.matches) {
      return null;
    }
    if (form.id === "quick-log") {
      return "encounter";
    }
    if (form.matches(".tally__form")) {
      return "tally";
    }
    if (form.matches(".follow-up__done")) {
      return "follow_up";
    }
    return null;
  }

  function entryFrom(kind, form, formData) {
    var fields = fieldsOf(formData);
    var uuid = fieldValue(fields, "client_uuid") || newUuid();
    var now = new Date();
    var entry = {
      uuid: uuid,
      kind: kind,
      url: form.getAttribute("action"),
      page: window.location.pathname,
      fields: fields,
      createdAt: now.toISOString(),
      time: ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2),
      summary: "",
      refused: null,
    };
    if (kind === "encounter") {
      entry.summary = chipLabels(form);
      entry.fields = fields.filter(function (field) { return field[0] !== "logged_at"; });
      entry.fields.push(["logged_at", entry.createdAt]);
    } else if (kind === "tally") {
      entry.delta = parseInt(fieldValue(fields, "delta"), 10) || 0;
    } else if (kind === "follow_up") {
      var item = form.closest(".follow-up");
      var due = item && item.querySelector(".follow-up__due");
      entry.summary = due ? due.textContent.replace(/\s+/g, " ").trim() : "";
    }
    return entry;
  }

  function setUuid(form) {
    var input = form.querySelector("input[name=client_uuid]");
    if (input) {
      var uuid = newUuid();
      input.value = uuid;
      input.defaultValue = uuid;
    }
  }

  /** Keep what the form would have sent; the form is ready for the next entry. */
  function keep(kind, form, formData) {
    var entry = entryFrom(kind, form, formData);
    state.sent = false;
    // A new key at once, before the next tap: each entry is its own.
    if (kind === "encounter") {
      form.reset();
      setUuid(form);
    } else if (kind === "tally") {
      setUuid(form);
    }
    return putEntry(entry).then(function () {
      if (kind === "encounter") {
        showQueuedNote(form);
      } else if (kind === "follow_up") {
        form.querySelectorAll("button, input").forEach(function (element) {
          element.disabled = true;
        });
        var note = document.createElement("p");
        note.className = "tag outbox__marked";
        note.textContent = T.queued;
        form.appendChild(note);
      }
      return touch();
    }).then(render);
  }

  function showQueuedNote(form) {
    var log = document.getElementById("log");
    var note = document.getElementById("outbox-queued");
    if (!note) {
      note = document.createElement("p");
      note.id = "outbox-queued";
      note.className = "undo undo--done outbox__queued";
      note.setAttribute("role", "status");
      note.tabIndex = -1;
      (log || form.parentNode).insertBefore(note, (log || form.parentNode).firstChild);
    }
    note.textContent = T.queued;
    note.focus({ preventScroll: false });
  }

  // Sending ------------------------------------------------------------------------------

  function csrfToken() {
    var name = S.csrfCookie + "=";
    var found = document.cookie.split(";").map(function (part) { return part.trim(); }).filter(function (part) {
      return part.indexOf(name) === 0;
    })[0];
    if (found) {
      return decodeURIComponent(found.slice(name.length));
    }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function stillSignedIn() {
    return fetch(S.whoAmI, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok; }, function () { return false; });
  }

  /** Send one entry. Resolves "sent", "refused", "signed-out" or "later" (no connection, server trouble). */
  function send(entry) {
    var body = new URLSearchParams();
    entry.fields.forEach(function (field) { body.append(field[0], field[1]); });
    return fetch(entry.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 0) {
        // Only the sign-in redirects an outbox request: the session ended.
        return "signed-out";
      }
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.ok && json) {
        return response.json().then(function (answer) {
          if (answer.outing_finished) {
            state.finished = true;
          }
          if (entry.kind === "tally" && typeof answer.tallied_contacts === "number") {
            serverTally(entry.url, answer.tallied_contacts);
          }
          return deleteEntry(entry.uuid).then(function () { return "sent"; });
        });
      }
      if (response.status === 403 && !json) {
        // A refused CSRF token (a new session) or a rule: ask who is signed in.
        return stillSignedIn().then(function (signedIn) {
          return signedIn ? refuse(entry, T.not_found, 403) : "signed-out";
        });
      }
      if ([400, 404, 409, 403].indexOf(response.status) !== -1) {
        var reason = json ? response.json().then(function (answer) { return answer.detail || T.not_found; }) :
          Promise.resolve(T.not_found);
        return reason.then(function (detail) { return refuse(entry, detail, response.status); });
      }
      return "later";
    }, function () {
      return "later";
    });
  }

  function refuse(entry, detail, status) {
    entry.refused = detail;
    // 400: a value the form refuses, to be corrected; otherwise the answer says what to do.
    entry.correctable = status === 400;
    return putEntry(entry).then(function () { return "refused"; });
  }

  function flushOnce() {
    return allEntries().then(function (entries) {
      var waiting = entries.filter(function (entry) { return !entry.refused; });
      var index = 0;
      function next() {
        if (index >= waiting.length) {
          return "done";
        }
        var entry = waiting[index];
        index += 1;
        return send(entry).then(function (result) {
          if (result === "signed-out" || result === "later") {
            return result;
          }
          sentAny = sentAny || result === "sent";
          render();
          return next();
        });
      }
      return next();
    });
  }

  var retryTimer = null;

  function flush() {
    if (state.flushing || !navigator.onLine) {
      return Promise.resolve();
    }
    state.flushing = true;
    var run = function () { return flushOnce(); };
    var locked = navigator.locks && navigator.locks.request ?
      navigator.locks.request("outreach-outbox", run) : run();
    return locked.then(function (result) {
      state.flushing = false;
      state.signedOut = result === "signed-out";
      state.serverError = result === "later";
      return allEntries().then(function (entries) {
        var waiting = entries.filter(function (entry) { return !entry.refused; });
        if (result === "done" && waiting.length === 0 && entries.length === 0 && sentAny) {
          state.sent = true;
          keepSoon();
          window.setTimeout(function () {
            state.sent = false;
            render();
          }, SENT_SHOWN_MS);
        }
        if (result === "later" || (result === "done" && waiting.length > 0)) {
          window.clearTimeout(retryTimer);
          retryTimer = window.setTimeout(flush, RETRY_MS);
        }
        return render();
      });
    }, function () {
      state.flushing = false;
      return render();
    });
  }

  // What the page shows ------------------------------------------------------------------

  function interpolate(text, count) {
    return text.replace("%(count)s", String(count));
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function kindLabel(entry) {
    if (entry.kind === "tally") {
      return entry.delta < 0 ? T.tally_minus : T.tally_plus;
    }
    return entry.kind === "follow_up" ? T.follow_up : T.encounter;
  }

  function entryLine(entry) {
    var line = element("li", "outbox__item");
    line.appendChild(element("span", "outbox__time", entry.time));
    line.appendChild(document.createTextNode(" " + kindLabel(entry)));
    if (entry.summary) {
      line.appendChild(element("span", "outbox__summary", " · " + entry.summary));
    }
    return line;
  }

  function button(label, className, action) {
    var node = element("button", className, label);
    node.type = "button";
    node.addEventListener("click", action);
    return node;
  }

  function refusedLine(entry) {
    var line = entryLine(entry);
    line.classList.add("outbox__item--refused");
    line.appendChild(element("p", "outbox__reason", entry.refused));
    var actions = element("p", "outbox__actions");
    var quickLog = document.getElementById("quick-log");
    if (entry.correctable) {
      line.insertBefore(element("p", "outbox__advice", T.fix), null);
    }
    if (entry.correctable && entry.kind === "encounter" && quickLog && quickLog.getAttribute("action") === entry.url) {
      actions.appendChild(button(T.edit, "button--secondary", function () {
        fillForm(quickLog, entry.fields);
        deleteEntry(entry.uuid).then(render);
      }));
    }
    actions.appendChild(button(T.retry, "button--secondary", function () {
      entry.refused = null;
      putEntry(entry).then(flush);
    }));
    actions.appendChild(button(T.remove, "button--secondary", function () {
      if (window.confirm(T.remove_confirm)) {
        deleteEntry(entry.uuid).then(render);
      }
    }));
    line.appendChild(actions);
    return line;
  }

  function fillForm(form, fields) {
    form.reset();
    fields.forEach(function (field) {
      var name = field[0];
      var value = field[1];
      if (name === "logged_at") {
        return;
      }
      form.querySelectorAll("[name='" + name + "']").forEach(function (input) {
        if (input.type === "checkbox" || input.type === "radio") {
          if (input.value === value) {
            input.checked = true;
          }
        } else {
          input.value = value;
        }
      });
    });
    form.querySelectorAll("details").forEach(function (fold) {
      fold.open = true;
    });
    var loggedAt = form.querySelector("input[name=logged_at]");
    if (loggedAt) {
      loggedAt.value = "";
    }
    form.scrollIntoView({ block: "start" });
  }

  function serverTally(url, count) {
    var form = document.querySelector(".tally__form");
    if (form && form.getAttribute("action") === url) {
      var output = form.querySelector(".tally__count");
      if (output) {
        output.dataset.serverCount = String(count);
      }
    }
  }

  function showTally(entries) {
    var form = document.querySelector(".tally__form");
    if (!form) {
      return;
    }
    var output = form.querySelector(".tally__count");
    if (!output) {
      return;
    }
    if (output.dataset.serverCount === undefined) {
      output.dataset.serverCount = output.textContent.trim();
    }
    var url = form.getAttribute("action");
    var pending = entries.filter(function (entry) {
      return entry.kind === "tally" && !entry.refused && entry.url === url;
    });
    var delta = pending.reduce(function (sum, entry) { return sum + entry.delta; }, 0);
    var count = Math.max(0, (parseInt(output.dataset.serverCount, 10) || 0) + delta);
    output.textContent = String(count);
    var minus = form.querySelector(".tally__button--minus");
    if (minus) {
      minus.disabled = count <= 0;
    }
    var note = document.getElementById("tally-waiting");
    if (pending.length) {
      if (!note) {
        note = element("p", "tally__waiting");
        note.id = "tally-waiting";
        form.parentNode.appendChild(note);
      }
      note.textContent = interpolate(T.tally_waiting, pending.length);
    } else if (note) {
      note.remove();
    }
  }

  function render() {
    var panel = document.getElementById("outbox");
    return allEntries().then(function (entries) {
      showTally(entries);
      if (!panel) {
        return;
      }
      var waiting = entries.filter(function (entry) { return !entry.refused; });
      var refused = entries.filter(function (entry) { return entry.refused; });
      panel.textContent = "";
      if (waiting.length) {
        panel.appendChild(element("h2", "outbox__title", interpolate(T.waiting, waiting.length)));
        panel.appendChild(element("p", "outbox__help", T.waiting_help));
        // A long morning's list is folded, so that the page's own content stays in sight.
        var fold = element("details", "outbox__fold");
        fold.open = waiting.length <= FOLD_AFTER || foldOpen;
        fold.addEventListener("toggle", function () { foldOpen = fold.open; });
        fold.appendChild(element("summary", "outbox__summary-toggle", T.show_entries));
        var list = element("ul", "outbox__list");
        var taps = waiting.filter(function (entry) { return entry.kind === "tally"; });
        waiting.filter(function (entry) { return entry.kind !== "tally"; }).forEach(function (entry) {
          list.appendChild(entryLine(entry));
        });
        if (taps.length) {
          list.appendChild(element("li", "outbox__item", interpolate(T.tally_waiting, taps.length)));
        }
        fold.appendChild(list);
        panel.appendChild(fold);
      }
      if (refused.length) {
        panel.appendChild(element("h2", "outbox__title outbox__title--refused", interpolate(T.refused_title, refused.length)));
        panel.appendChild(element("p", "outbox__help", T.refused_help));
        var refusedList = element("ul", "outbox__list");
        refused.forEach(function (entry) {
          refusedList.appendChild(refusedLine(entry));
        });
        panel.appendChild(refusedList);
      }
      var status = null;
      if (!navigator.onLine) {
        status = isCopy ? T.offline_copy + " " + T.offline : T.offline;
      } else if (state.signedOut && waiting.length) {
        status = T.signed_out;
      } else if (state.flushing && waiting.length) {
        status = T.sending;
      } else if (state.serverError && waiting.length) {
        status = T.server_error;
      } else if (state.sent && !refused.length) {
        status = T.sent;
      }
      if (status) {
        var paragraph = element("p", "outbox__status", status);
        if (state.signedOut && navigator.onLine && waiting.length) {
          var link = element("a", "button outbox__sign-in", T.sign_in);
          link.href = S.loginUrl + "?next=" + encodeURIComponent(window.location.pathname);
          paragraph.appendChild(document.createTextNode(" "));
          paragraph.appendChild(link);
        }
        panel.appendChild(paragraph);
      }
      if (state.finished) {
        panel.appendChild(element("p", "outbox__status outbox__status--notice", T.finished));
      }
      panel.hidden = !panel.childNodes.length;
      panel.classList.toggle("outbox--refused", refused.length > 0);
      panel.classList.toggle("outbox--done", status === T.sent);
    });
  }

  // Listening to the forms ----------------------------------------------------------------

  function formDataOf(detail, form) {
    var config = detail.requestConfig;
    if (config && config.formData instanceof FormData) {
      return config.formData;
    }
    return new FormData(form);
  }

  /** The outbox's form whose own request this is (not, say, the person search inside the quick log). */
  function pendingOf(elt) {
    return elt && elt.tagName === "FORM" && kindOf(elt) ? elt : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!navigator.onLine && elt && elt.matches && elt.matches("[data-person-search]")) {
      event.preventDefault();
      var results = document.getElementById("person-results");
      if (results) {
        results.textContent = T.search_offline;
      }
      return;
    }
    var form = pendingOf(elt);
    if (!form) {
      return;
    }
    var formData = formDataOf(event.detail, form);
    if (!navigator.onLine) {
      event.preventDefault();
      keep(kindOf(form), form, formData);
      return;
    }
    // Remembered in case the request is lost on the way (htmx:sendError below).
    event.detail.xhr.outboxForm = form;
    event.detail.xhr.outboxData = formData;
  });

  function keepLost(event) {
    var xhr = event.detail.xhr;
    if (!xhr || !xhr.outboxForm) {
      return false;
    }
    // Sent with the form's client_uuid: if the server got it after all, the resend is answered as a repeat.
    keep(kindOf(xhr.outboxForm), xhr.outboxForm, xhr.outboxData);
    xhr.outboxForm = null;
    return true;
  }

  document.addEventListener("htmx:sendError", keepLost);
  document.addEventListener("htmx:timeout", keepLost);
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr && event.detail.xhr.status;
    if (status >= 502 && status <= 504) {
      keepLost(event);
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.xhr && event.detail.xhr.outboxForm;
    if (event.detail.successful && kindOf(form) === "tally") {
      keepSoon();
    }
    var queued = document.getElementById("outbox-queued");
    if (event.detail.successful && queued && kindOf(form) === "encounter") {
      queued.remove();
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    render();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.getAttribute && form.getAttribute("action") === S.logoutUrl) {
      event.preventDefault();
      allEntries().catch(function () { return []; }).then(function (entries) {
        if (entries.length && !window.confirm(interpolate(T.sign_out_confirm, entries.length))) {
          return;
        }
        wipeDevice().then(function () {
          form.submit();
        });
      });
      return;
    }
    // Plain forms (without htmx) of the outbox: the follow-up marks.
    if (!navigator.onLine && kindOf(form) === "follow_up") {
      event.preventDefault();
      keep("follow_up", form, new FormData(form));
    }
  });

  window.addEventListener("online", function () {
    render();
    flush();
  });
  window.addEventListener("offline", render);

  // Start --------------------------------------------------------------------------------

  function start() {
    return getMeta("user").catch(function () { return null; }).then(function (owner) {
      return lastUsed().catch(function () { return null; }).then(function (used) {
        var otherUser = owner !== undefined && owner !== null && owner !== S.user;
        var idle = used !== null && Date.now() - used > S.idleMs;
        return (otherUser || idle ? wipeDevice() : Promise.resolve()).then(function () {
          return setMeta("user", S.user);
        });
      });
    }).then(touch).then(function () {
      if ("serviceWorker" in navigator) {
        navigator.serviceWorker.register(S.serviceWorker, { scope: "/" }).catch(function () {});
      }
      return keepThisPage(false);
    }).then(render).then(flush).catch(function () {
      render();
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      lastUsed().then(function (used) {
        if (used !== null && Date.now() - used > S.idleMs) {
          wipeDevice().then(function () {
            window.location.reload();
          });
        }
      });
    }
  });

  // Marked for the browser tests: the outbox has looked at what it keeps.
  start().then(function () {
    document.documentElement.dataset.outbox = "ready";
  });
})();
