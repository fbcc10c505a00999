// The report-in board on the case page: it is fetched again whenever the
// case's events say something changed (a whistle, a report-in, a warning),
// and a party whose countdown runs out turns red at once. Also helps with
// the whistle form: a search box over a long list of units and the count of
// those picked.
(function () {
  'use strict';
  var board = document.getElementById('whistleboard');
  if (!board) return;
  var id = board.getAttribute('data-case');

  function wire() {
    board.querySelectorAll('[data-open]').forEach(function (a) {
      a.addEventListener('click', function (e) {
        var d = document.getElementById(a.getAttribute('data-open'));
        if (!d) return;
        e.preventDefault();
        d.open = true;
        d.scrollIntoView({ block: 'center' });
        var first = d.querySelector('input[type=search], input[type=checkbox]');
        if (first) first.focus();
      });
    });
  }
  wire();

  var pending = null, again = false;
  function refresh() {
    if (pending) { again = true; return; }
    pending = fetch('/cases/' + encodeURIComponent(id) + '/whistles', {
      credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch' }
    }).then(function (res) {
      return res.ok ? res.text() : null;
    }).then(function (html) {
      if (html == null) return;
      board.innerHTML = html;
      board.classList.toggle('hidden', !board.querySelector('.wb'));
      wire();
      if (window.zhizhiTick) window.zhizhiTick();
    }).catch(function () {}).then(function () {
      pending = null;
      if (again) { again = false; refresh(); }
    });
  }

  if (window.EventSource) {
    var es = new EventSource('/api/v1/events');
    es.addEventListener('case', function (e) {
      var d;
      try { d = JSON.parse(e.data); } catch (err) { return; }
      if (d.case_id === id) refresh();
    });
    es.addEventListener('resync', refresh);
    window.addEventListener('pagehide', function () { es.close(); });
  }

  // A party still out when its countdown passes the due is late now; the
  // server's sweeper confirms it (a warn event) a moment later.
  setInterval(function () {
    var now = Date.now();
    board.querySelectorAll('.wb-party[data-status=waiting]').forEach(function (li) {
      var clock = li.querySelector('[data-due]');
      if (!clock || +clock.getAttribute('data-due') > now) return;
      li.setAttribute('data-status', 'red');
      li.className = 'wb-party party-red';
      li.querySelector('.wb-status').textContent = '超时未报到';
    });
  }, 1000);

  // The whistle form: search the units, count the picked.
  document.querySelectorAll('fieldset.whistle-pick').forEach(function (fs) {
    var boxes = fs.querySelectorAll('input[type=checkbox]'), picked = fs.querySelector('.picked');
    function count() {
      var n = fs.querySelectorAll('input[type=checkbox]:checked').length;
      picked.textContent = n ? '已选 ' + n : '';
    }
    fs.addEventListener('change', count);
    count();
    if (boxes.length < 8) return;
    var q = document.createElement('input');
    q.type = 'search';
    q.placeholder = '搜索' + (fs.getAttribute('data-what') || '');
    q.className = 'pick-search';
    q.setAttribute('aria-label', q.placeholder);
    fs.insertBefore(q, fs.querySelector('label'));
    q.addEventListener('input', function () {
      var t = q.value.trim();
      fs.querySelectorAll('label.check').forEach(function (l) {
        l.classList.toggle('hidden', t !== '' && l.textContent.indexOf(t) < 0 && !l.querySelector('input').checked);
      });
    });
  });
})();
