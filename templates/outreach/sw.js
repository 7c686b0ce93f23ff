{% load i18n %}/*
 * The service worker of the outreach app (served at /sw.js by outreach.views.service_worker).
 *
 * It keeps on the device, and nothing else:
 * - the static files (the allow-list below at install, any other /static/ file once fetched);
 * - the copies of the field pages that those pages ask it to keep (Today, and the user's own
 *   current outing), fetched from their "offline/" addresses, which hold no client data.
 * Pages are always asked from the network first; a kept copy is shown only when the network
 * is gone. API answers, other pages and anything but GET pass through untouched, never kept.
 * Everything kept is deleted after {{ idle_ms }} ms without use, on sign-out and on a change of
 * user (static/js/outbox.js asks for that with a "wipe" message).
 */
"use strict";

var VERSION = "{{ version }}";
var STATIC_CACHE = "outreach-static-" + VERSION;
var PAGES_CACHE = "outreach-pages";
var ASSETS = [{% for asset in assets %}"{{ asset|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];
var STATIC_PREFIX = "{{ static_prefix|escapejs }}";
var TODAY = "{{ today_url|escapejs }}";
var OUTING_PAGE = new RegExp("^{{ outing_prefix|escapejs }}[0-9]+/$");
var IDLE_MS = {{ idle_ms }};
var LAST_USED = new Request("/sw.js?last-used");
var OUTBOX_DB = "outreach-outbox";

function isFieldPage(path) {
  return path === TODAY || OUTING_PAGE.test(path);
}

function copyAddressOf(path) {
  return path + "offline/";
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
    + "<title>{{ _('No connection')|escapejs }}</title>"
    + "<link rel=\"stylesheet\" href=\"" + ASSETS[0] + "\"></head><body><main class=\"site-main\" id=\"main\">"
    + "<h1>{{ _('No connection')|escapejs }}</h1>"
    + "<p>{{ _('This page is not kept on this device. Today and your current outing open without a connection once you have opened them online.')|escapejs }}</p>"
    + "<p><a class=\"button\" href=\"" + TODAY + "\">{{ _('Today')|escapejs }}</a></p></main></body></html>";
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

function keep(path) {
  // Only the field pages, and only their copies made for the device (see encounters.views.today_offline).
  if (!isFieldPage(path)) {
    return Promise.resolve(false);
  }
  return fetch(copyAddressOf(path), { credentials: "same-origin", redirect: "error", cache: "no-store" })
    .then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok || type.indexOf("text/html") !== 0) {
        return caches.open(PAGES_CACHE).then(function (cache) {
          return cache.delete(path);
        }).then(function () {
          return false;
        });
      }
      return response.text().then(function (body) {
        var copy = new Response(body, { headers: { "Content-Type": type } });
        return caches.open(PAGES_CACHE).then(function (cache) {
          return cache.put(path, copy);
        }).then(touch).then(function () {
          return true;
        });
      });
    })
    .catch(function () {
      return false;
    });
}

function forget(path) {
  return caches.open(PAGES_CACHE).then(function (cache) {
    return cache.delete(path);
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var reply = event.ports && event.ports[0];
  var work;
  if (data.type === "keep") {
    work = keep(data.path);
  } else if (data.type === "forget") {
    work = forget(data.path);
  } else if (data.type === "wipe") {
    work = wipe();
  } else if (data.type === "touch") {
    work = touch();
  } else {
    return;
  }
  event.waitUntil(work.then(function (result) {
    if (reply) {
      reply.postMessage({ done: true, result: result });
    }
  }));
});
