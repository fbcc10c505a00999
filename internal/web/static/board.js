// The command board: live rows over server-sent events, figures, keyboard.
(function () {
  'use strict';
  var table = document.getElementById('queue');
  if (!table) return;
  var tbody = table.tBodies[0], filter = table.getAttribute('data-filter') || '';
  // New cases are put on top only on the first page of the queue; on later
  // pages a changed row is refreshed in place.
  var first = table.getAttribute('data-first') === '1';
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
      if (res.status === 204) { if (old) { old.remove(); counted(); } return; }
      if (!res.ok) throw new Error('row ' + res.status);
      return res.text().then(function (html) {
        old = tbody.querySelector('tr[data-id="' + CSS.escape(id) + '"]');
        if (old && +old.getAttribute('data-version') > version) return;
        var row = rowFrom(html);
        if (!row) return;
        row.classList.add('fresh');
        if (old) {
          // Keep a row's expanded details and its tick across a refresh.
          if (old.classList.contains('open')) openRow(row, true);
          var was = old.querySelector('td.pick input');
          var now = row.querySelector('td.pick input');
          if (was && now) now.checked = was.checked;
          old.replaceWith(row);
        } else if (first) {
          tbody.insertBefore(row, tbody.firstChild);
        } else {
          return;
        }
        counted();
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

  var alertTimer = null;
  function alerts() {
    if (alertTimer) return;
    alertTimer = setTimeout(function () {
      alertTimer = null;
      fetch('/board/alerts', { headers: headers, credentials: 'same-origin' }).then(function (res) {
        return res.ok ? res.text() : null;
      }).then(function (html) {
        if (html) { document.getElementById('alerts').innerHTML = html; if (window.zhizhiTick) window.zhizhiTick(); }
      }).catch(function () {});
    }, 500);
  }

  // panelEvent reloads the open panel when someone else changed its case,
  // unless a form in it is being filled in (then it says so).
  function panelEvent(d) {
    // Our own form is on its way: its answer brings the newest panel, and
    // the event of that very change must not reload the panel under it.
    if (posting) return;
    var inner = panel.querySelector('.drawer-in');
    if (panel.hidden || !inner || d.case_id !== panelID || d.version <= +inner.getAttribute('data-version')) return;
    var busy = panel.contains(document.activeElement) && /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName);
    if (busy) { panelMessage('案件已被' + (d.actor || '他人') + '更新，提交前请重新打开'); return; }
    panelID = '';
    openPanel(d.case_id).catch(function () {});
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
      alerts();
      panelEvent(d);
      document.dispatchEvent(new CustomEvent('zhizhi:case', { detail: d })); // the map (map.js) refreshes its counts
    });
    es.addEventListener('resync', function () { location.reload(); });
    window.addEventListener('pagehide', function () { es.close(); });
  } else {
    setLive('off', '浏览器不支持实时更新');
  }

  // The action panel: the selected case with the case page's forms, sent
  // through the same handler (from=board answers with the panel again).
  var panel = document.getElementById('board-panel');
  var panelID = panel.querySelector('.drawer-in') ? panel.querySelector('.drawer-in').getAttribute('data-id') : '';
  var loading = null, loadTimer = null;

  function showPanel(html) {
    panel.innerHTML = html;
    panel.hidden = false;
    drawer(true);
    var inner = panel.querySelector('.drawer-in');
    panelID = inner ? inner.getAttribute('data-id') : '';
    if (window.zhizhiTick) window.zhizhiTick();
  }
  function closePanel() {
    panel.hidden = true;
    panel.innerHTML = '';
    panelID = '';
    drawer(false);
  }
  // drawer makes room for the panel; the map (Leaflet) measures itself again on resize.
  function drawer(on) {
    if (document.body.classList.contains('with-drawer') === on) return;
    document.body.classList.toggle('with-drawer', on);
    window.dispatchEvent(new Event('resize'));
  }
  function panelMessage(text) {
    var p = document.createElement('p');
    p.className = 'alert';
    p.setAttribute('role', 'alert');
    p.textContent = text;
    var inner = panel.querySelector('.drawer-in') || panel;
    var old = inner.querySelector('p.alert.js');
    if (old) old.remove();
    p.classList.add('js');
    inner.insertBefore(p, inner.children[1] || null);
    panel.hidden = false;
  }
  // openPanel loads the panel of a case (once at a time per case).
  var posting = 0; // panel forms being sent

  function openPanel(id) {
    if (panelID === id && !panel.hidden) return Promise.resolve();
    if (loading && loading.id === id) return loading.p;
    var p = fetch('/board/panel/' + encodeURIComponent(id), { headers: headers, credentials: 'same-origin' }).then(function (res) {
      return res.text().then(function (text) {
        if (loading && loading.id === id) loading = null;
        if (res.status === 401) { location.href = '/signin?next=' + encodeURIComponent(location.pathname + location.search); return; }
        if (!res.ok) { showPanel('<div class="drawer-in" data-id=""></div>'); panelMessage(text); return; }
        // A slower, older answer must not replace a newer panel.
        var cur = panel.querySelector('.drawer-in[data-id="' + id + '"]');
        var m = /data-version="(\d+)"/.exec(text);
        if (cur && m && +m[1] < +cur.getAttribute('data-version')) return;
        if (posting && cur) return;
        showPanel(text);
      });
    });
    loading = { id: id, p: p };
    return p;
  }

  panel.addEventListener('submit', function (e) {
    var form = e.target, action = form.getAttribute('action') || '';
    if (!/\/act$/.test(action)) return; // (form.action is the input named action)
    e.preventDefault();
    var btn = form.querySelector('button[type=submit]');
    if (btn) { btn.disabled = true; btn.textContent = '提交中…'; }
    var id = panelID;
    posting++;
    fetch(action, { method: 'POST', body: new FormData(form), headers: headers, credentials: 'same-origin' }).then(function (res) {
      return res.text().then(function (text) {
        posting--;
        if (res.status === 401) { location.href = '/signin?next=/board'; return; }
        if (/^text\/html/.test(res.headers.get('Content-Type') || '') && text.indexOf('drawer-in') >= 0) {
          showPanel(text);
          var failed = panel.querySelector('details.action.failed');
          if (failed) {
            var f = failed.querySelector('.field-error, .alert');
            failed.scrollIntoView({ block: 'nearest' });
            if (f) f.setAttribute('tabindex', '-1');
          } else {
            var ver = panel.querySelector('.drawer-in');
            refresh(id, ver ? +ver.getAttribute('data-version') : 0).catch(function () {});
            alerts();
            figures();
            focusQueue();
          }
          return;
        }
        if (btn) { btn.disabled = false; btn.textContent = btn.getAttribute('data-label') || '提交'; }
        panelMessage(text || ('提交失败（' + res.status + '）'));
      });
    }).catch(function () {
      posting = Math.max(0, posting - 1);
      if (btn) { btn.disabled = false; btn.textContent = '重试'; }
      panelMessage('网络错误，请重试');
    });
  });
  panel.addEventListener('click', function (e) {
    var close = e.target.closest('.drawer-close');
    if (close) { e.preventDefault(); closePanel(); focusQueue(); return; }
    var m = e.target.closest('[data-merge]');
    if (m) {
      var radio = panel.querySelector('#act-merge input[name=target][value="' + CSS.escape(m.getAttribute('data-merge')) + '"]');
      if (radio) { radio.checked = true; openForm('m', 'button'); }
    }
  });
  // Remember each submit button's label, to restore it after a failure.
  new MutationObserver(function () {
    panel.querySelectorAll('button[type=submit]:not([data-label])').forEach(function (b) { b.setAttribute('data-label', b.textContent); });
  }).observe(panel, { childList: true, subtree: true });

  // openForm unfolds the panel's form of a shortcut and focuses what the
  // action needs: the reason, the duplicate to merge into, or the button
  // when everything is pre-filled (accept, dispatch, urge).
  var focusOf = { a: 'button', d: 'button', u: 'button', r: 'textarea', e: 'textarea', m: 'target' };
  function openForm(key, what) {
    var d = panel.querySelector('details.action[data-key="' + key + '"]');
    if (!d) {
      var names = { a: '受理', r: '不予受理', m: '合并', d: '派遣', e: '上提', u: '催办' };
      panelMessage('此案件当前不能' + names[key]);
      return;
    }
    var stale = panel.querySelector('p.alert.js');
    if (stale) stale.remove();
    panel.querySelectorAll('details.action[open]').forEach(function (o) { if (o !== d) o.open = false; });
    d.open = true;
    what = what || focusOf[key];
    var el = null;
    if (what === 'target') el = d.querySelector('input[name=target]:checked') || d.querySelector('input[name=target]') || d.querySelector('input[name=target_number]');
    else if (what === 'textarea') el = d.querySelector('textarea');
    if (!el) el = d.querySelector('button[type=submit]');
    d.scrollIntoView({ block: 'nearest' });
    if (el) el.focus();
  }

  // Keyboard: j/k move, Enter opens, / searches; a r m d e u act on the
  // selected case in the panel; Ctrl+Enter sends the panel's form; Esc closes.
  var sel = -1;
  function rows() { return tbody.querySelectorAll('tr[data-id]'); }
  function select(i, now) {
    var list = rows();
    if (!list.length) return;
    sel = Math.max(0, Math.min(i, list.length - 1));
    list.forEach(function (r) { r.classList.remove('sel'); });
    list[sel].classList.add('sel');
    list[sel].scrollIntoView({ block: 'nearest' });
    var id = list[sel].getAttribute('data-id');
    clearTimeout(loadTimer);
    if (now) return openPanel(id);
    loadTimer = setTimeout(function () { openPanel(id).catch(function () {}); }, 150);
    return Promise.resolve();
  }
  function selectedID() {
    var r = rows()[sel];
    return r ? r.getAttribute('data-id') : '';
  }
  function focusQueue() {
    if (document.activeElement && panel.contains(document.activeElement)) document.activeElement.blur();
  }
  document.addEventListener('keydown', function (e) {
    var t = e.target.tagName;
    if (e.key === 'Escape' && !panel.hidden) { closePanel(); focusQueue(); return; }
    if (e.key === 'Enter' && panel.contains(e.target) && e.target.form &&
        (e.ctrlKey || e.metaKey || e.target.type === 'radio' || e.target.type === 'checkbox')) {
      e.preventDefault();
      e.target.form.requestSubmit();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || t === 'INPUT' || t === 'TEXTAREA' || t === 'SELECT') return;
    if (panel.contains(e.target) && (t === 'BUTTON' || t === 'SUMMARY' || t === 'A') && e.key === 'Enter') return;
    if (e.key === 'j') { select(sel + 1); e.preventDefault(); }
    else if (e.key === 'k') { select(sel - 1); e.preventDefault(); }
    else if (e.key === '/') { document.getElementById('search').focus(); e.preventDefault(); }
    else if (e.key === 'x' && rows()[sel]) {
      var box = rows()[sel].querySelector('td.pick input');
      if (box) { box.checked = !box.checked; counted(); }
    } else if (e.key === 'o' && rows()[sel]) { openRow(rows()[sel], !rows()[sel].classList.contains('open')); }
    else if (e.key === 'Enter' && sel >= 0) {
      var a = rows()[sel] && rows()[sel].querySelector('a');
      if (a) location.href = a.href;
    } else if (focusOf[e.key]) {
      e.preventDefault();
      var key = e.key;
      var id = selectedID();
      if (!id && panelID) { openForm(key); return; }
      if (!id) { select(0, true).then(function () { openForm(key); }); return; }
      clearTimeout(loadTimer);
      openPanel(id).then(function () { openForm(key); });
    }
  });
  tbody.addEventListener('click', function (e) {
    var tr = e.target.closest('tr[data-id]');
    if (!tr || e.target.closest('a')) return;
    if (e.target.closest('.expand')) { openRow(tr, !tr.classList.contains('open')); return; }
    if (e.target.closest('td.pick')) { counted(); return; }
    var list = rows();
    for (var i = 0; i < list.length; i++) if (list[i] === tr) { select(i, true); return; }
  });
  // Alerts open the panel too; the link stays the way without script.
  document.getElementById('alerts').addEventListener('click', function (e) {
    var li = e.target.closest('li[data-id]');
    if (!li || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    openPanel(li.getAttribute('data-id'));
  });

  // Dense rows: one line per case; the arrow (or o) shows the details.
  function openRow(tr, on) {
    tr.classList.toggle('open', on);
    var more = tr.querySelector('.more');
    if (more) more.hidden = !on;
    var b = tr.querySelector('.expand');
    if (b) b.setAttribute('aria-expanded', on ? 'true' : 'false');
  }

  // Batch: the ticked rows go with the batch form (form="batch"); the
  // server shows them once more for one confirmation.
  var batch = document.getElementById('batch');
  var all = document.getElementById('select-all');
  var count = document.getElementById('selected-count');
  function ticked() { return tbody.querySelectorAll('td.pick input:checked'); }
  function counted() {
    if (!count) return;
    var n = ticked().length;
    count.textContent = '已选 ' + n + ' 件';
    if (all) all.checked = n > 0 && n === tbody.querySelectorAll('td.pick input').length;
  }
  if (all) all.addEventListener('change', function () {
    tbody.querySelectorAll('td.pick input').forEach(function (b) { b.checked = all.checked; });
    counted();
  });
  tbody.addEventListener('change', function (e) { if (e.target.closest('td.pick')) counted(); });
  if (batch) {
    var action = document.getElementById('batch-action');
    var lead = document.getElementById('batch-lead');
    var rating = document.getElementById('batch-rating');
    var fit = function () {
      lead.hidden = action.value !== 'dispatch';
      rating.hidden = action.value !== 'rate';
    };
    action.addEventListener('change', fit);
    fit();
    batch.addEventListener('submit', function (e) {
      if (!ticked().length) { e.preventDefault(); count.textContent = '请先勾选要处理的案件'; }
    });
  }
  counted();
})();
