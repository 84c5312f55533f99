/* Sandbox stand-in for Shopify App Bridge, loaded only when shops are served by the sandbox.
   It offers the parts of App Bridge's API PowerPact uses, drawn the way the admin draws them:
   - shopify.idToken(), backed by the development sign-in;
   - shopify.toast.show(message, {isError, duration}) and .hide(id) (Toast API);
   - <ui-modal id> with one content element and a <ui-title-bar title> of <button>s, opened
     by its show() or shopify.modal.show(id) (Modal API): the admin renders a copy of the
     content and its own buttons, whose clicks run the original buttons' handlers;
   - <form data-save-bar [data-discard-confirmation]>: a save bar appears while the form's
     values differ from what it loaded with; Save submits it, Discard resets it (Save Bar).
   Nothing here is PowerPact's own behaviour: that lives in embedded.js. */
(function () {
  "use strict";
  var tokenUrl = document.currentScript.getAttribute("data-token-url");
  if (window.shopify) { return; }

  /* The admin draws its toasts and save bar outside the app's frame, so the app's own page
     changes (a boosted link or form swaps the whole body) never take them away: a region
     the swap removed is put back, with what it holds. */
  var regions = {};

  function region(className, label, first) {
    var node = regions[className];
    if (!node) {
      node = document.createElement("div");
      node.className = className;
      // Named and a region, so a landmark: screen readers' landmark navigation reaches it.
      if (label) { node.setAttribute("role", "region"); node.setAttribute("aria-label", label); }
      regions[className] = node;
    }
    if (!node.isConnected) {
      if (first) { document.body.prepend(node); } else { document.body.appendChild(node); }
    }
    return node;
  }

  document.addEventListener("htmx:afterSwap", function () {
    var toasts = regions["sandbox-toasts"];
    if (toasts && !toasts.isConnected && toasts.childNodes.length) { region("sandbox-toasts"); }
  });

  /* Toast: bottom centre, dark, five seconds unless told otherwise; errors in critical red. */
  var toastCount = 0;
  var toast = {
    show: function (message, options) {
      options = options || {};
      var id = "sandbox-toast-" + (++toastCount);
      var node = document.createElement("div");
      node.id = id;
      node.className = "sandbox-toast" + (options.isError ? " sandbox-toast-error" : "");
      node.setAttribute("role", options.isError ? "alert" : "status");
      node.textContent = String(message);
      var close = document.createElement("button");
      close.type = "button";
      close.className = "sandbox-toast-close";
      close.setAttribute("aria-label", "Dismiss");
      close.textContent = "×";
      close.addEventListener("click", function () { toast.hide(id); });
      node.appendChild(close);
      region("sandbox-toasts", "Notifications").appendChild(node);
      setTimeout(function () { toast.hide(id); }, options.duration || 5000);
      return id;
    },
    hide: function (id) {
      var node = document.getElementById(id);
      if (node) { node.remove(); }
    },
  };

  /* Modal: a <dialog> with the title bar's title, a copy of the content, and one button for
     each of the title bar's buttons (primary on the right, as the admin places it). */
  function titleBarOf(modal) {
    return Array.prototype.find.call(modal.children, function (child) {
      return child.tagName === "UI-TITLE-BAR";
    });
  }

  function contentOf(modal) {
    return Array.prototype.find.call(modal.children, function (child) {
      return child.tagName !== "UI-TITLE-BAR";
    });
  }

  function drawModal(modal) {
    var dialog = document.createElement("dialog");
    dialog.className = "sandbox-modal";
    var bar = titleBarOf(modal);
    var title = (bar && bar.getAttribute("title")) || "";
    var header = document.createElement("div");
    header.className = "sandbox-modal-header";
    var heading = document.createElement("h2");
    heading.id = modal.id + "-sandbox-title";
    heading.textContent = title;
    dialog.setAttribute("aria-labelledby", heading.id);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "sandbox-modal-close";
    close.setAttribute("aria-label", "Close");
    close.textContent = "×";
    close.addEventListener("click", function () { modal.hide(); });
    header.appendChild(heading);
    header.appendChild(close);
    dialog.appendChild(header);
    var body = document.createElement("div");
    body.className = "sandbox-modal-body";
    var content = contentOf(modal);
    if (content) { body.appendChild(content.cloneNode(true)); }
    dialog.appendChild(body);
    var footer = document.createElement("div");
    footer.className = "sandbox-modal-footer";
    var buttons = bar ? Array.prototype.slice.call(bar.querySelectorAll("button")) : [];
    buttons.sort(function (a, b) {
      return (a.getAttribute("variant") === "primary") - (b.getAttribute("variant") === "primary");
    });
    buttons.forEach(function (original) {
      var proxy = document.createElement("button");
      proxy.type = "button";
      var tone = original.getAttribute("tone") === "critical" ? " button-critical" : "";
      proxy.className = "button" + (original.getAttribute("variant") === "primary" ? " button-primary" : "") + tone;
      proxy.textContent = original.textContent;
      proxy.disabled = original.disabled;
      proxy.addEventListener("click", function () { original.click(); });
      footer.appendChild(proxy);
    });
    dialog.appendChild(footer);
    dialog.addEventListener("cancel", function (evt) { evt.preventDefault(); modal.hide(); });
    return dialog;
  }

  if (window.customElements && !window.customElements.get("ui-modal")) {
    window.customElements.define("ui-title-bar", class extends HTMLElement {});
    window.customElements.define("ui-modal", class extends HTMLElement {
      show() {
        if (this._dialog) { return Promise.resolve(); }
        this._opener = document.activeElement;
        this._dialog = drawModal(this);
        document.body.appendChild(this._dialog);
        this._dialog.showModal();
        this.dispatchEvent(new Event("show"));
        return Promise.resolve();
      }
      hide() {
        if (!this._dialog) { return Promise.resolve(); }
        this._dialog.close();
        this._dialog.remove();
        this._dialog = null;
        if (this._opener && this._opener.isConnected) { this._opener.focus(); }
        this.dispatchEvent(new Event("hide"));
        return Promise.resolve();
      }
      toggle() { return this._dialog ? this.hide() : this.show(); }
      get open() { return Boolean(this._dialog); }
      disconnectedCallback() { this.hide(); }
    });
  }

  function modalById(id) {
    var node = document.getElementById(id);
    if (!node || node.tagName !== "UI-MODAL") { return Promise.reject(new Error("no ui-modal " + id)); }
    return node;
  }

  var modal = {
    show: function (id) { var node = modalById(id); return node.show ? node.show() : node; },
    hide: function (id) { var node = modalById(id); return node.hide ? node.hide() : node; },
    toggle: function (id) { var node = modalById(id); return node.toggle ? node.toggle() : node; },
  };

  /* Save bar: the admin's dark bar across the top, "Unsaved changes", Discard and Save. */
  function formState(form) {
    var pairs = [];
    new FormData(form).forEach(function (value, name) { pairs.push(name + "=" + value); });
    return pairs.join("&");
  }

  function drawSaveBar() {
    // The admin draws it in its own top bar, above the app, never over it.
    var bar = region("sandbox-save-bar", null, true);
    if (!bar.firstChild) {
      bar.setAttribute("role", "region");
      bar.setAttribute("aria-label", "Unsaved changes");
      bar.innerHTML = '<span class="sandbox-save-bar-title">Unsaved changes</span>' +
        '<span class="sandbox-save-bar-actions"><button type="button" class="button" data-save-bar-discard>Discard</button>' +
        '<button type="button" class="button button-primary" data-save-bar-save>Save</button></span>';
    }
    return bar;
  }

  var dirtyForm = null;

  function refreshSaveBar(form) {
    var dirty = form.isConnected && formState(form) !== form._sandboxInitial;
    if (dirty) { dirtyForm = form; } else if (dirtyForm === form) { dirtyForm = null; }
    var bar = drawSaveBar();
    bar.hidden = !dirtyForm;
  }

  function watchForms(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("form[data-save-bar]").forEach(function (form) {
      form._sandboxInitial = formState(form);
      refreshSaveBar(form);
    });
    if (dirtyForm && !dirtyForm.isConnected) { dirtyForm = null; drawSaveBar().hidden = true; }
  }

  document.addEventListener("input", function (evt) {
    var form = evt.target.form || (evt.target.closest && evt.target.closest("form"));
    if (form && form.hasAttribute("data-save-bar")) { refreshSaveBar(form); }
  });
  document.addEventListener("change", function (evt) {
    var form = evt.target.form;
    if (form && form.hasAttribute("data-save-bar")) { refreshSaveBar(form); }
  });
  document.addEventListener("reset", function (evt) {
    var form = evt.target;
    if (form.hasAttribute && form.hasAttribute("data-save-bar")) {
      setTimeout(function () { refreshSaveBar(form); }, 0);
    }
  });
  document.addEventListener("submit", function (evt) {
    if (evt.target === dirtyForm) { dirtyForm = null; drawSaveBar().hidden = true; }
  });
  document.addEventListener("click", function (evt) {
    var target = evt.target;
    if (!dirtyForm || !target.closest) { return; }
    if (target.closest("[data-save-bar-save]")) {
      dirtyForm.requestSubmit();
    } else if (target.closest("[data-save-bar-discard]")) {
      var form = dirtyForm;
      if (form.hasAttribute("data-discard-confirmation") &&
          !window.confirm("Discard all unsaved changes? If you discard changes, you'll delete any edits you made since you last saved.")) {
        return;
      }
      form.reset();
    }
  });
  document.addEventListener("DOMContentLoaded", function () { watchForms(document); });
  document.addEventListener("htmx:afterSettle", function (evt) { watchForms(evt.target); });

  window.shopify = {
    idToken: function () {
      return fetch(tokenUrl, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (!r.ok) { throw new Error("no sandbox session: sign in at /dev/login"); }
        return r.text();
      });
    },
    toast: toast,
    modal: modal,
  };
})();
