// The error summary of a form sent back with errors (web/templates/web/form.html): focus moves to
// it when the page opens, so it is read out first; each of its links moves focus to its field's
// control and brings the field's label (or a group's legend) into view above it.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var control = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!control) {
      return;
    }
    event.preventDefault();
    var field = control.closest("fieldset, .zs-field");
    var heading = field && field.querySelector("legend, label");
    (heading || control).scrollIntoView();
    control.focus({ preventScroll: true });
  });
})();
