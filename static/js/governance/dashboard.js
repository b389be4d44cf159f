/* Supervision dashboard charts (ECharts, served locally) and heat map. Data come embedded in
   the page (json_script): trend, categories, ranking, labels; heat-data is GeoJSON. */
(function () {
  "use strict";
  var dataElement = document.getElementById("dashboard-data");
  if (!dataElement) { return; }
  var data = JSON.parse(dataElement.textContent);
  var labels = data.labels;
  var dark = !!document.getElementById("big-screen");
  var textColour = dark ? "#e8f1ff" : "#333";
  var charts = {};

  function chart(id, option) {
    var element = document.getElementById(id);
    if (!element || typeof echarts === "undefined") { return null; }
    var instance = charts[id] || echarts.init(element, null, { renderer: "canvas" });
    instance.setOption(option, true);
    charts[id] = instance;
    element.dataset.ready = "true";
    return instance;
  }

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
  });

  function percent(value) { return value === null || value === undefined ? null : Math.round(value * 1000) / 10; }

  function drawTrend(trend) {
    chart("trend-chart", {
      textStyle: { color: textColour },
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [labels.reported, labels.closed, labels.closedOnTime], textStyle: { color: textColour } },
      grid: { left: 40, right: 16, top: 36, bottom: 30 },
      xAxis: { type: "category", data: trend.map(function (p) { return p.period; }), axisLabel: { color: textColour } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: textColour } },
      series: [
        { name: labels.reported, type: "bar", barMaxWidth: 18, data: trend.map(function (p) { return p.reported; }) },
        { name: labels.closed, type: "bar", barMaxWidth: 18, data: trend.map(function (p) { return p.closed; }) },
        { name: labels.closedOnTime, type: "line", symbolSize: 5, data: trend.map(function (p) { return p.closed_on_time; }) }
      ]
    });
  }

  function drawCategories(categories) {
    var instance = chart("category-chart", {
      textStyle: { color: textColour },
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      series: [{
        type: "pie", radius: ["35%", "65%"],
        label: { color: textColour },
        data: categories.map(function (c) { return { name: c.name, value: c.count, url: c.url }; })
      }]
    });
    if (instance) {
      instance.off("click");
      instance.on("click", function (params) { if (params.data && params.data.url) { window.location.href = params.data.url; } });
    }
  }

  function drawRanking(ranking) {
    var rows = ranking.slice(0, 15).reverse();
    chart("ranking-chart", {
      textStyle: { color: textColour },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { bottom: 0, data: [labels.reported, labels.onTimeClosure], textStyle: { color: textColour } },
      grid: { left: 110, right: 40, top: 30, bottom: 50 },
      yAxis: { type: "category", data: rows.map(function (r) { return r.label; }), axisLabel: { color: textColour, width: 100, overflow: "truncate" } },
      xAxis: [
        { type: "value", minInterval: 1, axisLabel: { color: textColour } },
        { type: "value", max: 100, axisLabel: { formatter: "{value}%", color: textColour } }
      ],
      series: [
        { name: labels.reported, type: "bar", barMaxWidth: 28, data: rows.map(function (r) { return r.reported; }) },
        { name: labels.onTimeClosure, type: "scatter", symbolSize: 12, xAxisIndex: 1, data: rows.map(function (r) { return percent(r.on_time_closure); }) }
      ]
    });
  }

  drawTrend(data.trend);
  drawCategories(data.categories);
  drawRanking(data.ranking);

  var heatElement = document.getElementById("heat-map");
  var heatData = document.getElementById("heat-data");
  var heat = null;
  function startHeat(geojson) {
    heat = window.GovernanceHeatmap.create(heatElement, geojson, labels, document.getElementById("heat-legend"));
    document.querySelectorAll("input[name='heat-by']").forEach(function (input) {
      input.addEventListener("change", function () { if (input.checked && heat) { heat.colourBy(input.value); } });
    });
  }
  if (heatElement && window.GovernanceHeatmap) {
    if (heatData) {
      startHeat(JSON.parse(heatData.textContent));
    } else if (heatElement.dataset.heatUrl) {
      // A whole city's cells are not embedded in the page: fetched from the heat map API.
      fetch(heatElement.dataset.heatUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(startHeat);
    }
  }

  window.GovernanceDashboard = {
    drawTrend: drawTrend, drawCategories: drawCategories, drawRanking: drawRanking,
    heat: function () { return heat; }
  };
})();
