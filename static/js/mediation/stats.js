/* Mediation statistics chart (mediation/stats.html): data from json_script, series names
   (translated) from the chart element's data-rate-label and data-days-label. */
(function () {
  "use strict";
  var element = document.getElementById("stats-chart");
  var data = JSON.parse(document.getElementById("stats-data").textContent);
  if (!element || !data.labels.length || typeof echarts === "undefined") { return; }
  var rateLabel = element.dataset.rateLabel, daysLabel = element.dataset.daysLabel;
  var chart = echarts.init(element);
  chart.setOption({
    tooltip: {trigger: "axis"},
    legend: {data: [rateLabel, daysLabel]},
    xAxis: {type: "category", data: data.labels, axisLabel: {interval: 0, rotate: 20}},
    yAxis: [{type: "value", max: 100}, {type: "value"}],
    series: [
      {name: rateLabel, type: "bar", data: data.rates},
      {name: daysLabel, type: "line", yAxisIndex: 1, data: data.days}
    ]
  });
})();
