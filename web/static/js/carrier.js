// The dispatch app's live parts, in plain JavaScript with no dependencies. Without it every page still
// works: forms post and redirect, and a reload shows the latest state.
//  - boards (#live): poll the board's version token; when it changes, fetch the page again and swap the board;
//  - planning progress (#progress): poll the plan's progress and move the bar; open the plan when it is done;
//  - Gantt chart: a click on a hook or drop picks that move and its tractor in the Adjust form.
(function () {
  "use strict";

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.ok ? r.json() : Promise.reject(r.status);
    });
  }

  function stamp() {
    var el = document.getElementById("live-updated");
    if (el) el.textContent = new Date().toLocaleTimeString(document.documentElement.lang, { hour12: false });
  }

  function followBoard(live) {
    var busy = false;
    function check() {
      if (busy || document.hidden) return;
      busy = true;
      getJSON(live.getAttribute("data-live-source"))
        .then(function (state) {
          if (state.version === live.getAttribute("data-live-version")) return;
          return fetch(window.location.href, { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
            .then(function (html) {
              var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
              if (!fresh) return;
              live.innerHTML = fresh.innerHTML;
              live.setAttribute("data-live-version", fresh.getAttribute("data-live-version"));
              live.classList.add("flash-update");
              setTimeout(function () { live.classList.remove("flash-update"); }, 1200);
            });
        })
        .then(stamp, function () {})
        .then(function () { busy = false; });
    }
    setInterval(check, 5000);
  }

  function followPlanning(box) {
    var bar = document.getElementById("progress-bar");
    var meter = box.querySelector("[role=progressbar]");
    function show(id, value, digits) {
      var el = document.getElementById(id);
      if (el && value !== null && value !== undefined) el.textContent = Number(value).toFixed(digits || 0);
    }
    function poll() {
      getJSON(box.getAttribute("data-source")).then(function (p) {
        var share = Math.min(100, Math.round((100 * p.elapsed_s) / Math.max(p.time_limit_s, 1)));
        if (bar) bar.style.width = share + "%";
        if (meter) meter.setAttribute("aria-valuenow", String(share));
        show("p-elapsed", p.elapsed_s, 1);
        show("p-tractors", p.tractors);
        show("p-deadhead", p.deadhead_km);
        show("p-unassigned", p.unassigned);
        if (p.status === box.getAttribute("data-status")) return setTimeout(poll, 700);
        window.location.reload();
      }, function () { setTimeout(poll, 2000); });
    }
    poll();
  }

  function pickFromGantt(gantt) {
    gantt.addEventListener("click", function (event) {
      var bar = event.target.closest ? event.target.closest("[data-move]") : null;
      var move = document.getElementById("adjust-move");
      if (!bar || !move) return;
      var id = bar.getAttribute("data-move");
      move.value = id;
      var row = bar.closest("[data-tractor]");
      var tractor = document.getElementById("adjust-tractor");
      if (row && tractor) tractor.value = row.getAttribute("data-tractor");
      Array.prototype.forEach.call(gantt.querySelectorAll(".picked"), function (el) { el.classList.remove("picked"); });
      Array.prototype.forEach.call(gantt.querySelectorAll('[data-move="' + id + '"]'), function (el) { el.classList.add("picked"); });
      move.focus();
    });
  }

  var live = document.getElementById("live");
  if (live) followBoard(live);
  var progress = document.getElementById("progress");
  if (progress && progress.getAttribute("data-status") !== "failed") followPlanning(progress);
  var gantt = document.getElementById("gantt");
  if (gantt) pickFromGantt(gantt);
})();
