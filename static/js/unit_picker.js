// Unit picker: turns <select multiple data-unit-picker> into a filter box and a list of
// checkboxes (no Ctrl+click), and puts a filter box above a single <select data-unit-picker> that
// narrows its options as a name is typed (Enter takes the first match). The select stays in the
// form and is what gets submitted, so the form works the same without this script.
(function () {
  "use strict";

  function enhance(select) {
    if (select.dataset.pickerReady) return;
    select.dataset.pickerReady = "1";
    var box = document.createElement("div");
    box.className = "unit-picker";
    var filter = document.createElement("input");
    filter.type = "search";
    filter.className = "unit-picker-filter";
    filter.placeholder = select.getAttribute("data-filter-placeholder") || "输入名称筛选";
    filter.setAttribute("aria-label", filter.placeholder);
    var list = document.createElement("div");
    list.className = "unit-picker-list";
    list.setAttribute("role", "group");
    Array.prototype.forEach.call(select.options, function (option) {
      var label = document.createElement("label");
      var check = document.createElement("input");
      check.type = "checkbox";
      check.value = option.value;
      check.checked = option.selected;
      check.addEventListener("change", function () {
        option.selected = check.checked;
      });
      label.appendChild(check);
      label.appendChild(document.createTextNode(" " + option.text));
      label.dataset.text = option.text.toLowerCase();
      list.appendChild(label);
    });
    filter.addEventListener("input", function () {
      var words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      Array.prototype.forEach.call(list.children, function (label) {
        label.hidden = !words.every(function (w) { return label.dataset.text.indexOf(w) !== -1; });
      });
    });
    // Enter in the filter box must not submit the form half filled.
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
    box.appendChild(filter);
    box.appendChild(list);
    // The server checks the choice; a hidden required control would block the submit silently.
    select.required = false;
    select.hidden = true;
    select.parentNode.insertBefore(box, select.nextSibling);
  }

  function words(text) {
    return text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  }

  function enhanceSingle(select) {
    if (select.dataset.pickerReady) return;
    select.dataset.pickerReady = "1";
    var filter = document.createElement("input");
    filter.type = "search";
    filter.className = "unit-picker-filter";
    filter.placeholder = select.getAttribute("data-filter-placeholder") || "输入名称筛选";
    filter.setAttribute("aria-label", filter.placeholder);
    filter.setAttribute("data-unit-filter", select.name);
    function visible() {
      return Array.prototype.filter.call(select.options, function (o) { return o.value && !o.hidden; });
    }
    filter.addEventListener("input", function () {
      var wanted = words(filter.value);
      Array.prototype.forEach.call(select.options, function (option) {
        var text = option.text.toLowerCase();
        option.hidden = !!option.value && !wanted.every(function (w) { return text.indexOf(w) !== -1; });
      });
      // While filtering, the matches show as an open list; an empty box gives the dropdown back.
      if (wanted.length) { select.size = Math.max(2, Math.min(8, visible().length)); } else { select.removeAttribute("size"); }
    });
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !(event.ctrlKey || event.metaKey)) {
        // Enter takes the first match; it never submits the form half filled.
        event.preventDefault();
        var first = visible()[0];
        if (first) {
          select.value = first.value;
          select.dispatchEvent(new Event("change", { bubbles: true }));
          filter.value = "";
          filter.dispatchEvent(new Event("input"));
        }
      } else if (event.key === "ArrowDown") {
        event.preventDefault();
        select.focus();
      }
    });
    select.parentNode.insertBefore(filter, select);
  }

  function enhanceAll(root) {
    root = root || document;
    Array.prototype.forEach.call(root.querySelectorAll("select[multiple][data-unit-picker]"), enhance);
    Array.prototype.forEach.call(root.querySelectorAll("select:not([multiple])[data-unit-picker]"), enhanceSingle);
  }

  document.addEventListener("DOMContentLoaded", function () { enhanceAll(document); });
  // A form swapped in by htmx (re-rendered with its errors) gets its picker again.
  document.addEventListener("htmx:load", function (event) { enhanceAll(event.target); });
})();
