// The list board (清单, /lists/{id}): live rows over the console's
// server-sent events of case and project changes in scope. When a case or a
// project on the list changes, the board is read again and that row (and
// the open/closed figures) replaced in place; a row whose supervise form is being filled in
// is left alone and says the case changed.
(function () {
  'use strict';
  var table = document.getElementById('list-items');
  var live = document.getElementById('live');
  if (!table || !live) return;
  var tbody = table.tBodies[0];
  var headers = { 'X-Requested-With': 'fetch' };
  var pending = {}, timer = null;

  function setLive(state, text) { live.setAttribute('data-state', state); live.textContent = text; }

  function rowOf(id) {
    var rows = tbody.querySelectorAll('tr[data-item]');
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute('data-item') === id) return rows[i];
    }
    return null;
  }

  function busy(row) {
    var d = row.querySelector('details.supervise');
    return d && d.open;
  }

  // refresh reads the board once for the rows changed meanwhile.
  function refresh() {
    timer = null;
    var ids = Object.keys(pending);
    var versions = pending;
    pending = {};
    if (!ids.length) return;
    fetch(location.pathname, { headers: headers, credentials: 'same-origin' }).then(function (res) {
      if (!res.ok) throw new Error('board ' + res.status);
      return res.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var fresh = doc.getElementById('list-items');
      var figs = doc.getElementById('list-figures'), old = document.getElementById('list-figures');
      if (figs && old) old.innerHTML = figs.innerHTML;
      ids.forEach(function (id) {
        var row = rowOf(id);
        if (!row || !fresh) return;
        var rows = fresh.tBodies[0].querySelectorAll('tr[data-item]'), next = null;
        for (var i = 0; i < rows.length; i++) {
          if (rows[i].getAttribute('data-item') === id) next = rows[i];
        }
        if (!next) return;
        if (+row.getAttribute('data-version') >= +next.getAttribute('data-version')) return;
        if (busy(row)) {
          row.classList.add('changed');
          row.setAttribute('title', (row.getAttribute('data-kind') === 'project' ? '项目' : '案件') + '已被' + (versions[id].actor || '他人') + '更新，提交前请刷新');
          return;
        }
        next = document.importNode(next, true);
        next.classList.add('fresh');
        row.replaceWith(next);
        setTimeout(function () { next.classList.remove('fresh'); }, 4000);
      });
      setLive('on', '实时');
    }).catch(function () { setLive('off', '刷新失败'); });
  }

  if (!window.EventSource) { setLive('off', '浏览器不支持实时更新'); return; }
  var es = new EventSource('/api/v1/events');
  es.onopen = function () { setLive('on', '实时'); };
  es.onerror = function () { setLive('off', '连接中断，正在重连…'); };
  es.addEventListener('case', function (e) {
    var d;
    try { d = JSON.parse(e.data); } catch (err) { return; }
    var row = d && rowOf(d.case_id);
    if (!row || d.version <= +row.getAttribute('data-version')) return;
    pending[d.case_id] = d;
    if (!timer) timer = setTimeout(refresh, 300);
  });
  // A project on the list (a milestone met, the project verified and
  // closed) comes as its own event, with the project's version.
  es.addEventListener('project', function (e) {
    var d;
    try { d = JSON.parse(e.data); } catch (err) { return; }
    var row = d && rowOf(d.project_id);
    if (!row || d.version <= +row.getAttribute('data-version')) return;
    pending[d.project_id] = d;
    if (!timer) timer = setTimeout(refresh, 300);
  });
  es.addEventListener('resync', function () { location.reload(); });
  window.addEventListener('pagehide', function () { es.close(); });
})();
