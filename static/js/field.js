/*
 * Small helpers for the field pages; every page works without them.
 * - The undo after a quick log is offered for a few seconds, then hidden
 *   (not while the keyboard focus or the pointer is on it).
 * - Enter in the person search searches instead of saving the form.
 * - A session that ran out answers an htmx request with the sign-in page:
 *   go there instead of drawing it inside the outing page.
 * - After a save the quick log is cleared here for the next encounter: the
 *   server answers only with what it saved, the form's new key and the
 *   list's new entry (encounters/_quick_log_answer.html).
 */
(function () {
  "use strict";

  function armUndo(root) {
    var banners = (root || document).querySelectorAll("[data-undo-seconds]");
    banners.forEach(function (banner) {
      if (banner.dataset.undoArmed) {
        return;
      }
      banner.dataset.undoArmed = "1";
      var seconds = parseInt(banner.dataset.undoSeconds, 10) || 10;
      function hideLater(delay) {
        window.setTimeout(function () {
          if (!banner.isConnected) {
            return;
          }
          if (banner.contains(document.activeElement) && document.activeElement !== banner) {
            hideLater(2000);
            return;
          }
          if (banner.matches(":hover")) {
            hideLater(2000);
            return;
          }
          var form = banner.querySelector("form");
          if (form) {
            form.remove();
          }
        }, delay);
      }
      hideLater(seconds * 1000);
    });
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.matches || !input.matches("[data-person-search]")) {
      return;
    }
    event.preventDefault();
    if (window.htmx) {
      window.htmx.trigger(input, "search");
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.responseURL && xhr.responseURL.indexOf("/accounts/login/") !== -1) {
      event.detail.shouldSwap = false;
      window.location.assign(xhr.responseURL);
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    armUndo(event.target);
    // Person search results appear under the field; the sticky Save bar would
    // cover them on a phone. Bring them into view above it (scroll-margin in field.css).
    if (event.target && event.target.id === "person-results" && event.target.scrollIntoView) {
      event.target.scrollIntoView({ block: "nearest" });
    }
  });

  // A referral's partner services: offer those of the service kind chosen
  // beside them. Choosing a service of another kind is still refused by the server.
  function fitServices(kindSelect) {
    var form = kindSelect.form;
    if (!form) {
      return;
    }
    var prefix = kindSelect.name.replace(/service_kind$/, "");
    var services = form.querySelector('select[name="' + prefix + 'partner_service"]');
    if (!services) {
      return;
    }
    var kind = kindSelect.value;
    Array.prototype.forEach.call(services.options, function (option) {
      var fits = !kind || !option.dataset.kind || option.dataset.kind === kind;
      option.hidden = !fits;
      option.disabled = !fits;
      if (!fits && option.selected) {
        services.value = "";
      }
    });
  }

  // The quick log as the page drew it: defaults chosen, folds closed, no search
  // results. Its new client_uuid comes in the same answer.
  document.addEventListener("quick-log-saved", function (event) {
    var form = event.target;
    if (!form || form.tagName !== "FORM") {
      return;
    }
    form.reset();
    form.querySelectorAll("details.fold").forEach(function (fold) {
      fold.open = false;
    });
    var results = form.querySelector("#person-results");
    if (results) {
      results.textContent = "";
    }
    form.querySelectorAll("select").forEach(function (select) {
      if (/service_kind$/.test(select.name)) {
        fitServices(select);
      }
    });
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.tagName === "SELECT" && /service_kind$/.test(target.name)) {
      fitServices(target);
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      armUndo(document);
    });
  } else {
    armUndo(document);
  }
})();
