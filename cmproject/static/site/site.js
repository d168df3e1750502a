// Where the keyboard starts on a page (issue 12, accessibility). A file, not inline script: the
// Content-Security-Policy allows scripts from the site only.
// After a failed submit: the error summary (screen readers read it). On a page whose first form
// is in view: its first field. Otherwise nothing moves.
document.addEventListener("DOMContentLoaded", function () {
  var main = document.getElementById("main");
  if (!main) return;
  var summary = main.querySelector("[data-error-summary], .errorlist, .messages li.error");
  if (summary) {
    if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
    summary.focus();
    return;
  }
  if (document.querySelector("[autofocus]")) return;
  var form = main.querySelector("form:not([data-no-autofocus])");
  if (!form || form.getBoundingClientRect().top > window.innerHeight) return;
  var field = form.querySelector(
    "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=checkbox])" +
      ":not([type=radio]):not([disabled]), select:not([disabled]), textarea:not([disabled])"
  );
  if (field) field.focus();
});

// A printable page's Print button (data-print): a file's listener, as the policy allows no
// inline handler.
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) window.print();
});
