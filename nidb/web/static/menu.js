// On a narrow screen the main navigation folds behind a "Danh mục" button (the header then
// fits one line); without this script the navigation simply stays open.
(function () {
  var button = document.querySelector(".menu-toggle");
  var nav = document.getElementById("dieu-huong");
  if (!button || !nav) { return; }
  document.documentElement.classList.add("has-menu");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
})();
