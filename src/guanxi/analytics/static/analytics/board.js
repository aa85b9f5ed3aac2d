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

    // -- the sales forecast and reports (shown to those with sales_report.view) --
    function money(value) {
      return "¥" + Number(value).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    function percent(value) {
      return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
    }
    function moneyAxis() {
      return { type: "value", axisLabel: { formatter: function (v) { return "¥" + Number(v).toLocaleString(); } } };
    }

    var months = data.pipeline_months;
    if (months) {
      // Months before this one are overdue: the same bars in orange.
      var today = new Date();
      var thisMonth = today.getFullYear() + "-" + String(today.getMonth() + 1).padStart(2, "0");
      var overdue = function (index, color) {
        var label = months.rows[index][0];
        return /^\d{4}-\d{2}$/.test(label) && label < thisMonth ? color : undefined;
      };
      var bars = function (index, light) {
        return column("pipeline_months", index).map(function (value, i) {
          var color = overdue(i, light ? "#fed7aa" : "#f97316");
          return color ? { value: value, itemStyle: { color: color } } : value;
        });
      };
      chart("pipeline_months", {
        tooltip: { trigger: "axis", valueFormatter: money },
        legend: { top: 0, data: [months.columns[2], months.columns[3]] },
        grid: { left: 16, right: 16, top: 40, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: column("pipeline_months", 0) },
        yAxis: moneyAxis(),
        series: [
          { name: months.columns[2], type: "bar", color: "#bfdbfe", data: bars(2, true) },
          { name: months.columns[3], type: "bar", color: "#2563eb", data: bars(3, false) },
        ],
      });
    }

    function pipelineBars(key) {
      var table = data[key];
      if (!table) return;
      var last = table.columns.length - 1;
      chart(key, {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: money },
        legend: { top: 0, data: [table.columns[last - 1], table.columns[last]] },
        grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
        xAxis: moneyAxis(),
        yAxis: { type: "category", inverse: true, data: column(key, 0) },
        series: [
          { name: table.columns[last - 1], type: "bar", color: "#bfdbfe", data: column(key, last - 1) },
          { name: table.columns[last], type: "bar", color: "#2563eb", data: column(key, last) },
        ],
      });
    }
    pipelineBars("pipeline_reps");
    pipelineBars("pipeline_teams");

    var funnel = data.funnel;
    if (funnel) {
      chart("funnel", {
        color: ["#93c5fd", "#3b82f6", "#16a34a"],
        tooltip: {
          trigger: "item",
          formatter: function (item) {
            var row = funnel.rows[item.dataIndex];
            return row[0] + ": " + row[1].toLocaleString() + "<br>" + funnel.columns[2] + ": " + percent(row[2]) +
              "<br>" + funnel.columns[3] + ": " + percent(row[3]);
          },
        },
        series: [{
          type: "funnel",
          sort: "none",
          left: "10%", width: "80%", top: 16, bottom: 16,
          minSize: "20%",
          label: {
            position: "inside",
            formatter: function (item) {
              var row = funnel.rows[item.dataIndex];
              return row[0] + "  " + row[1].toLocaleString() + (item.dataIndex ? "  (" + percent(row[2]) + ")" : "");
            },
          },
          data: funnel.rows.map(function (row) { return { name: row[0], value: row[1] }; }),
        }],
      });
    }

    var wins = data.win_rate;
    if (wins) {
      chart("win_rate", {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { top: 0, data: [wins.columns[2], wins.columns[3], wins.columns[4]] },
        grid: { left: 16, right: 16, top: 40, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: column("win_rate", 0) },
        yAxis: [
          { type: "value", minInterval: 1 },
          { type: "value", min: 0, max: 1, splitLine: { show: false },
            axisLabel: { formatter: function (v) { return Math.round(v * 100) + "%"; } } },
        ],
        series: [
          { name: wins.columns[2], type: "bar", stack: "closed", color: "#16a34a", data: column("win_rate", 2) },
          { name: wins.columns[3], type: "bar", stack: "closed", color: "#fca5a5", data: column("win_rate", 3) },
          { name: wins.columns[4], type: "line", yAxisIndex: 1, color: "#1d4ed8", data: column("win_rate", 4),
            tooltip: { valueFormatter: percent } },
        ],
      });
    }

    var cycle = data.sales_cycle;
    if (cycle) {
      chart("sales_cycle", {
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [cycle.columns[1], cycle.columns[3]] },
        grid: { left: 16, right: 16, top: 40, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: column("sales_cycle", 0) },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value", splitLine: { show: false } }],
        series: [
          { name: cycle.columns[1], type: "bar", color: "#93c5fd", data: column("sales_cycle", 1) },
          { name: cycle.columns[3], type: "line", yAxisIndex: 1, color: "#f59e0b", data: column("sales_cycle", 3) },
        ],
      });
    }

    var lost = data.lost_reasons;
    if (lost) {
      chart("lost_reasons", {
        tooltip: {
          trigger: "axis",
          axisPointer: { type: "shadow" },
          formatter: function (items) {
            var row = lost.rows[items[0].dataIndex];
            return row[0] + "<br>" + lost.columns[1] + ": " + row[1].toLocaleString() + "<br>" +
              lost.columns[2] + ": " + money(row[2]);
          },
        },
        grid: { left: 8, right: 72, top: 8, bottom: 8, containLabel: true },
        xAxis: moneyAxis(),
        yAxis: { type: "category", inverse: true, data: column("lost_reasons", 0) },
        series: [{
          name: lost.columns[2], type: "bar", color: "#dc2626", data: column("lost_reasons", 2),
          label: {
            show: true, position: "right",
            formatter: function (item) { var n = lost.rows[item.dataIndex][1]; return n ? "× " + n : ""; },
          },
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
