// The Menu button of narrow screens (site.css shows it below 40rem): it opens and closes the main
// menu, the language switch and Log out. Without this script the menu is simply always shown.
(function () {
  "use strict";
  var button = document.querySelector(".zs-menu-button");
  var menu = document.getElementById("zs-menu");
  if (!button || !menu) {
    return;
  }
  document.documentElement.classList.add("zs-js");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("zs-menu--open", open);
  });
})();
