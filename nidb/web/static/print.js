// A button marked data-print prints the page (the e-card is laid out for paper by nidb.css).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
