/* Sandbox stand-in for Shopify App Bridge: the same shopify.idToken() the real one offers,
   backed by the development sign-in. Loaded only when shops are served by the sandbox. */
(function () {
  "use strict";
  var tokenUrl = document.currentScript.getAttribute("data-token-url");
  window.shopify = window.shopify || {
    idToken: function () {
      return fetch(tokenUrl, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (!r.ok) { throw new Error("no sandbox session: sign in at /dev/login"); }
        return r.text();
      });
    },
  };
})();
