// The finding list: "N selected → Request deferral", kept in view while rows are ticked.
(function () {
  var bar = document.getElementById("selection-bar");
  var count = document.getElementById("selection-count");
  if (!bar || !count) return;
  function update() {
    var n = document.querySelectorAll('input[name="finding"]:checked').length;
    count.textContent = n ? n + " selected \u2192" : "";
    bar.classList.toggle("active", n > 0);
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "finding") update();
  });
  update();
})();
