/* Reading indicator charts (ECharts, canvas renderer).
 *
 * <div data-reading-chart="id-of-json-block"> is drawn from the ECharts option in
 * <script type="application/json" id="...">.  Values arrive as decimal strings (the
 * server never turns a rate into a binary float); they are numbers only for drawing. */
(function () {
  "use strict";

  function numeric(option) {
    (option.series || []).forEach(function (series) {
      series.data = (series.data || []).map(function (value) {
        return value === null || value === undefined ? null : Number(value);
      });
    });
    return option;
  }

  function draw(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-reading-chart]").forEach(function (el) {
      if (el.dataset.rendered) { return; }
      var source = document.getElementById(el.dataset.readingChart);
      if (!source) { return; }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(numeric(JSON.parse(source.textContent)));
      el.dataset.rendered = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
})();
