// Keyboard and selection for the staff lists (desk, workspace, review). A list is a table (or
// block) marked data-keyboard-list whose rows carry data-row; a row's data-open link opens it and
// its data-select checkbox selects it for a bulk action. No inline script: the CSP forbids it.
(function () {
  "use strict";
  var current = null;

  function typing(target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-keyboard-list] [data-row]"));
  }
  function setCurrent(row) {
    if (current && current !== row) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
    current = row;
    if (row) {
      row.classList.add("current");
      row.setAttribute("aria-current", "true");
      row.scrollIntoView({ block: "nearest" });
    }
  }
  function move(step) {
    var all = rows();
    if (!all.length) { return; }
    if (current && !document.body.contains(current)) {
      current = document.getElementById(current.id) || null;
    }
    var at = current ? all.indexOf(current) : -1;
    var next = at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.max(0, Math.min(all.length - 1, at + step));
    setCurrent(all[next]);
  }
  function help() {
    var dialog = document.getElementById("shortcut-help");
    if (!dialog) { return; }
    if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
  }
  function closePanel() {
    var panel = document.getElementById("desk-panel");
    var link = panel && panel.querySelector("[data-panel-close]");
    if (!link) { return false; }
    panel.innerHTML = "";
    window.history.pushState({}, "", link.getAttribute("href"));
    return true;
  }

  document.addEventListener("keydown", function (event) {
    // In the desk panel's form: Ctrl+Enter 研判并派单, Ctrl+Shift+Enter 研判并下一条.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      var form = document.querySelector("[data-panel-form]");
      if (form) {
        var button = form.querySelector(event.shiftKey ? "[data-testid=triage-next]" : "[data-testid=triage-dispatch]");
        // htmx wires a swapped-in form only when the swap settles (some 20 ms later); a key pressed
        // before that would post the form natively and reload the whole desk. Wire it now (a no-op
        // when it already is), so the keys always go through htmx and the list stays in place.
        if (button && window.htmx) { window.htmx.process(form); }
        if (button) { event.preventDefault(); button.click(); }
      }
      return;
    }
    if (event.key === "Escape") {
      if (closePanel()) { event.preventDefault(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (event.key === "?") { event.preventDefault(); help(); return; }
    if (!rows().length) { return; }
    if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); move(1); }
    else if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); move(-1); }
    else if (event.key === "Enter" && current) {
      var open = current.querySelector("[data-open]");
      if (open) { event.preventDefault(); open.click(); }
    } else if (event.key === "x" && current) {
      var box = current.querySelector("[data-select]");
      if (box) { event.preventDefault(); box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
    }
  });

  // A click on a row makes it the current one.
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-shortcut-help]")) { event.preventDefault(); help(); return; }
    var row = event.target.closest && event.target.closest("[data-keyboard-list] [data-row]");
    if (row) { setCurrent(row); }
    var close = event.target.closest && event.target.closest("[data-panel-close]");
    if (close) { event.preventDefault(); closePanel(); }
  });

  // "全选" and the count of selected rows beside the bulk buttons.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-select-all]")) {
      rows().forEach(function (row) {
        var box = row.querySelector("[data-select]");
        if (box) { box.checked = event.target.checked; }
      });
    }
    if (event.target.matches("[data-select], [data-select-all]")) {
      var n = document.querySelectorAll("[data-keyboard-list] [data-select]:checked").length;
      document.querySelectorAll("[data-selected-count]").forEach(function (el) { el.textContent = String(n); });
    }
  });

  // After the desk panel changed, the list follows it: the appeal shown is the current row.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "desk-panel") { return; }
    var shown = event.detail.target.querySelector("[data-appeal]");
    if (shown) {
      var row = document.getElementById("appeal-row-" + shown.getAttribute("data-appeal"));
      if (row) { setCurrent(row); }
    }
  });

  // The page opened with a panel (shared link, back button): its row is the current one.
  document.addEventListener("DOMContentLoaded", function () {
    var shown = document.querySelector("#desk-panel [data-appeal]");
    if (shown) { setCurrent(document.getElementById("appeal-row-" + shown.getAttribute("data-appeal"))); }
  });
})();
