// Polls the status URL of a QR page and continues by itself once the app has answered.
(function () {
  var box = document.querySelector("[data-status-url]");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var interval = parseInt(box.getAttribute("data-interval"), 10) || 1000;
  var status = document.getElementById("qr-status");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.status === "ok") { window.location.assign(data.next); return; }
        if (data.status === "waiting") { setTimeout(poll, interval); return; }
        if (status) { status.textContent = data.message || status.getAttribute("data-expired"); }
        var again = document.getElementById("qr-again");
        if (again) { again.hidden = false; }
      })
      .catch(function () { setTimeout(poll, interval * 2); });
  }
  setTimeout(poll, interval);
})();
