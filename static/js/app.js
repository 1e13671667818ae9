// Small behaviours shared by staff pages. htmx is loaded before this file.
document.addEventListener("htmx:responseError", function (event) {
  var box = document.getElementById("htmx-error");
  var text = event.detail.xhr.responseText || String(event.detail.xhr.status);
  try { text = JSON.parse(text).detail || text; } catch (e) { /* plain text */ }
  if (box) { box.textContent = text; box.hidden = false; } else { window.alert(text); }
});
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
});
