// oso management pages: the dashboard's active calls, kept up to date.
//
// Each call model event on the REST API's stream (/api/v1/events, the
// session cookie authenticates it; the table's data-events attribute
// names the event types it sends) makes the page fetch the calls table's
// body again (/dashboard/calls, rendered and escaped by the server).
// Without the stream it is fetched every few seconds instead.
(function () {
  "use strict";

  var POLL_MS = 5000;
  var table = document.getElementById("calls");
  if (!table) {
    return;
  }
  var live = document.getElementById("live");
  var busy = false;
  var again = false;
  var polling = null;

  function show(state) {
    if (live) {
      live.textContent = state;
      live.dataset.state = state;
    }
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch("/dashboard/calls", {credentials: "same-origin", redirect: "manual"})
      .then(function (response) {
        if (!response.ok) {
          // Logged out (a redirect) or refused: the whole page says why.
          window.location.reload();
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var body = table.querySelector("tbody");
        var fresh = document.createElement("tbody");
        fresh.innerHTML = html;
        table.replaceChild(fresh, body);
        table.dataset.updated = String(Date.now());
      })
      .catch(function () {
        show("offline");
      })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  function poll() {
    if (polling === null) {
      polling = window.setInterval(refresh, POLL_MS);
      show("polling");
    }
  }

  if (!window.EventSource) {
    poll();
    return;
  }
  var source = new EventSource("/api/v1/events");
  source.onopen = function () {
    show("live");
    refresh();
  };
  table.dataset.events.split(" ").forEach(function (name) {
    source.addEventListener(name, refresh);
  });
  source.onerror = function () {
    if (source.readyState === EventSource.CLOSED) {
      poll();
    }
  };
}());
