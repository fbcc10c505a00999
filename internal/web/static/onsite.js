// The visit form (现场办公, /m/onsite) on a phone, with or without signal.
// The phone's position fills the place. Every visit is first kept in
// IndexedDB with a reference made on the phone (client_ref), then sent as
// JSON to /api/v1/visits; it is dropped from the phone only after the
// server has answered with the visit. The server keeps one visit per
// recorder and reference, so a visit sent again after a lost answer makes
// no second visit and no second case. Waiting visits go out when the
// signal returns (the online event), when the form opens, and every 30 s
// while some wait; the service worker (sw.js) keeps the form itself, so it
// opens without signal too. Without this script the form posts to /visits.
(function () {
  'use strict';
  var form = document.getElementById('visit-form');
  if (!form) return;
  var refInput = document.getElementById('client-ref');
  function newRef() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return 'v' + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }
  if (refInput && !refInput.value) refInput.value = newRef();

  // --- the phone's position.
  var btn = document.getElementById('visit-locate');
  if (btn && !navigator.geolocation) btn.hidden = true;
  if (btn && navigator.geolocation) {
    btn.addEventListener('click', function () {
      var where = document.getElementById('visit-where');
      where.textContent = '正在定位…';
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById('visit-lng').value = pos.coords.longitude.toFixed(6);
        document.getElementById('visit-lat').value = pos.coords.latitude.toFixed(6);
        where.textContent = '已定位（' + pos.coords.longitude.toFixed(5) + '，' + pos.coords.latitude.toFixed(5) + '）';
      }, function () {
        where.textContent = '无法获取位置，请选择包联对象或填写地址';
      }, { enableHighAccuracy: true, timeout: 10000 });
    });
  }

  var box = document.getElementById('visit-outbox');
  if (!box || !window.indexedDB || !window.fetch || !window.Promise) return;
  var account = box.getAttribute('data-account') || '';
  var list = document.getElementById('visit-outbox-list'), count = document.getElementById('visit-outbox-count'),
    stateLine = document.getElementById('visit-outbox-state');
  var submit = form.querySelector('button[type=submit]');
  var flushing = null, problem = '', sending = {};
  var DAY = 24 * 3600 * 1000;

  // A page kept by the worker shows the time it was kept: a fresh form
  // (not one the server sent back to be corrected) starts at the phone's
  // time, in Beijing.
  function beijingNow() { return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 16); }
  if (!document.querySelector('.visit-form .alert') && form.elements.at) form.elements.at.value = beijingNow();

  // --- IndexedDB: one store of visits keyed by their reference.
  var dbp = null;
  function db() {
    if (!dbp) {
      dbp = new Promise(function (ok, bad) {
        var r = indexedDB.open('zhizhi-visits', 1);
        r.onupgradeneeded = function () { r.result.createObjectStore('visits', { keyPath: 'ref' }); };
        r.onsuccess = function () { ok(r.result); };
        r.onerror = function () { bad(r.error); };
      });
    }
    return dbp;
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (ok, bad) {
        var t = d.transaction('visits', mode), out;
        var req = fn(t.objectStore('visits'));
        if (req) req.onsuccess = function () { out = req.result; };
        t.oncomplete = function () { ok(out); };
        t.onerror = t.onabort = function () { bad(t.error || new Error('IndexedDB')); };
      });
    });
  }
  function all() { return tx('readonly', function (s) { return s.getAll(); }); }
  function get(ref) { return tx('readonly', function (s) { return s.get(ref); }); }
  function put(e) { return tx('readwrite', function (s) { return s.put(e); }); }
  function del(ref) { return tx('readwrite', function (s) { return s.delete(ref); }); }
  function withLock(fn) {
    if (navigator.locks && navigator.locks.request) return navigator.locks.request('zhizhi-visits', fn);
    return fn();
  }

  // sendOne sends a kept visit: {ok, id, cases}, {invalid, error} (refused:
  // sending again would not help), {auth} (signed out) or {retry}.
  function sendOne(e) {
    var body = {};
    for (var k in e.visit) body[k] = e.visit[k];
    body.client_ref = e.ref;
    return fetch('/api/v1/visits', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body)
    }).then(function (res) {
      if (res.status === 401) return { auth: true };
      if (res.status >= 500 || res.status === 429) return { retry: true };
      if (!res.ok) {
        return res.json().then(function (b) { return (b && b.error) || {}; }, function () { return {}; })
          .then(function (err) { return { invalid: true, error: err }; });
      }
      return res.json().then(function (a) {
        var visit = a.visit || {};
        return { ok: true, id: visit.id, cases: (visit.case_ids || []).length };
      });
    }, function () { return { retry: true }; });
  }
  function messageOf(err) {
    var parts = [];
    (err.fields || []).forEach(function (f) { parts.push(f.reason); });
    return parts.length ? parts.join('；') : (err.message || '提交失败');
  }

  // flush sends this account's waiting visits, oldest first, once each.
  function flush() {
    if (flushing) return flushing;
    if (!navigator.onLine) { render(); return Promise.resolve(); }
    flushing = withLock(function () {
      return all().then(function (entries) {
        var todo = entries.filter(function (e) { return e.status === 'pending' && e.account === account; })
          .sort(function (a, b) { return a.createdAt - b.createdAt; });
        var i = 0;
        problem = '';
        function next() {
          if (i >= todo.length) return null;
          var ref = todo[i++].ref;
          return get(ref).then(function (e) {
            if (!e || e.status !== 'pending') return next();
            sending[ref] = true;
            render();
            return sendOne(e).then(function (r) {
              delete sending[ref];
              if (r.ok) {
                e.status = 'sent'; e.visitId = r.id; e.cases = r.cases; e.sentAt = Date.now();
                return put(e).then(next);
              }
              if (r.invalid) {
                e.status = 'failed'; e.error = messageOf(r.error);
                return put(e).then(next);
              }
              problem = r.auth ? '登录已失效，请重新登录，登录后会自动发送' : '网络不畅，稍后自动重试';
              return null;
            });
          });
        }
        return next();
      });
    }).catch(function () { problem = '发送出错，稍后自动重试'; })
      .then(function () { flushing = null; sending = {}; return render(); });
    return flushing;
  }

  function el(tag, cls, text) {
    var x = document.createElement(tag);
    if (cls) x.className = cls;
    if (text != null) x.textContent = text;
    return x;
  }
  function render() {
    return all().then(function (entries) {
      entries.sort(function (a, b) { return b.createdAt - a.createdAt; });
      var shown = entries.filter(function (e) { return e.account === account; });
      var waiting = shown.filter(function (e) { return e.status === 'pending'; }).length;
      box.classList.toggle('hidden', shown.length === 0);
      count.textContent = waiting ? waiting + ' 条待发送' : '';
      stateLine.textContent = !navigator.onLine ? (waiting ? '当前没有网络，有信号后自动发送' : '当前没有网络')
        : (flushing && waiting ? '正在发送…' : (waiting ? problem : ''));
      list.textContent = '';
      shown.forEach(function (e) {
        var status = e.status === 'pending' ? (sending[e.ref] ? 'sending' : 'pending') : e.status;
        var li = el('li', 'ob ob-' + status);
        li.setAttribute('data-ref', e.ref);
        var head = el('div', 'ob-head');
        head.appendChild(el('b', '', e.summary.place || '现场办公'));
        head.appendChild(el('span', 'ob-status', { pending: '待发送', sending: '发送中…', sent: '已发送', failed: '未能发送' }[status]));
        li.appendChild(head);
        li.appendChild(el('p', 'ob-text', e.summary.text));
        li.appendChild(el('small', 'muted', e.visit.at.slice(0, 16).replace('T', ' ') + ' · ' + e.visit.problems.length + ' 个问题'));
        if (status === 'sent') {
          var a = el('a', 'ob-number', '查看现场办公记录（' + e.cases + ' 件案件）');
          a.href = '/visits/' + encodeURIComponent(e.visitId);
          li.appendChild(a);
        } else if (status === 'failed') {
          li.appendChild(el('p', 'field-error', e.error || '提交失败'));
          var drop = el('button', 'btn danger', '删除');
          drop.type = 'button';
          drop.addEventListener('click', function () {
            if (window.confirm('删除后这条记录将不再发送，确定删除吗？')) del(e.ref).then(render);
          });
          var acts = el('div', 'ob-actions');
          acts.appendChild(drop);
          li.appendChild(acts);
        }
        list.appendChild(li);
      });
    }).catch(function () {});
  }
  function purge() {
    var now = Date.now();
    return all().then(function (entries) {
      return Promise.all(entries.filter(function (e) { return e.status === 'sent' && now - e.sentAt > DAY; })
        .map(function (e) { return del(e.ref); }));
    });
  }

  // --- the form.
  function v(n) { var x = form.elements[n]; return x ? String(x.value || '').trim() : ''; }
  function collect() {
    var visit = { at: v('at') ? v('at') + ':00+08:00' : '', place: {}, problems: [] };
    if (form.elements.leader_id) visit.leader_id = v('leader_id');
    if (v('region_code')) visit.place.region_code = v('region_code');
    if (v('address')) visit.place.address = v('address');
    if (v('enterprise')) visit.place.enterprise = v('enterprise');
    if (v('lng') && v('lat')) visit.place.point = { lng: Number(v('lng')), lat: Number(v('lat')) };
    visit.attendees = v('attendees').split(/[、,，\n]/).map(function (s) { return s.trim(); }).filter(Boolean);
    if (v('summary')) visit.summary = v('summary');
    for (var i = 0; form.elements['problem_' + i]; i++) {
      var d = v('problem_' + i);
      if (d) visit.problems.push({ category: v('category_' + i), description: d, slot: i });
    }
    return visit;
  }
  function check(visit) {
    var f = [];
    if (!visit.at) f.push({ field: 'at', reason: '请填写现场办公时间' });
    if (form.elements.leader_id && !visit.leader_id) f.push({ field: 'leader_id', reason: '请选择领导' });
    if (!visit.place.point && !visit.place.region_code && !visit.place.enterprise) f.push({ field: 'place', reason: '请标注地点、选择区域或填写企业' });
    visit.problems.forEach(function (p, i) {
      if (!p.category) f.push({ field: 'problems[' + i + '].category', reason: '请选择问题类别' });
    });
    return f;
  }
  // fieldOf finds the input a field of the API's answer names.
  function fieldOf(name, visit) {
    var m = /^problems\[(\d+)\]\.(\w+)/.exec(name);
    if (m) {
      var p = visit.problems[Number(m[1])];
      var slot = p ? p.slot : Number(m[1]);
      return form.elements[(m[2] === 'category' ? 'category_' : 'problem_') + slot];
    }
    name = name.replace(/\[\d+\]$/, '').replace(/^place\.?/, '') || 'region_code';
    if (name === 'point') name = 'region_code';
    return form.elements[name];
  }
  function clearErrors() { form.querySelectorAll('.js-error').forEach(function (x) { x.remove(); }); }
  function showErrors(message, fields, visit) {
    clearErrors();
    var top = el('p', 'alert js-error', message);
    top.setAttribute('role', 'alert');
    form.prepend(top);
    (fields || []).forEach(function (f) {
      var input = fieldOf(f.field, visit);
      var at = input && (input.closest('label') || input);
      if (at && at.parentNode) at.parentNode.insertBefore(el('p', 'field-error js-error', f.reason), at.nextSibling);
      else top.textContent += '；' + f.reason;
    });
    top.scrollIntoView({ block: 'center' });
  }
  function placeText(visit) {
    var sel = form.elements.region_code;
    if (visit.place.enterprise) return visit.place.enterprise;
    if (sel && sel.tagName === 'SELECT' && sel.value) return sel.options[sel.selectedIndex].textContent;
    return visit.place.address || (visit.place.point ? '当前位置' : visit.place.region_code || '');
  }
  function reset() {
    form.reset();
    refInput.value = newRef();
    form.elements.at.value = beijingNow();
    var where = document.getElementById('visit-where');
    if (where) where.textContent = '';
    form.elements.lng.value = '';
    form.elements.lat.value = '';
    clearErrors();
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (submit.disabled) return;
    var visit = collect(), problems = check(visit);
    if (problems.length) { showErrors('请按提示修改后重新提交', problems, visit); return; }
    submit.disabled = true;
    var label = submit.textContent;
    submit.textContent = '正在保存…';
    var done = function () { submit.disabled = false; submit.textContent = label; };
    var body = JSON.parse(JSON.stringify(visit));
    body.problems.forEach(function (p) { delete p.slot; });
    var e = {
      ref: refInput.value || newRef(), account: account, createdAt: Date.now(), status: 'pending', visit: body,
      summary: { place: placeText(visit), text: visit.problems.map(function (p) { return p.description.slice(0, 30); }).join('；') || visit.summary || '' }
    };
    put(e).then(function () {
      if (!navigator.onLine) return saved();
      submit.textContent = '正在上报…';
      return withLock(function () {
        return get(e.ref).then(function (cur) {
          if (cur && cur.status === 'sent') return { ok: true, id: cur.visitId };
          return sendOne(e);
        });
      }).then(function (r) {
        if (r.ok) return del(e.ref).then(function () { location.href = '/visits/' + encodeURIComponent(r.id) + '?done=1'; });
        if (r.invalid) {
          // Nothing was made; the form still holds the visit.
          return del(e.ref).then(function () {
            done();
            showErrors(r.error.message || '请按提示修改后重新提交', r.error.fields, visit);
          });
        }
        problem = r.auth ? '登录已失效，请重新登录，登录后会自动发送' : '';
        return saved(r.auth ? '登录已失效：现场办公记录已保存在手机上，重新登录后自动发送。' : null);
      });
    }).catch(function () {
      done();
      showErrors('手机存储不可用，无法保存，请检查浏览器设置或稍后重试');
    });
    function saved(text) {
      reset();
      done();
      zhizhiPhone.saved(form, 'visit-saved', text || '已保存在手机上（待发送）。有信号后会自动发送，不会重复记录。');
      return render();
    }
  });

  // --- the page (phone.js): banner, sending when the signal returns, the
  // worker warmed with this form, which sign-out drops (it names the
  // leader's pairings).
  zhizhiPhone({
    offline: '当前没有网络：现场办公记录会先保存在手机上，有信号后自动发送。',
    flush: flush, render: render, purge: purge,
    waiting: function () {
      return all().then(function (entries) {
        return entries.some(function (e) { return e.status === 'pending' && e.account === account; });
      });
    },
    busy: function () { return !!flushing; },
    pages: ['/m/onsite'],
    drop: ['/m/onsite']
  });
  // For the browser tests and for support: what waits on this phone.
  window.zhizhiVisits = { all: all, flush: flush, put: put };
})();
