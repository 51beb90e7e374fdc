/* The reader's stop screen: warn when the typed total is outside the expected range, before it is saved.
 *
 * The form carries the range as data attributes (data-low, data-high, data-last); the
 * total input is marked data-total.  A value outside the range shows a warning at once;
 * the first Save with such a value is held back so the reader looks again, the second
 * saves it (the reading may be right: the server validates it either way).  No inline
 * script: the Content-Security-Policy forbids it. */
(function () {
  "use strict";

  function decimal(text) {
    var value = String(text || "").trim().replace(",", ".");
    if (!/^\d+(\.\d+)?$/.test(value)) { return null; }
    return Number(value);
  }

  function warningFor(form, value) {
    if (value === null) { return ""; }
    var low = decimal(form.dataset.low);
    var high = decimal(form.dataset.high);
    var last = decimal(form.dataset.last);
    if (last !== null && value < last) { return form.dataset.warnLower; }
    if (low !== null && value < low) { return form.dataset.warnLow; }
    if (high !== null && value > high) { return form.dataset.warnHigh; }
    return "";
  }

  function setup(form) {
    var input = form.querySelector("[data-total]");
    var note = form.querySelector("#range-warning");
    if (!input || !note) { return; }
    var acknowledged = null;

    function check() {
      var message = warningFor(form, decimal(input.value));
      note.textContent = message;
      note.hidden = !message;
      input.classList.toggle("is-warning", Boolean(message));
      return message;
    }

    input.addEventListener("input", function () { acknowledged = null; check(); });
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.dataset.skipRange) { return; }
      var message = check();
      if (message && acknowledged !== input.value) {
        event.preventDefault();
        acknowledged = input.value;
        note.textContent = message + " " + form.dataset.warnAgain;
        input.focus();
      }
    });
    check();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("stop-form");
    if (form) { setup(form); }
  });
})();
