/* Large screen (大屏): a clock, and every `refreshSeconds` the numbers, charts and heat map
   are fetched again from the KPI API (same definitions as the dashboard). */
(function () {
  "use strict";
  var configElement = document.getElementById("screen-config");
  if (!configElement) { return; }
  var config = JSON.parse(configElement.textContent);
  var clock = document.getElementById("screen-clock");
  var updated = document.getElementById("screen-updated");

  function two(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var now = new Date();
    clock.textContent = now.getFullYear() + "-" + two(now.getMonth() + 1) + "-" + two(now.getDate()) +
      " " + two(now.getHours()) + ":" + two(now.getMinutes()) + ":" + two(now.getSeconds());
  }
  tick();
  setInterval(tick, 1000);

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    });
  }

  function refresh() {
    var query = config.query;
    var dashboard = window.GovernanceDashboard;
    Promise.all([
      getJson(config.kpis + "?" + query),
      getJson(config.trend + "?" + query + "&interval=" + encodeURIComponent(config.interval)),
      getJson(config.heatmap + "?" + query)
    ]).then(function (results) {
      var table = results[0];
      Object.keys(table.total.kpis).forEach(function (key) {
        var target = document.querySelector("[data-testid='screen-" + key + "']");
        if (target) { target.textContent = table.total.kpis[key].display; }
      });
      if (dashboard) {
        dashboard.drawTrend(results[1].series);
        dashboard.drawRanking(table.rows.map(function (row) {
          return { label: row.label, reported: row.kpis.reported.value, on_time_closure: row.kpis.on_time_closure.value };
        }));
        var heat = dashboard.heat();
        if (heat) { heat.update(results[2]); }
      }
      var now = new Date();
      updated.textContent = "⟳ " + two(now.getHours()) + ":" + two(now.getMinutes()) + ":" + two(now.getSeconds());
      updated.dataset.refreshed = String(Number(updated.dataset.refreshed || 0) + 1);
    }).catch(function () {
      updated.textContent = "⚠";
    });
  }

  refresh();
  setInterval(refresh, Math.max(10, config.refreshSeconds) * 1000);
})();
