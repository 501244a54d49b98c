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
  // The hall screen (大屏) keeps its figures current: every minute it
  // asks the JSON API (signed in by the page's session) and writes the
  // new figures in place, so the screen never reloads.
  function poll() {
    var el = document.querySelector('[data-poll]');
    if (!el || !window.fetch) { return Promise.resolve(); }
    return fetch(el.getAttribute('data-poll'), { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.json();
    }).then(function (v) {
      el.querySelectorAll('[data-figure]').forEach(function (f) {
        var x = v[f.getAttribute('data-figure')];
        if (typeof x !== 'number') { return; }
        f.textContent = f.hasAttribute('data-rate') ? (x * 100).toFixed(1) + '%' : String(x);
      });
      var now = new Date();
      var at = el.querySelector('[data-updated]');
      if (at) { at.textContent = ('0' + now.getHours()).slice(-2) + ':' + ('0' + now.getMinutes()).slice(-2); }
    }).catch(function () { /* the figures stay as they were until the next try */ });
  }
  window.zwfwStatsPoll = poll;
  function start() {
    draw();
    if (document.querySelector('[data-poll]')) { setInterval(poll, 60000); }
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
