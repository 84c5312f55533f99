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

  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr && xhr.status === 401 && xhr.getResponseHeader("X-Shopify-Retry-Invalid-Session-Request")) {
      var url = new URL(window.location.href);
      url.searchParams.delete("id_token");
      window.location.replace(url.toString());
    }
  });
})();
