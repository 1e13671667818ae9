// Keyboard shortcuts of the intake desk and the hotline form (loaded by those two pages).
document.addEventListener("keydown", function (event) {
  var tag = (event.target.tagName || "").toLowerCase();
  // Desk: "/" jumps to the search box, as in most desk tools.
  if (event.key === "/" && tag !== "input" && tag !== "textarea" && tag !== "select") {
    var box = document.querySelector("[data-testid=desk-filters] input[name=q]");
    if (box) { event.preventDefault(); box.focus(); }
  }
  // Hotline: staff keep their hands on the keyboard during a call; Ctrl+Enter (or Cmd+Enter)
  // registers it.
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    var button = document.querySelector("[data-testid=hotline-form] button[value=hotline]");
    if (button) { event.preventDefault(); button.click(); }
  }
});
