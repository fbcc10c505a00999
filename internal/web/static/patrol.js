// A patrol on the phone (/m/day). Starting a patrol watches the browser's
// geolocation and keeps a fix every 5 s or 10 m in IndexedDB, so a reload
// or a lost signal loses nothing; stopping it makes the patrol an upload
// that waits, with the references of the reports made meanwhile on the
// report form (offline.js, source 巡查). The upload goes once to
// /api/v1/patrols under the patrol's own reference (client_ref): the server
// stores a patrol sent twice once. Waiting patrols are sent when the signal
// returns, when the page opens and every 30 s while some wait; a patrol
// whose reports are not sent yet waits for them.
(function () {
  'use strict';
  var box = document.getElementById('patrol');
  if (!box || !window.indexedDB || !window.fetch || !window.Promise) return;
  var account = box.getAttribute('data-account') || '';
  var $ = function (id) { return document.getElementById(id); };
  var startBtn = $('patrol-start'), stopBtn = $('patrol-stop'), reportLink = $('patrol-report'), gridSel = $('patrol-grid');
  if (!startBtn) return;
  var running = null, watch = null, timer = null, flushing = null;
  var DAY = 24 * 3600 * 1000, MIN_GAP = 5000, MIN_MOVE = 10;

  function open(name, store) {
    return new Promise(function (ok, bad) {
      var r = indexedDB.open(name, 1);
      r.onupgradeneeded = function () {
        if (!r.result.objectStoreNames.contains(store)) r.result.createObjectStore(store, { keyPath: 'ref' });
      };
      r.onsuccess = function () { ok(r.result); };
      r.onerror = function () { bad(r.error); };
    });
  }
  var dbp = null;
  function tx(mode, fn) {
    if (!dbp) dbp = open('zhizhi-patrols', 'patrols');
    return dbp.then(function (d) {
      return new Promise(function (ok, bad) {
        var t = d.transaction('patrols', mode), out;
        var req = fn(t.objectStore('patrols'));
        if (req) req.onsuccess = function () { out = req.result; };
        t.oncomplete = function () { ok(out); };
        t.onerror = t.onabort = function () { bad(t.error || new Error('IndexedDB')); };
      });
    });
  }
  function all() { return tx('readonly', function (s) { return s.getAll(); }); }
  function put(e) { return tx('readwrite', function (s) { return s.put(e); }); }
  function del(ref) { return tx('readwrite', function (s) { return s.delete(ref); }); }
  function mine(entries) { return entries.filter(function (e) { return e.account === account; }); }

  function newRef() {
    if (window.crypto && crypto.randomUUID) return 'p-' + crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return 'p-' + Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }

  // meters is the great-circle distance between two fixes.
  function meters(a, b) {
    var r = 6371008.8, k = Math.PI / 180;
    var dLat = (b.lat - a.lat) * k, dLng = (b.lng - a.lng) * k;
    var h = Math.pow(Math.sin(dLat / 2), 2) + Math.cos(a.lat * k) * Math.cos(b.lat * k) * Math.pow(Math.sin(dLng / 2), 2);
    return 2 * r * Math.asin(Math.sqrt(Math.min(1, h)));
  }
  function length(fixes) {
    var d = 0;
    for (var i = 1; i < fixes.length; i++) d += meters(fixes[i - 1], fixes[i]);
    return d;
  }

  function show() {
    var on = !!running;
    startBtn.classList.toggle('hidden', on);
    stopBtn.classList.toggle('hidden', !on);
    reportLink.classList.toggle('hidden', !on);
    gridSel.disabled = on;
    if (on) {
      gridSel.value = running.grid;
      var mins = Math.floor((Date.now() - running.startedAt) / 60000);
      $('patrol-state').textContent = '巡查中' + (running.geoError ? '（' + running.geoError + '）' : '');
      $('patrol-time').textContent = mins + '分钟';
      $('patrol-distance').textContent = Math.round(length(running.fixes)) + '米';
      $('patrol-fixes').textContent = String(running.fixes.length);
    } else {
      $('patrol-state').textContent = '未开始';
    }
    return all().then(function (entries) {
      var list = $('patrol-list'), n = 0;
      list.textContent = '';
      mine(entries).filter(function (e) { return e.status !== 'running'; }).sort(function (a, b) { return b.startedAt - a.startedAt; }).forEach(function (e) {
        var li = document.createElement('li');
        var when = new Date(e.startedAt).toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit' });
        var mins = Math.round((e.endedAt - e.startedAt) / 60000);
        var what = { pending: '等待上传', sent: '已上传', refused: '未能上传：' + (e.message || '') }[e.status] || e.status;
        if (e.status === 'pending') n++;
        li.className = 'patrol-' + e.status;
        li.textContent = when + ' 开始，' + mins + '分钟，' + Math.round(length(e.fixes || [])) + '米 — ' + what;
        list.appendChild(li);
      });
      $('patrol-count').textContent = n ? n + ' 次' : '';
    });
  }

  function onFix(pos) {
    if (!running) return;
    var f = { lng: pos.coords.longitude, lat: pos.coords.latitude, at: pos.timestamp || Date.now(), accuracy: pos.coords.accuracy || 0 };
    var last = running.fixes[running.fixes.length - 1];
    running.geoError = '';
    if (last && f.at - last.at < MIN_GAP && meters(last, f) < MIN_MOVE) return;
    running.fixes.push(f);
    put(running).then(show);
  }
  function onGeoError(err) {
    if (!running) return;
    running.geoError = err && err.code === 1 ? '请允许使用定位' : '暂时没有定位信号';
    show();
  }
  function watchOn() {
    if (!navigator.geolocation) { onGeoError({}); return; }
    watch = navigator.geolocation.watchPosition(onFix, onGeoError, { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
    if (!timer) timer = setInterval(show, 15000);
  }

  function start() {
    running = { ref: newRef(), account: account, grid: gridSel.value, startedAt: Date.now(), fixes: [], status: 'running' };
    put(running).then(function () { watchOn(); show(); });
  }

  // reportRefs are the references of the reports made on the report form
  // during the patrol (offline.js keeps them in zhizhi-outbox), source 巡查.
  function reportRefs(e) {
    return open('zhizhi-outbox', 'reports').then(function (d) {
      return new Promise(function (ok) {
        var t = d.transaction('reports', 'readonly'), req = t.objectStore('reports').getAll();
        req.onsuccess = function () {
          ok((req.result || []).filter(function (r) {
            return r.account === account && r.createdAt >= e.startedAt && r.createdAt <= e.endedAt &&
              r.report && r.report.source === 'patrol' && r.status !== 'refused';
          }).map(function (r) { return r.ref; }));
        };
        req.onerror = function () { ok([]); };
      });
    }).catch(function () { return []; });
  }

  function stop() {
    if (!running) return;
    if (watch !== null) navigator.geolocation.clearWatch(watch);
    watch = null;
    var e = running;
    running = null;
    e.endedAt = Date.now();
    reportRefs(e).then(function (refs) {
      e.reportRefs = refs;
      e.status = 'pending';
      return put(e);
    }).then(show).then(flush);
  }

  // sendOne uploads one patrol: {ok}, {wait} (its reports are not on the
  // server yet, or no network), {auth} or {refused, message}.
  function sendOne(e) {
    var iso = function (ms) { return new Date(ms).toISOString(); };
    var body = {
      client_ref: e.ref, grid: e.grid, started_at: iso(e.startedAt), ended_at: iso(e.endedAt),
      fixes: e.fixes.map(function (f) { return { lng: f.lng, lat: f.lat, at: iso(f.at), accuracy: f.accuracy }; })
    };
    if (e.reportRefs && e.reportRefs.length) body.report_refs = e.reportRefs;
    return fetch('/api/v1/patrols', {
      method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body)
    }).then(function (res) {
      if (res.status === 401) return { auth: true };
      if (res.status >= 500 || res.status === 429) return { wait: true };
      return res.json().then(function (b) {
        if (res.ok) return { ok: true, id: b.patrol && b.patrol.id };
        var err = (b && b.error) || {}, fields = err.fields || [];
        if (fields.length && fields.every(function (f) { return f.field.indexOf('report_refs') === 0; })) return { wait: true };
        return { refused: true, message: fields.map(function (f) { return f.reason; }).join('；') || err.message || '提交失败' };
      }, function () { return { wait: true }; });
    }, function () { return { wait: true }; });
  }

  function flush() {
    if (flushing) return flushing;
    if (!navigator.onLine) return Promise.resolve();
    flushing = all().then(function (entries) {
      var todo = mine(entries).filter(function (e) { return e.status === 'pending'; });
      var now = Date.now();
      var old = mine(entries).filter(function (e) { return e.status === 'sent' && now - e.endedAt > DAY; });
      return Promise.all(old.map(function (e) { return del(e.ref); })).then(function () {
        var i = 0;
        function next() {
          if (i >= todo.length) return null;
          var e = todo[i++];
          return sendOne(e).then(function (r) {
            if (r.auth) return null;
            if (r.ok) { e.status = 'sent'; e.patrolId = r.id; return put(e).then(next); }
            if (r.refused) { e.status = 'refused'; e.message = r.message; return put(e).then(next); }
            return next();
          });
        }
        return next();
      });
    }).then(show, show).then(function () { flushing = null; }, function () { flushing = null; });
    return flushing;
  }

  startBtn.addEventListener('click', start);
  stopBtn.addEventListener('click', stop);
  window.addEventListener('online', flush);
  setInterval(flush, 30000);
  // For the page's tests, as offline.js does.
  window.zhizhiPatrols = { all: all, flush: flush, put: put };
  // A patrol that was running when the page closed goes on.
  all().then(function (entries) {
    var r = mine(entries).filter(function (e) { return e.status === 'running'; })[0];
    if (r) { running = r; watchOn(); }
    return show();
  }).then(flush);
})();
