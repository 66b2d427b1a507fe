// The regulator's live alert feed: poll the feed fragment, and acknowledge without leaving the page.
// Plain JavaScript, no dependencies; without it the page still works (forms post and redirect back).
(function () {
  "use strict";
  var container = document.getElementById("feed-container");
  if (!container) return;
  var source = container.getAttribute("data-source");
  var stamp = document.getElementById("feed-updated");
  var busy = false;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)freight_csrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function replaceFeed(html) {
    container.innerHTML = html;
    var open = container.querySelectorAll("li.open").length;
    var counter = document.getElementById("open-alerts");
    if (counter) counter.textContent = String(open);
    if (stamp) stamp.textContent = new Date().toLocaleTimeString(document.documentElement.lang, { hour12: false });
  }

  function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(source, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(replaceFeed)
      .catch(function () {})
      .then(function () { busy = false; });
  }

  container.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("ack")) return;
    event.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    busy = true;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken() },
      body: body
    })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(replaceFeed)
      .catch(function () { form.submit(); })
      .then(function () { busy = false; });
  });

  setInterval(refresh, 10000);
})();
