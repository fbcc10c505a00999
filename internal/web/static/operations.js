// The live operations board: the API's stream of the board
// (/api/v1/operations/{id}/live, server-sent events like the case board's)
// says when the board changed; the page then fetches the board's fragment
// and swaps it in, and the countdowns start again.
(function () {
  'use strict';
  var board = document.getElementById('op-board');
  var live = document.getElementById('op-live');
  if (!board) return;
  var id = board.getAttribute('data-id');
  function setLive(cls, text) {
    if (!live) return;
    live.className = 'live ' + cls;
    live.textContent = text;
  }
  var pending = null, again = false;
  function refresh() {
    if (pending) { again = true; return; }
    pending = fetch('/operations/' + encodeURIComponent(id) + '?part=board', {
      credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch' }
    }).then(function (res) {
      return res.ok ? res.text() : null;
    }).then(function (html) {
      if (html == null) return;
      board.innerHTML = html;
      if (window.zhizhiTick) window.zhizhiTick();
    }).catch(function () { setLive('off', '刷新失败'); }).then(function () {
      pending = null;
      if (again) { again = false; refresh(); }
    });
  }
  if (!window.EventSource) { setLive('off', '浏览器不支持实时更新'); return; }
  var first = true;
  var es = new EventSource('/api/v1/operations/' + encodeURIComponent(id) + '/live');
  es.onopen = function () { setLive('on', '实时'); };
  es.onerror = function () { setLive('off', '连接中断，正在重连…'); };
  es.addEventListener('board', function () {
    // The first event is the board the page was rendered with.
    if (first) { first = false; return; }
    refresh();
  });
  window.addEventListener('pagehide', function () { es.close(); });
})();
