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

  document.addEventListener("htmx:confirm", function (evt) {
    if (!window.shopify || typeof window.shopify.idToken !== "function") { return; }
    evt.preventDefault();
    window.shopify.idToken().then(function (token) {
      latestToken = token;
      evt.detail.issueRequest(true);
    }, function () {
      // No token to be had: send the request anyway and let the server decide (a page that
      // needs none answers; an embedded one answers 401, which reloads through the bounce).
      latestToken = null;
      evt.detail.issueRequest(true);
    });
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

  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr && xhr.status === 401 && xhr.getResponseHeader("X-Shopify-Retry-Invalid-Session-Request")) {
      var url = new URL(window.location.href);
      url.searchParams.delete("id_token");
      window.location.replace(url.toString());
    }
  });
})();
