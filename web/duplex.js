// Duplex: the little the page must do synchronously, in plain JavaScript.
//
// 1. Before app.wasm has started, it keeps what is typed into the
//    prerendered sign-in form. Without it, Enter would submit the plain
//    HTML form and reload the page, losing the nickname. The submitted
//    nickname and the box's text wait in sessionStorage; the wasm page
//    completes the sign-in when it mounts and sets window.duplexReady.
// 2. go-app runs Go event handlers after the browser's default action, so
//    their preventDefault comes too late: the forms never submit natively,
//    and Enter (without Shift) in the composer never inserts a newline.
//
// An external file, so a Content-Security-Policy needs no inline script.
(function () {
  "use strict";
  var DRAFT = "duplex.early.draft", NICK = "duplex.early.nick";
  function save(key, value) {
    try { sessionStorage.setItem(key, value); } catch (e) { /* storage off: nothing to keep */ }
  }
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (!window.duplexReady && t && t.id === "nickname") save(DRAFT, t.value);
  }, true);
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form || !form.classList) return;
    if (form.classList.contains("composer-bar")) e.preventDefault();
    if (!form.classList.contains("signin")) return;
    e.preventDefault();
    if (window.duplexReady) return; // the app handles it
    var input = document.getElementById("nickname");
    var nick = input ? input.value.trim() : "";
    if (!nick) return;
    save(DRAFT, input.value);
    save(NICK, nick);
    var button = form.querySelector("button");
    if (button) { button.disabled = true; button.textContent = "Joining…"; }
  }, true);
  // Enter without Shift sends: its line break is cancelled on keydown and,
  // for text input that arrives apart from the key event (or after the
  // focus moved, as when Enter in the room box opens a room), on
  // beforeinput while that Enter key is down.
  var enter = ""; // while an Enter key is down: "break" or "send"
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter") return;
    var inComposer = e.target && e.target.id === "composer";
    enter = inComposer && (e.shiftKey || e.isComposing) ? "break" : "send";
    if (inComposer && enter === "send") e.preventDefault();
  }, true);
  document.addEventListener("keyup", function (e) {
    if (e.key === "Enter") enter = "";
  }, true);
  document.addEventListener("beforeinput", function (e) {
    var t = e.target;
    if (enter === "send" && t && t.id === "composer" && (e.inputType === "insertLineBreak" || e.inputType === "insertParagraph")) e.preventDefault();
  }, true);
})();
