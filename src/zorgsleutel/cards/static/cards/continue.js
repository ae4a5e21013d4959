// Back on the portal from the UZI host: sends the form that carries the one-time value, so the
// person does not have to press its button (which is there without JavaScript).
(function () {
  var form = document.getElementById("tls-continue");
  if (form) { form.submit(); }
})();
