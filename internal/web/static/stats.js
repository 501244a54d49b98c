// Charts of the statistics pages (issue 10): an enhancement of the
// tables, which the page shows whole without script. The rows come in the
// chart element's data-chart attribute; ECharts is served from this site
// (static/echarts.min.js), never from a CDN.
(function () {
  'use strict';
  function draw() {
    if (!window.echarts) { return; }
    document.querySelectorAll('.stats-chart[data-chart]').forEach(function (el) {
      var rows;
      try { rows = JSON.parse(el.getAttribute('data-chart')); } catch (e) { return; }
      if (!rows || rows.length === 0) { return; }
      el.classList.add('drawn');
      var chart = window.echarts.init(el, null, { renderer: 'svg' });
      chart.setOption({
        animation: false,
        tooltip: { trigger: 'axis' },
        legend: { data: ['申请量', '办结量', '按时办结率'] },
        grid: { left: 48, right: 48, bottom: 64 },
        xAxis: { type: 'category', data: rows.map(function (r) { return r.label; }), axisLabel: { rotate: rows.length > 6 ? 30 : 0 } },
        yAxis: [{ type: 'value', name: '件' }, { type: 'value', name: '%', min: 0, max: 100 }],
        series: [
          { name: '申请量', type: 'bar', data: rows.map(function (r) { return r.submitted; }) },
          { name: '办结量', type: 'bar', data: rows.map(function (r) { return r.finished; }) },
          { name: '按时办结率', type: 'line', yAxisIndex: 1, data: rows.map(function (r) { return Math.round(r.on_time * 10) / 10; }) }
        ]
      });
      window.addEventListener('resize', function () { chart.resize(); });
    });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', draw);
  } else {
    draw();
  }
})();
