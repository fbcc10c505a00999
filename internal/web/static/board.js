// The command board: live rows over server-sent events, figures, keyboard.
(function () {
  'use strict';
  var table = document.getElementById('queue');
  if (!table) return;
  var tbody = table.tBodies[0], filter = table.getAttribute('data-filter') || '';
  var live = document.getElementById('live');
  var headers = { 'X-Requested-With': 'fetch' };

  function setLive(state, text) { live.setAttribute('data-state', state); live.textContent = text; }

  function rowFrom(html) {
    var t = document.createElement('template');
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  // refresh fetches one case's row as the board's filter sees it: replaced in
  // place, inserted at the top when new, removed when it no longer matches.
  function refresh(id, version) {
    var url = '/board/rows/' + encodeURIComponent(id) + (filter ? '?' + filter : '');
    return fetch(url, { headers: headers, credentials: 'same-origin' }).then(function (res) {
      var old = tbody.querySelector('tr[data-id="' + CSS.escape(id) + '"]');
      if (res.status === 204) { if (old) old.remove(); return; }
      if (!res.ok) throw new Error('row ' + res.status);
      return res.text().then(function (html) {
        old = tbody.querySelector('tr[data-id="' + CSS.escape(id) + '"]');
        if (old && +old.getAttribute('data-version') > version) return;
        var row = rowFrom(html);
        if (!row) return;
        row.classList.add('fresh');
        if (old) old.replaceWith(row); else tbody.insertBefore(row, tbody.firstChild);
        var empty = document.getElementById('empty');
        if (empty) empty.remove();
        if (window.zhizhiTick) window.zhizhiTick();
        setTimeout(function () { row.classList.remove('fresh'); }, 4000);
      });
    });
  }

  var figTimer = null;
  function figures() {
    if (figTimer) return;
    figTimer = setTimeout(function () {
      figTimer = null;
      fetch('/board/figures', { headers: headers, credentials: 'same-origin' }).then(function (res) {
        return res.ok ? res.text() : null;
      }).then(function (html) {
        if (html) document.getElementById('figures').innerHTML = html;
      }).catch(function () {});
    }, 1000);
  }

  if (window.EventSource) {
    var es = new EventSource('/api/v1/events');
    es.onopen = function () { setLive('on', '实时'); };
    es.onerror = function () { setLive('off', '连接中断，正在重连…'); };
    es.addEventListener('case', function (e) {
      var d;
      try { d = JSON.parse(e.data); } catch (err) { return; }
      refresh(d.case_id, d.version).catch(function () { setLive('off', '刷新失败'); });
      figures();
      document.dispatchEvent(new CustomEvent('zhizhi:case', { detail: d })); // the map (map.js) refreshes its counts
    });
    es.addEventListener('resync', function () { location.reload(); });
    window.addEventListener('pagehide', function () { es.close(); });
  } else {
    setLive('off', '浏览器不支持实时更新');
  }

  // Keyboard: j/k move, Enter opens, / searches.
  var sel = -1;
  function rows() { return tbody.querySelectorAll('tr[data-id]'); }
  function select(i) {
    var list = rows();
    if (!list.length) return;
    sel = Math.max(0, Math.min(i, list.length - 1));
    list.forEach(function (r) { r.classList.remove('sel'); });
    list[sel].classList.add('sel');
    list[sel].scrollIntoView({ block: 'nearest' });
  }
  document.addEventListener('keydown', function (e) {
    var t = e.target.tagName;
    if (e.ctrlKey || e.metaKey || e.altKey || t === 'INPUT' || t === 'TEXTAREA' || t === 'SELECT') return;
    if (e.key === 'j') { select(sel + 1); e.preventDefault(); }
    else if (e.key === 'k') { select(sel - 1); e.preventDefault(); }
    else if (e.key === '/') { document.getElementById('search').focus(); e.preventDefault(); }
    else if (e.key === 'Enter' && sel >= 0) {
      var a = rows()[sel] && rows()[sel].querySelector('a');
      if (a) location.href = a.href;
    }
  });
  tbody.addEventListener('click', function (e) {
    var tr = e.target.closest('tr[data-id]');
    if (tr && e.target.tagName !== 'A') { var a = tr.querySelector('a'); if (a) location.href = a.href; }
  });
})();
