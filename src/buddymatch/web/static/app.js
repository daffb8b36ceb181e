// Progress of a running match: poll the status endpoint, update the bar, reload when it ends.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var url = live.getAttribute("data-status");
  var bar = document.getElementById("progress");
  var text = document.getElementById("progress-text");
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.value = s.progress;
        text.textContent = s.message;
        if (s.status === "queued" || s.status === "running") { setTimeout(tick, 700); }
        else { window.location.reload(); }
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  setTimeout(tick, 500);
}());
