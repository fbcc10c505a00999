// The case page: keyboard shortcuts focus an action's form; the page
// reloads when someone else changes the case.
(function () {
  'use strict';
  document.addEventListener('keydown', function (e) {
    var t = e.target.tagName;
    if (e.ctrlKey || e.metaKey || e.altKey || t === 'INPUT' || t === 'TEXTAREA' || t === 'SELECT') return;
    var form = document.querySelector('details.action[data-key="' + e.key + '"]');
    if (!form) return;
    e.preventDefault();
    form.open = true;
    form.scrollIntoView({ block: 'center' });
    var first = form.querySelector('form select, form input:not([type=hidden]), form textarea, form button');
    if (first) first.focus();
    form.classList.add('focus');
    setTimeout(function () { form.classList.remove('focus'); }, 1500);
  });
  // 增加一项决定: the meeting form offers a few empty decision rows; with a
  // script, one more at a time.
  document.querySelectorAll('[data-add-decision]').forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener('click', function () {
      var rows = btn.parentNode.querySelectorAll('.decision-row');
      var last = rows[rows.length - 1];
      var row = last.cloneNode(true);
      row.querySelectorAll('input, select').forEach(function (el) { el.value = ''; });
      var label = row.querySelector('label');
      if (label && label.firstChild) label.firstChild.nodeValue = '决定事项 ' + (rows.length + 1);
      btn.parentNode.insertBefore(row, btn);
      row.querySelector('input').focus();
    });
  });
  var failed = document.querySelector('details.action.failed');
  if (failed) failed.scrollIntoView({ block: 'center' });
  // 获取当前位置 fills the latitude and longitude of its form.
  document.querySelectorAll('[data-geo]').forEach(function (btn) {
    btn.addEventListener('click', function () {
      var form = btn.form;
      if (!navigator.geolocation) { btn.textContent = '此设备不支持定位'; return; }
      btn.textContent = '正在定位…';
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.lat.value = pos.coords.latitude.toFixed(6);
        form.elements.lng.value = pos.coords.longitude.toFixed(6);
        btn.textContent = '📍 已获取当前位置';
      }, function () { btn.textContent = '定位失败，请手动填写'; }, { enableHighAccuracy: true, timeout: 15000 });
    });
  });
  var art = document.querySelector('article.case');
  if (art && window.EventSource) {
    var id = art.getAttribute('data-id'), version = +art.getAttribute('data-version');
    var es = new EventSource('/api/v1/events');
    es.addEventListener('case', function (e) {
      var d;
      try { d = JSON.parse(e.data); } catch (err) { return; }
      if (d.case_id !== id || d.version <= version) return;
      var bar = document.getElementById('changed');
      if (!bar) {
        bar = document.createElement('p');
        bar.id = 'changed';
        bar.className = 'flash';
        bar.textContent = '案件已被' + (d.actor || '他人') + '更新。';
        var a = document.createElement('a');
        a.href = location.pathname;
        a.textContent = '刷新查看';
        bar.appendChild(a);
        art.insertBefore(bar, art.firstChild);
      }
    });
    window.addEventListener('pagehide', function () { es.close(); });
  }
})();
