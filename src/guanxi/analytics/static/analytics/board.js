// The KPI board's charts, drawn with ECharts from the tables the page carries (#board-data).
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("board-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var charts = [];
    var palette = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];

    function chart(key, option) {
      var node = document.getElementById("chart-" + key);
      if (!node || !data[key]) return;
      var instance = window.echarts.init(node);
      option.color = option.color || palette;
      option.textStyle = { fontFamily: "inherit" };
      instance.setOption(option);
      charts.push(instance);
    }

    function column(key, index) {
      return data[key].rows.map(function (row) { return row[index]; });
    }

    var revenue = data.revenue;
    if (revenue) {
      chart("revenue", {
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [revenue.columns[1], revenue.columns[2]] },
        grid: { left: 16, right: 16, top: 48, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: column("revenue", 0) },
        yAxis: [{ type: "value", name: "¥" }, { type: "value", splitLine: { show: false } }],
        series: [
          { name: revenue.columns[1], type: "bar", data: column("revenue", 1) },
          { name: revenue.columns[2], type: "line", yAxisIndex: 1, smooth: true, data: column("revenue", 2) },
        ],
      });
    }

    var segments = data.segments;
    if (segments) {
      chart("segments", {
        tooltip: {
          trigger: "axis",
          axisPointer: { type: "shadow" },
          formatter: function (items) {
            var row = segments.rows[items[0].dataIndex];
            return row[0] + "<br>" + segments.columns[1] + ": " + row[1].toLocaleString() +
              "<br>" + segments.columns[2] + ": ¥" + Number(row[2]).toLocaleString() +
              "<br>" + segments.columns[3] + ": " + (row[3] * 100).toFixed(1) + "%";
          },
        },
        grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value" },
        yAxis: { type: "category", inverse: true, data: column("segments", 0) },
        series: [{ name: segments.columns[1], type: "bar", data: column("segments", 1) }],
      });
    }

    if (data.clv) {
      chart("clv", {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        grid: { left: 8, right: 16, top: 16, bottom: 32, containLabel: true },
        xAxis: { type: "category", name: data.clv.columns[0], nameLocation: "middle", nameGap: 28,
                 axisLabel: { interval: 0 }, data: column("clv", 0) },
        yAxis: { type: "value" },
        series: [{ name: data.clv.columns[1], type: "bar", barWidth: "70%", data: column("clv", 1) }],
      });
    }

    var bands = data.bands;
    if (bands) {
      chart("bands", {
        color: ["#16a34a", "#f59e0b", "#dc2626"],
        tooltip: {
          trigger: "item",
          formatter: function (item) {
            var row = bands.rows[item.dataIndex];
            return row[0] + ": " + row[1].toLocaleString() + " (" + item.percent + "%)<br>" +
              bands.columns[2] + ": ¥" + Number(row[2]).toLocaleString();
          },
        },
        legend: { bottom: 0 },
        series: [{
          type: "pie",
          radius: ["40%", "70%"],
          data: bands.rows.map(function (row) { return { name: row[0], value: row[1] }; }),
        }],
      });
    }

    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
