// Polls the status URL of a QR page and continues by itself once the app has answered.
// Polls are cheap for the server (one cache read); when the QR code expires the page asks once
// more with final=1 for the verdict.
(function () {
  // A QR code shown on request (a card page): its image is fetched only when opened.
  var later = document.querySelector("details.qr-later");
  if (later) {
    later.addEventListener("toggle", function () {
      var image = later.querySelector("img[data-src]");
      if (later.open && image && !image.getAttribute("src")) {
        image.setAttribute("src", image.getAttribute("data-src"));
      }
    });
  }
  var box = document.querySelector("[data-status-url]");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var interval = parseInt(box.getAttribute("data-interval"), 10) || 1000;
  var expiresIn = parseInt(box.getAttribute("data-expires-in"), 10) || 0;
  var deadline = expiresIn ? Date.now() + expiresIn + 1000 : 0;
  var status = document.getElementById("qr-status");
  function stop(message) {
    if (status) { status.textContent = message || status.getAttribute("data-expired"); }
    var again = document.getElementById("qr-again");
    if (again) { again.hidden = false; }
  }
  function poll() {
    var final = deadline && Date.now() > deadline;
    var target = url + (final ? (url.indexOf("?") < 0 ? "?" : "&") + "final=1" : "");
    fetch(target, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.status === "ok") { window.location.assign(data.next); return; }
        if (data.status === "waiting" && !final) { setTimeout(poll, interval); return; }
        stop(data.message);
      })
      .catch(function () { setTimeout(poll, interval * 2); });
  }
  setTimeout(poll, interval);
})();
