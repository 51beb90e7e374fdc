/* Archive search: the live result list under the top-bar box (filled by htmx from /search/suggest/).
 * Shown when it has content; Escape or a click elsewhere closes it; Arrow-down moves into it. */
(function () {
  "use strict";

  function parts() {
    var box = document.getElementById("search-box");
    return box ? { box: box, input: document.getElementById("search-box-q"), list: document.getElementById("search-suggest") } : null;
  }

  function show(p, visible) {
    p.list.classList.toggle("show", visible && p.list.children.length > 0);
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var p = parts();
    if (p && event.target === p.list) { show(p, true); }
  });

  document.addEventListener("keydown", function (event) {
    var p = parts();
    if (!p || !p.box.contains(event.target)) { return; }
    if (event.key === "Escape") {
      p.input.focus();  // first: focusing the box would open the list again
      show(p, false);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var items = Array.prototype.slice.call(p.list.querySelectorAll("a.dropdown-item"));
      if (!items.length) { return; }
      var at = items.indexOf(document.activeElement);
      var next = event.key === "ArrowDown" ? Math.min(at + 1, items.length - 1) : at - 1;
      event.preventDefault();
      show(p, true);
      if (next < 0) { p.input.focus(); } else { items[next].focus(); }
    }
  });

  document.addEventListener("click", function (event) {
    var p = parts();
    if (p && !p.box.contains(event.target)) { show(p, false); }
  });

  document.addEventListener("focusin", function (event) {
    var p = parts();
    if (p && event.target === p.input) { show(p, true); }
  });
})();
