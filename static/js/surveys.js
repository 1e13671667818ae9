// Answer charts of a sampling survey's page (ECharts, served by the product). The data comes from
// the json_script block "survey-charts" written by the page.
(function () {
  "use strict";
  var node = document.getElementById("survey-charts");
  if (!node || !window.echarts) { return; }
  var data = JSON.parse(node.textContent || "[]");
  document.querySelectorAll(".survey-chart").forEach(function (el) {
    var item = data[Number(el.dataset.chart)];
    if (!item) { return; }
    var chart = echarts.init(el);
    chart.setOption({
      grid: {left: 90, right: 20, top: 10, bottom: 20},
      xAxis: {type: "value", minInterval: 1},
      yAxis: {type: "category", data: item.labels, inverse: true},
      series: [{type: "bar", data: item.values, itemStyle: {color: "#1565c0"}, label: {show: true, position: "right"}}]
    });
  });
})();
