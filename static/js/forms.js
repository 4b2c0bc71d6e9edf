// A refused form's error summary (templates/_form_errors.html) takes the focus when the page opens, so a screen
// reader reads it first; each of its links moves the focus to its field (a group of choices: its first choice).
// A file, not an inline script, so the content security policy (script-src 'self') holds.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});
document.addEventListener("click", function (event) {
  var link = event.target.closest("[data-error-summary] a[href^='#']");
  if (!link) {
    return;
  }
  var target = document.getElementById(link.getAttribute("href").slice(1));
  var input = target && (target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea"));
  if (input) {
    event.preventDefault();
    target.scrollIntoView({ block: "center" });
    input.focus({ preventScroll: true });
  }
});
// A form sent once is not sent again by a second tap while the answer is on its way (the server refuses a second
// confirmation anyway: this spares the user the message).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  if (form.method.toLowerCase() === "post" && form.hasAttribute("data-once")) {
    form.dataset.sent = "1";
  }
});
