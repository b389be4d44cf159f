/* Petition analysis charts (petitions/analysis.html); data from json_script. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("analysis-data").textContent);
  function bar(id, rows) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return;
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: {}, grid: {left: 40, right: 10, bottom: 60, top: 10},
      xAxis: {type: "category", data: rows.map(function (r) { return r.label; }), axisLabel: {rotate: 30}},
      yAxis: {type: "value", minInterval: 1},
      series: [{type: "bar", data: rows.map(function (r) { return r.count; })}]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function pie(id, rows) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return;
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: {trigger: "item"},
      series: [{type: "pie", radius: "60%", data: rows.map(function (r) { return {name: r.label, value: r.count}; })}]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  bar("chart-month", data.by_month);
  bar("chart-category", data.by_category);
  pie("chart-kind", data.by_kind);
  pie("chart-channel", data.by_channel);
  bar("chart-region", data.by_region);
  pie("chart-level", data.by_level);
})();
