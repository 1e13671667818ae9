// Small behaviours shared by every page. htmx is loaded before this file. Pages carry no inline
// script or handler (the Content-Security-Policy forbids them): they mark elements with data-*
// attributes and the listeners below give them their behaviour.
document.addEventListener("htmx:responseError", function (event) {
  var box = document.getElementById("htmx-error");
  var text = event.detail.xhr.responseText || String(event.detail.xhr.status);
  try { text = JSON.parse(text).detail || text; } catch (e) { /* plain text */ }
  if (box) { box.textContent = text; box.hidden = false; } else { window.alert(text); }
});
// data-confirm="question": a click (on a button or link) goes ahead only when confirmed.
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
});
// data-print: a button that prints the page.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) { event.preventDefault(); window.print(); }
});
// data-autosubmit: a select (the language switch) that submits its form when changed.
document.addEventListener("change", function (event) {
  var el = event.target.closest("[data-autosubmit]");
  if (el && el.form) { el.form.submit(); }
});
// data-submit-once: a form whose submit buttons are disabled once it is sent (no double letters).
// Disabled after the event, so that the pressed button's name/value is still sent.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute || !form.hasAttribute("data-submit-once") || event.defaultPrevented) { return; }
  window.setTimeout(function () {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  }, 0);
});
