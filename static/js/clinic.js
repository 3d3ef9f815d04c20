// IMS Clinic's own behaviour for every page. A static file, never inline script: the Content-Security-Policy
// allows scripts from this site's static files only (docs/security.md).
(function () {
  "use strict";

  // <button data-confirm="Archive this patient?">: asks before the form is sent.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // <form data-keep-draft="session-12-assessment" data-draft-version="3">: what is typed is kept in this
  // tab's sessionStorage, so that a form sent after the session ended (the server sends the person to
  // log in, then back to this page) is filled again with it, with a notice, until it is saved. The
  // version is whatever the server changes when it accepts the form (a draft's version number, the
  // count of addenda): a kept copy of another version is stale and dropped.
  var PREFIX = "ims-draft:";

  function fieldsOf(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.type === "hidden" || field.type === "submit" || field.type === "file" ||
          field.type === "password") {
        return;
      }
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked) { (values[field.name] = values[field.name] || []).push(field.value); }
        else { values[field.name] = values[field.name] || []; }
      } else {
        values[field.name] = field.value;
      }
    });
    return values;
  }

  function apply(form, values) {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || !(field.name in values)) { return; }
      if (field.type === "checkbox" || field.type === "radio") {
        field.checked = values[field.name].indexOf(field.value) !== -1;
      } else if (field.type !== "hidden" && field.type !== "file" && field.type !== "password") {
        field.value = values[field.name];
      }
    });
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function keepDrafts(form) {
    var key = PREFIX + form.getAttribute("data-keep-draft");
    var version = form.getAttribute("data-draft-version") || "";
    var kept = null;
    try { kept = JSON.parse(window.sessionStorage.getItem(key) || "null"); } catch (error) { kept = null; }
    if (kept && (kept.version !== version || same(kept.fields, fieldsOf(form)))) {
      window.sessionStorage.removeItem(key);
    } else if (kept) {
      apply(form, kept.fields);
      var notice = document.createElement("div");
      notice.className = "alert alert-warning small";
      notice.setAttribute("role", "status");
      notice.setAttribute("data-testid", "draft-restored");
      notice.textContent = "What you typed before your session ended is back in this form. It is not saved yet: save it now.";
      form.parentNode.insertBefore(notice, form);
    }
    function save() {
      try {
        window.sessionStorage.setItem(key, JSON.stringify({ version: version, fields: fieldsOf(form) }));
      } catch (error) { /* storage full or refused: nothing to keep */ }
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", save);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-keep-draft]"), keepDrafts);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
