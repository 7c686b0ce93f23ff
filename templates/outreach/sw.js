/*
 * The service worker of the outreach app (served at /sw.js by outreach.views.service_worker).
 *
 * It keeps on the device, and nothing else:
 * - the static files (the allow-list below at install, any other /static/ file once fetched);
 * - the copies of the field pages that those pages keep in its cache (static/js/outbox.js:
 *   Today, and the user's own current outing), fetched from their "offline/" addresses, which
 *   hold no client data.
 * Pages are always asked from the network first; a kept copy is shown only when the network
 * is gone. API answers, other pages and anything but GET pass through untouched, never kept.
 * Everything kept is deleted after {{ idle_ms }} ms without use, on sign-out and on a change of
 * user (static/js/outbox.js), and when the sign-out's answer says so (Clear-Site-Data).
 */
"use strict";

var VERSION = "{{ version }}";
var STATIC_CACHE = "outreach-static-" + VERSION;
var PAGES_CACHE = "outreach-pages";
var ASSETS = {{ assets_json|safe }};
var STATIC_PREFIX = "{{ static_prefix|escapejs }}";
var TODAY = "{{ today_url|escapejs }}";
var OUTING_PAGE = new RegExp("^{{ outing_prefix|escapejs }}[0-9]+/$");
var IDLE_MS = {{ idle_ms }};
var LAST_USED = new Request("/sw.js?last-used");
var OUTBOX_DB = "outreach-outbox";

function isFieldPage(path) {
  return path === TODAY || OUTING_PAGE.test(path);
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC_CACHE).then(function (cache) {
      return cache.addAll(ASSETS);
    }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("outreach-static-") === 0 && name !== STATIC_CACHE;
      }).map(function (name) {
        return caches.delete(name);
      }));
    }).then(function () {
      return self.clients.claim();
    })
  );
});

function wipe() {
  return caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("outreach-") === 0;
    }).map(function (name) {
      return caches.delete(name);
    }));
  }).then(function () {
    return new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(OUTBOX_DB);
      request.onsuccess = request.onerror = request.onblocked = function () {
        resolve();
      };
    });
  });
}

function touch() {
  return caches.open(PAGES_CACHE).then(function (cache) {
    return cache.put(LAST_USED, new Response(String(Date.now())));
  });
}

function idle() {
  return caches.open(PAGES_CACHE).then(function (cache) {
    return cache.match(LAST_USED);
  }).then(function (response) {
    return response ? response.text() : "0";
  }).then(function (text) {
    return Date.now() - parseInt(text, 10) > IDLE_MS;
  });
}

function offlineAnswer() {
  var body = "<!doctype html><html lang=\"{{ language }}\"><head><meta charset=\"utf-8\">"
    + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    + "<title>{{ texts.title|escapejs }}</title>"
    + "<link rel=\"stylesheet\" href=\"" + ASSETS[0] + "\"></head><body><main class=\"site-main\" id=\"main\">"
    + "<h1>{{ texts.title|escapejs }}</h1>"
    + "<p>{{ texts.body|escapejs }}</p>"
    + "<p><a class=\"button\" href=\"" + TODAY + "\">{{ texts.today|escapejs }}</a></p></main></body></html>";
  return new Response(body, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function keptCopy(path) {
  return idle().then(function (expired) {
    if (expired) {
      return wipe().then(offlineAnswer);
    }
    return caches.open(PAGES_CACHE).then(function (cache) {
      return cache.match(path, { ignoreSearch: true, ignoreVary: true });
    }).then(function (response) {
      if (!response) {
        return offlineAnswer();
      }
      return touch().then(function () {
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(
      caches.match(request, { ignoreVary: true }).then(function (cached) {
        return cached || fetch(request).then(function (response) {
          if (response.ok && response.type === "basic") {
            var copy = response.clone();
            caches.open(STATIC_CACHE).then(function (cache) {
              cache.put(request, copy);
            });
          }
          return response;
        });
      })
    );
    return;
  }
  if (request.mode === "navigate" && isFieldPage(url.pathname)) {
    event.respondWith(
      fetch(request).then(function (response) {
        if (response.status >= 502 && response.status <= 504) {
          return keptCopy(url.pathname);
        }
        return response;
      }, function () {
        return keptCopy(url.pathname);
      })
    );
  }
  // Anything else (the API, other pages, the sign-in) goes to the network as if there were no worker.
});
