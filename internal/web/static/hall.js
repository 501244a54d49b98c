// The hall's screen (叫号屏): every few seconds it asks the screen feed
// (/api/v1/halls/{hall}/screen: numbers, groups and windows only) and
// writes the calls and queues in place, so the screen never reloads.
// Without script the page shows the calls as they were when it loaded.
(function () {
  'use strict';
  var el = document.querySelector('[data-hall-feed]');
  if (!el || !window.fetch) { return; }
  function cell(tag, text) {
    var c = document.createElement(tag);
    if (tag === 'th') { c.scope = 'row'; }
    c.textContent = text;
    return c;
  }
  function show(v) {
    var calls = el.querySelector('[data-calls]');
    var rows = [];
    (v.calls || []).forEach(function (c) {
      var tr = document.createElement('tr');
      tr.appendChild(cell('th', c.number));
      tr.appendChild(cell('td', c.window));
      tr.appendChild(cell('td', c.group));
      rows.push(tr);
    });
    if (rows.length === 0) {
      var tr = document.createElement('tr');
      var td = cell('td', '暂无叫号');
      td.colSpan = 3;
      tr.appendChild(td);
      rows.push(tr);
    }
    calls.replaceChildren.apply(calls, rows);
    var queues = el.querySelector('[data-queues]');
    queues.replaceChildren.apply(queues, (v.queues || []).map(function (q) {
      var li = document.createElement('li');
      li.appendChild(cell('span', q.group + '（' + q.prefix + '）等候'));
      li.appendChild(cell('strong', String(q.waiting)));
      return li;
    }));
  }
  function poll() {
    fetch(el.getAttribute('data-hall-feed'), { credentials: 'omit' }).then(function (r) {
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.json();
    }).then(show).catch(function () { /* kept as it was until the next try */ });
  }
  setInterval(poll, 3000);
})();
