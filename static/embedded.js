/* Every htmx request carries a fresh App Bridge session token.
   App Bridge only decorates fetch(); htmx uses XMLHttpRequest, so each request is held
   in htmx:confirm until shopify.idToken() settles (never dropped), and the token is set as
   the Authorization header in htmx:configRequest (htmx's own history restore, which skips
   both, is held in htmx:historyCacheMiss instead). A 401 reloads the page, which bounces
   through App Bridge for a new token. */
(function () {
  "use strict";
  var latestToken = null;

  if (window.location.search.indexOf("id_token=") !== -1) {
    var clean = new URL(window.location.href);
    clean.searchParams.delete("id_token");
    window.history.replaceState(window.history.state, "", clean.toString());
  }

  function issueWithToken(evt) {
    if (!window.shopify || typeof window.shopify.idToken !== "function") {
      evt.detail.issueRequest(true);
      return;
    }
    window.shopify.idToken().then(function (token) {
      latestToken = token;
      evt.detail.issueRequest(true);
    }, function () {
      // No token to be had: send the request anyway and let the server decide (a page that
      // needs none answers; an embedded one answers 401, which reloads through the bounce).
      latestToken = null;
      evt.detail.issueRequest(true);
    });
  }

  /* Confirmation in the admin's own modal (App Bridge's <ui-modal>, #pp-confirm in
     base.html) instead of the browser's window.confirm. An element's hx-confirm is the
     question; data-confirm-title, data-confirm-action and data-confirm-tone="critical"
     name the modal and its button. */
  var pendingConfirm = null;

  function askInModal(options, onConfirm) {
    var modal = document.getElementById("pp-confirm");
    if (!modal || typeof modal.show !== "function") {
      if (window.confirm(options.question)) { onConfirm(); }
      return;
    }
    modal.querySelector("ui-title-bar").setAttribute("title", options.title || "Are you sure?");
    document.getElementById("pp-confirm-text").textContent = options.question;
    var go = document.getElementById("pp-confirm-go");
    go.textContent = options.action || "Confirm";
    if (options.tone === "critical") { go.setAttribute("tone", "critical"); } else { go.removeAttribute("tone"); }
    pendingConfirm = onConfirm;
    modal.show();
  }

  document.addEventListener("click", function (evt) {
    var target = evt.target;
    if (!target || !target.id || (target.id !== "pp-confirm-go" && target.id !== "pp-confirm-cancel")) { return; }
    var modal = document.getElementById("pp-confirm");
    var action = target.id === "pp-confirm-go" ? pendingConfirm : null;
    pendingConfirm = null;
    modal.hide();
    if (action) { action(); }
  });

  /* The save bar's guard: while a form[data-save-bar] holds unsaved changes, leaving the
     page (a boosted link or form elsewhere, a reload, closing the tab) asks first. */
  function formState(form) {
    var pairs = [];
    new FormData(form).forEach(function (value, name) { pairs.push(name + "=" + value); });
    return pairs.join("&");
  }

  function rememberForms() {
    document.querySelectorAll("form[data-save-bar]").forEach(function (form) {
      form._ppInitial = formState(form);
    });
  }

  function unsavedForm() {
    return Array.prototype.find.call(document.querySelectorAll("form[data-save-bar]"), function (form) {
      return form._ppInitial !== undefined && formState(form) !== form._ppInitial;
    });
  }

  document.addEventListener("DOMContentLoaded", rememberForms);
  document.addEventListener("htmx:afterSettle", rememberForms);
  document.addEventListener("reset", function () { setTimeout(rememberForms, 0); });
  window.addEventListener("beforeunload", function (evt) {
    if (unsavedForm()) { evt.preventDefault(); evt.returnValue = ""; }
  });

  function leavesUnsavedForm(evt) {
    var form = unsavedForm();
    if (!form) { return false; }
    var elt = evt.detail.elt;
    return Boolean(elt && !form.contains(elt) && elt.closest && elt.closest("[hx-boost=true]") &&
      (elt.tagName === "A" || elt.tagName === "FORM"));
  }

  document.addEventListener("htmx:confirm", function (evt) {
    var elt = evt.detail.elt;
    if (evt.detail.question) {
      evt.preventDefault();
      askInModal({
        question: evt.detail.question,
        title: elt.getAttribute("data-confirm-title"),
        action: elt.getAttribute("data-confirm-action"),
        tone: elt.getAttribute("data-confirm-tone"),
      }, function () { issueWithToken(evt); });
      return;
    }
    if (leavesUnsavedForm(evt)) {
      evt.preventDefault();
      askInModal({
        question: "If you leave this page, any unsaved changes will be lost.",
        title: "Leave page with unsaved changes?",
        action: "Leave page",
        tone: "critical",
      }, function () {
        document.querySelectorAll("form[data-save-bar]").forEach(function (form) { form._ppInitial = undefined; });
        issueWithToken(evt);
      });
      return;
    }
    if (!window.shopify || typeof window.shopify.idToken !== "function") { return; }
    evt.preventDefault();
    issueWithToken(evt);
  });

  /* A toast the server asked for (HX-Trigger "powerpact:toast"; powerpact/htmx.py), and a
     <ui-modal data-open> a response brought (a question only the server can ask, such as
     which live prices an import would change). */
  document.addEventListener("powerpact:toast", function (evt) {
    var detail = evt.detail || {};
    if (window.shopify && window.shopify.toast && detail.message) {
      window.shopify.toast.show(detail.message, { isError: Boolean(detail.isError) });
    }
  });

  document.addEventListener("htmx:afterSettle", function (evt) {
    var root = evt.target && evt.target.querySelectorAll ? evt.target : document;
    root.querySelectorAll("ui-modal[data-open]").forEach(function (modal) {
      modal.removeAttribute("data-open");
      if (typeof modal.show === "function") { modal.show(); }
    });
  });

  /* A modal's own Cancel (a title-bar button with data-modal-hide) closes it and sends nothing. */
  document.addEventListener("click", function (evt) {
    var button = evt.target && evt.target.closest && evt.target.closest("ui-modal [data-modal-hide]");
    if (!button) { return; }
    var modal = button.closest("ui-modal");
    if (typeof modal.hide === "function") { modal.hide(); } else if (window.shopify && window.shopify.modal) { window.shopify.modal.hide(modal.id); }
  });

  /* Index tables (form[data-index-table]): a header checkbox (data-select-all) selects every
     selectable row (input[data-select-row]) and shows "indeterminate" for some; the bulk bar
     (data-bulk-bar) shows only while something is selected, with its count. */
  function syncIndexTable(table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("input[data-select-row]"));
    var chosen = rows.filter(function (row) { return row.checked; }).length;
    var all = table.querySelector("input[data-select-all]");
    if (all) {
      all.checked = rows.length > 0 && chosen === rows.length;
      all.indeterminate = chosen > 0 && chosen < rows.length;
    }
    var bar = table.querySelector("[data-bulk-bar]");
    if (bar) { bar.hidden = chosen === 0; }
    var count = table.querySelector("[data-selected-count]");
    if (count) { count.textContent = chosen + " selected"; }
  }

  function syncIndexTables() {
    document.querySelectorAll("[data-index-table]").forEach(syncIndexTable);
  }

  document.addEventListener("change", function (evt) {
    var box = evt.target;
    var table = box && box.closest && box.closest("[data-index-table]");
    if (!table) { return; }
    if (box.matches("input[data-select-all]")) {
      table.querySelectorAll("input[data-select-row]").forEach(function (row) { row.checked = box.checked; });
    }
    syncIndexTable(table);
  });
  document.addEventListener("DOMContentLoaded", syncIndexTables);
  document.addEventListener("htmx:afterSettle", syncIndexTables);
  document.addEventListener("htmx:historyRestore", syncIndexTables);

  /* While a request runs, its button (or a form's submit buttons) says so: aria-busy, which
     the stylesheet draws as a spinner; hx-disabled-elt disables it meanwhile. */
  function busyButtons(elt) {
    if (!elt || !elt.tagName) { return []; }
    if (elt.tagName === "BUTTON") { return [elt]; }
    if (elt.tagName === "FORM") { return Array.prototype.slice.call(elt.querySelectorAll("button[type=submit]")); }
    return [];
  }

  document.addEventListener("htmx:beforeRequest", function (evt) {
    busyButtons(evt.detail.elt).forEach(function (button) { button.setAttribute("aria-busy", "true"); });
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    busyButtons(evt.detail.elt).forEach(function (button) { button.removeAttribute("aria-busy"); });
  });

  document.addEventListener("htmx:configRequest", function (evt) {
    if (latestToken) { evt.detail.headers["Authorization"] = "Bearer " + latestToken; }
  });

  // Back onto a page htmx has not cached: htmx fetches it itself (no htmx:confirm, no
  // htmx:configRequest), so hold that request until a token is had and send it with one.
  document.addEventListener("htmx:historyCacheMiss", function (evt) {
    if (!window.shopify || typeof window.shopify.idToken !== "function") { return; }
    evt.preventDefault();
    var xhr = evt.detail.xhr;
    window.shopify.idToken().then(function (token) {
      latestToken = token;
      xhr.setRequestHeader("Authorization", "Bearer " + token);
      xhr.send();
    }, function () {
      window.location.reload();
    });
  });

  /* A download link (data-download) is fetched with a session token and saved from a blob,
     so the tab stays on its page: followed as a link it would carry no token and strand the
     tab on the bounce page. Its query is the named filter form's current values
     (data-filters), so the file is what the table shows now, not when the page loaded. */
  function downloadUrl(link) {
    var url = new URL(link.href, window.location.href);
    var form = link.dataset.filters && document.getElementById(link.dataset.filters);
    if (form) {
      url.search = "";
      new FormData(form).forEach(function (value, name) {
        if (value !== "") { url.searchParams.append(name, value); }
      });
    }
    return url.toString();
  }

  function attachmentName(response, fallback) {
    var match = /filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") || "");
    return match ? match[1] : fallback;
  }

  function saveBlob(blob, name) {
    var href = URL.createObjectURL(blob);
    var anchor = document.createElement("a");
    anchor.href = href;
    anchor.download = name;
    document.body.appendChild(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(function () { URL.revokeObjectURL(href); }, 60000);
  }

  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("a[data-download]");
    if (!link || !window.shopify || typeof window.shopify.idToken !== "function") { return; }
    evt.preventDefault();
    link.setAttribute("aria-busy", "true");
    window.shopify.idToken().then(function (token) {
      return fetch(downloadUrl(link), { headers: { Authorization: "Bearer " + token } });
    }).then(function (response) {
      if (response.status === 401) { window.location.reload(); return null; }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      var name = attachmentName(response, link.getAttribute("download") || "download");
      return response.blob().then(function (blob) { saveBlob(blob, name); });
    }).catch(function (error) {
      window.alert("The download failed: " + error.message);
    }).then(function () {
      link.removeAttribute("aria-busy");
    });
  });

  /* A Print button (data-print) prints the page; the stylesheet's print rules leave out the
     navigation, the buttons and the forms, so a statement prints as a document. */
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-print]");
    if (!button) { return; }
    evt.preventDefault();
    window.print();
  });

  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr && xhr.status === 401 && xhr.getResponseHeader("X-Shopify-Retry-Invalid-Session-Request")) {
      var url = new URL(window.location.href);
      url.searchParams.delete("id_token");
      window.location.replace(url.toString());
    }
  });
})();
