// Upload with a progress bar; without JavaScript the form posts normally and redirects.
(function () {
  "use strict";
  var form = document.getElementById("upload");
  if (!form || !window.XMLHttpRequest) { return; }
  var bar = document.getElementById("progress");
  var status = document.getElementById("status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.hidden = false;
        bar.value = Math.round((100 * e.loaded) / e.total);
        status.textContent = "Uploading… " + bar.value + "%";
      }
    });
    request.upload.addEventListener("load", function () { status.textContent = "Importing…"; });
    request.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(request.responseText); } catch (e) { body = {}; }
      if (request.status === 201 && body.url) {
        status.textContent = body.file + ": " + body.parsed + " parsed, " + body.new + " new, " +
          body.unchanged + " unchanged, " + body.reopened + " reopened, " + body.closed + " closed.";
        window.location.assign(body.url);
      } else {
        bar.hidden = true;
        status.textContent = (body.error && body.error.message) || ("Import failed (" + request.status + ").");
        status.className = "msg error";
      }
    });
    request.addEventListener("error", function () { status.textContent = "Upload failed: network error."; });
    request.send(new FormData(form));
  });
})();
