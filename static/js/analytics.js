/* Charts of the analytics pages (ECharts, served by the product). Data comes from the
   json_script block "analytics-data" written by the page; nothing is fetched. */
(function () {
  "use strict";
  var node = document.getElementById("analytics-data");
  if (!node || typeof echarts === "undefined") return;
  var data = JSON.parse(node.textContent);
  var CHANNEL_LABELS = {};
  (data.channels || []).forEach(function (c) { CHANNEL_LABELS[c.code] = c.label; });
  var charts = [];
  // A page printed to PDF draws its charts at once, as vectors.
  var still = document.documentElement.hasAttribute("data-still");

  function make(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    if (still) option.animation = false;
    var chart = echarts.init(el, null, { renderer: still ? "svg" : "canvas" });
    chart.setOption(option);
    el.setAttribute("data-rendered", "1");
    charts.push(chart);
  }
  function pct(v) { return v === null || v === undefined ? null : Math.round(v * 1000) / 10; }

  // A printed chart cannot scroll its legend: it wraps, so the plot starts below the rows the
  // legend takes (a Chinese character 10 px at font size 10, a digit or letter 6, plus the mark
  // and the gap), never under them.
  var LEGEND_ROW = 18;
  function textWidth(text) {
    var w = 0;
    for (var i = 0; i < text.length; i++) w += text.charCodeAt(i) > 255 ? 10 : 6;
    return w;
  }
  function legendRows(labels, width) {
    var rows = 1, used = 0;
    labels.forEach(function (label) {
      var w = 14 + 5 + textWidth(String(label)) + 8;
      if (used && used + w > width) { rows += 1; used = 0; }
      used += w;
    });
    return rows;
  }
  function chartWidth(id) {
    var el = document.getElementById(id);
    return el ? el.clientWidth || 340 : 340;
  }

  var days = (data.daily || []).map(function (d) { return d.date.slice(5); });
  var used = (data.channels || []).filter(function (c) { return c.n > 0; });
  var dailyRows = still ? legendRows(used.map(function (c) { return c.label; }), chartWidth("chart-daily") - 16) : 1;
  make("chart-daily", {
    tooltip: { trigger: "axis", renderMode: "richText" },
    legend: {
      type: still ? "plain" : "scroll", top: 0, itemWidth: 14, itemHeight: 9, itemGap: 8,
      textStyle: { fontSize: 10 }
    },
    grid: { left: 40, right: 16, top: 12 + dailyRows * LEGEND_ROW, bottom: 28 },
    xAxis: { type: "category", data: days },
    yAxis: { type: "value", minInterval: 1 },
    series: used.map(function (c) {
      return {
        name: c.label, type: "bar", stack: "appeals",
        data: (data.daily || []).map(function (d) { return d.channels[c.code] || 0; })
      };
    })
  });
  make("chart-severity", {
    tooltip: { trigger: "item", renderMode: "richText" },
    // Beside the ring, not under it: four grades fit one column at any chart height.
    legend: { orient: "vertical", right: 0, top: "middle", itemWidth: 14, itemHeight: 9, textStyle: { fontSize: 10 } },
    series: [{
      type: "pie", radius: ["38%", "68%"], center: ["38%", "50%"], label: { show: false },
      data: (data.severities || []).map(function (s) {
        return { name: s.label, value: s.n, itemStyle: { color: s.colour } };
      })
    }]
  });
  make("chart-satisfaction", {
    tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + "%"; } },
    grid: { left: 44, right: 16, top: 20, bottom: 28 },
    xAxis: { type: "category", data: days },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series: [{
      name: (data.labels || {}).satisfaction || "", type: "line", connectNulls: true, smooth: true,
      data: (data.daily || []).map(function (d) { return pct(d.satisfaction); })
    }]
  });
  var units = data.units || [];
  make("chart-units", {
    tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + "%"; } },
    grid: { left: 100, right: 24, top: 10, bottom: 24 },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", data: units.map(function (u) { return u.name; }), inverse: true },
    series: [{
      name: (data.labels || {}).satisfaction || "", type: "bar",
      data: units.map(function (u) { return pct(u.satisfaction); })
    }]
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
