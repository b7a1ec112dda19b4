// Phones: the main navigation collapses behind a "Menu" button (no inline script: CSP).
(function () {
  var header = document.querySelector("header.top");
  var button = document.querySelector(".menu-toggle");
  if (!header || !button) return;
  header.classList.add("js-nav");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = header.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();
