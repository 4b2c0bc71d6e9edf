// Buttons that end something ask first: <button data-confirm="…">. A file, not an inline handler, so the content
// security policy (script-src 'self') holds.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
