// Reports without signal. Every report made on the report form is first
// kept in IndexedDB, with its photos as Blobs and a reference made on the
// phone (client_ref), then sent through the JSON API: the photos to
// /api/v1/photos, the report to /api/v1/cases. A report is dropped from the
// phone only after the server has answered with its case; the server
// deduplicates by the reference, so sending again after a lost answer makes
// no second case. Waiting reports are sent when the signal returns (the
// online event), when a phone page opens, and every 30 s while some wait;
// the worker sees them under 待发送. The service worker (sw.js) keeps the
// pages, so the form opens without signal too.
(function () {
  'use strict';
  var box = document.getElementById('outbox');
  if (!box || !window.indexedDB || !window.fetch || !window.Promise) return;
  var account = box.getAttribute('data-account') || '';
  var form = document.getElementById('report');
  var list = document.getElementById('outbox-list'), count = document.getElementById('outbox-count'),
    stateLine = document.getElementById('outbox-state');
  var sending = {}, flushing = null, problem = '';
  var DAY = 24 * 3600 * 1000;

  // --- IndexedDB: one store of reports keyed by their reference.
  var dbp = null;
  function db() {
    if (!dbp) {
      dbp = new Promise(function (ok, bad) {
        var r = indexedDB.open('zhizhi-outbox', 1);
        r.onupgradeneeded = function () { r.result.createObjectStore('reports', { keyPath: 'ref' }); };
        r.onsuccess = function () { ok(r.result); };
        r.onerror = function () { bad(r.error); };
      });
    }
    return dbp;
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (ok, bad) {
        var t = d.transaction('reports', mode), out;
        var req = fn(t.objectStore('reports'));
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

  // newRef makes the report's reference on the phone.
  function newRef() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }

  // withLock keeps two tabs from sending at once (the server would still
  // make one case of a report sent twice).
  function withLock(fn) {
    if (navigator.locks && navigator.locks.request) return navigator.locks.request('zhizhi-outbox', fn);
    return fn();
  }

  function errorOf(res) {
    return res.json().then(function (b) { return (b && b.error) || {}; }, function () { return {}; });
  }
  function messageOf(e) {
    var parts = [];
    (e.fields || []).forEach(function (f) { parts.push(f.reason); });
    return parts.length ? parts.join('；') : (e.message || '提交失败');
  }

  // sendOne sends a kept report: its photos not yet uploaded, then the
  // report. It answers {ok, number, id}, {invalid, error} (the server
  // refused it: sending again would not help), {auth} (signed out) or
  // {retry} (no network, or the server could not take it now).
  function sendOne(e) {
    var i = 0;
    function nextPhoto() {
      while (i < e.photos.length && e.photos[i].hash) i++;
      if (i >= e.photos.length) return sendReport();
      var p = e.photos[i], fd = new FormData();
      fd.append('photo', p.blob, 'photo'); // no extension: the part's type (or the bytes) says what it is
      return fetch('/api/v1/photos', { method: 'POST', body: fd, credentials: 'same-origin' }).then(function (res) {
        if (res.status === 401) return { auth: true };
        if (res.status >= 500 || res.status === 429) return { retry: true };
        if (!res.ok) return errorOf(res).then(function (err) { return { invalid: true, error: err }; });
        return res.json().then(function (ph) {
          p.hash = ph.hash;
          return put(e).then(nextPhoto);
        });
      }, function () { return { retry: true }; });
    }
    function sendReport() {
      var body = {};
      for (var k in e.report) body[k] = e.report[k];
      body.client_ref = e.ref;
      if (e.photos.length) body.photos = e.photos.map(function (p) { return { hash: p.hash }; });
      return fetch('/api/v1/cases', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body)
      }).then(function (res) {
        if (res.status === 401) return { auth: true };
        if (res.status >= 500 || res.status === 429) return { retry: true };
        if (!res.ok) return errorOf(res).then(function (err) { return { invalid: true, error: err }; });
        return res.json().then(function (c) { return { ok: true, number: c.number, id: c.id }; });
      }, function () { return { retry: true }; });
    }
    return nextPhoto();
  }

  // markSent keeps a sent report's number for a day (without its photos),
  // so the worker sees what went out.
  function markSent(e, r) {
    e.status = 'sent';
    e.number = r.number;
    e.caseId = r.id;
    e.sentAt = Date.now();
    e.photos = e.photos.map(function (p) { return { hash: p.hash }; });
    return put(e);
  }

  // flush sends this account's waiting reports, oldest first, once each.
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
          // Read it again: another tab may have sent it meanwhile.
          return get(ref).then(function (e) {
            if (!e || e.status !== 'pending') return next();
            sending[ref] = true;
            render();
            return sendOne(e).then(function (r) {
              delete sending[ref];
              if (r.ok) return markSent(e, r).then(next);
              if (r.invalid) {
                e.status = 'failed';
                e.error = messageOf(r.error);
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

  // --- the list of waiting and recently sent reports.
  function el(tag, cls, text) {
    var x = document.createElement(tag);
    if (cls) x.className = cls;
    if (text != null) x.textContent = text;
    return x;
  }
  function stamp(ms) {
    var d = new Date(ms), two = function (n) { return (n < 10 ? '0' : '') + n; };
    return two(d.getMonth() + 1) + '-' + two(d.getDate()) + ' ' + two(d.getHours()) + ':' + two(d.getMinutes());
  }
  function render() {
    return all().then(function (entries) {
      entries.sort(function (a, b) { return b.createdAt - a.createdAt; });
      var shown = entries.filter(function (e) { return e.account === account || e.status !== 'sent'; });
      var waiting = shown.filter(function (e) { return e.status === 'pending' && e.account === account; }).length;
      box.classList.toggle('hidden', shown.length === 0);
      count.textContent = waiting ? waiting + ' 件待发送' : '';
      stateLine.textContent = !navigator.onLine ? (waiting ? '当前没有网络，有信号后自动发送' : '当前没有网络')
        : (flushing && waiting ? '正在发送…' : (waiting ? problem : ''));
      list.textContent = '';
      shown.forEach(function (e) {
        var status = e.status === 'pending' ? (sending[e.ref] ? 'sending' : 'pending') : e.status;
        var li = el('li', 'ob ob-' + status);
        li.setAttribute('data-ref', e.ref);
        var head = el('div', 'ob-head');
        head.appendChild(el('b', '', e.summary.category || '未选类别'));
        head.appendChild(el('span', 'ob-status', { pending: '待发送', sending: '发送中…', sent: '已发送', failed: '未能发送' }[status]));
        li.appendChild(head);
        li.appendChild(el('p', 'ob-text', e.summary.text));
        var foot = el('small', 'muted', '保存于 ' + stamp(e.createdAt) + (e.photos.length ? ' · ' + e.photos.length + ' 张照片' : ''));
        li.appendChild(foot);
        if (e.account !== account) {
          li.appendChild(el('p', 'field-error', '这是另一个账号保存的上报，请该账号登录后发送'));
        } else if (status === 'sent') {
          var a = el('a', 'ob-number', '案件编号 ' + e.number);
          a.href = '/cases/' + encodeURIComponent(e.caseId);
          li.appendChild(a);
        } else if (status === 'failed') {
          li.appendChild(el('p', 'field-error', e.error || '提交失败'));
          var acts = el('div', 'ob-actions');
          if (form) {
            var edit = el('button', 'btn', '重新填写');
            edit.type = 'button';
            edit.addEventListener('click', function () { restore(e); });
            acts.appendChild(edit);
          }
          var drop = el('button', 'btn danger', '删除');
          drop.type = 'button';
          drop.addEventListener('click', function () {
            if (window.confirm('删除后这条上报将不再发送，确定删除吗？')) del(e.ref).then(render);
          });
          acts.appendChild(drop);
          li.appendChild(acts);
        }
        list.appendChild(li);
      });
    }).catch(function () {});
  }

  // purge drops sent reports after a day.
  function purge() {
    var now = Date.now();
    return all().then(function (entries) {
      return Promise.all(entries.filter(function (e) { return e.status === 'sent' && now - e.sentAt > DAY; })
        .map(function (e) { return del(e.ref); }));
    });
  }

  // --- the report form: photos and sending.
  // Shrinking and uploading are photos.js's (loaded before this script on
  // every signed-in page).
  var photos = [], uploads = 0, restore = function () {}, shrink = window.zhizhiPhotos.shrink;
  if (form) setUpForm();

  function setUpForm() {
    var input = form.querySelector('.photo-offline input[type=file]'), thumbs = form.querySelector('.photo-offline .thumbs');
    var submit = form.querySelector('button[type=submit]');
    var msg = el('p', 'muted photo-msg');
    input.parentNode.parentNode.appendChild(msg);
    // Photos the server sent back with the form (already uploaded).
    thumbs.querySelectorAll('input[name=photo]').forEach(function (h) {
      addPhoto({ hash: h.value, blob: null }, h.closest('.thumb'));
    });

    function addPhoto(p, span) {
      photos.push(p);
      if (!span) {
        span = el('span', 'thumb');
        var img = el('img');
        img.alt = '照片';
        img.src = URL.createObjectURL(p.blob);
        span.appendChild(img);
        thumbs.appendChild(span);
      }
      p.span = span;
      var x = el('button', 'thumb-drop', '×');
      x.type = 'button';
      x.setAttribute('aria-label', '删除这张照片');
      x.addEventListener('click', function () {
        photos.splice(photos.indexOf(p), 1);
        span.remove();
      });
      span.appendChild(x);
    }
    function upload(p) {
      if (!navigator.onLine) return;
      uploads++;
      p.span.classList.add('loading');
      p.uploading = window.zhizhiPhotos.upload(p.blob).then(function (ph) {
        p.hash = ph.hash;
        var h = el('input');
        h.type = 'hidden'; h.name = 'photo'; h.value = ph.hash;
        p.span.appendChild(h);
      }).catch(function () {}).then(function () {
        // A photo that did not go up now goes with the report later.
        uploads--;
        p.span.classList.remove('loading');
        msg.textContent = uploads ? '正在上传照片…' : '';
      });
    }
    input.addEventListener('change', function () {
      var files = Array.prototype.slice.call(input.files);
      input.value = '';
      if (files.length) msg.textContent = '正在处理照片…';
      files.forEach(function (file) {
        shrink(file).then(function (blob) {
          var p = { blob: blob, hash: '' };
          addPhoto(p);
          msg.textContent = navigator.onLine ? '正在上传照片…' : '照片已保存在手机上，随上报一起发送';
          upload(p);
        });
      });
    });

    function fieldOf(name) {
      if (name === 'point') return form.elements.lat;
      if (name === 'photos' || name === 'photo') return input;
      if (name.indexOf('reporter.') === 0) return form.elements[name.replace('.', '_')];
      var f = form.elements[name];
      return f && f.length && !f.tagName ? f[0] : f;
    }
    function clearErrors() {
      form.querySelectorAll('.js-error').forEach(function (x) { x.remove(); });
    }
    function showErrors(message, fields) {
      clearErrors();
      var top = el('p', 'alert js-error', message);
      top.setAttribute('role', 'alert');
      form.prepend(top);
      (fields || []).forEach(function (f) {
        var input = fieldOf(f.field.replace(/\[\d+\]/g, ''));
        var p = el('p', 'field-error js-error', f.reason);
        var at = input && (input.closest('label, fieldset') || input);
        if (at) {
          at.parentNode.insertBefore(p, at.nextSibling);
          var fold = at.closest('details');
          if (fold) fold.open = true;
        }
        else top.textContent += '；' + f.reason;
      });
      top.scrollIntoView({ block: 'center' });
    }

    // collect reads the form into the report the API takes.
    function collect() {
      var v = function (n) { var x = form.elements[n]; return x ? String(x.value || '').trim() : ''; };
      var rep = { source: v('source'), category: v('category'), description: v('description'), address: v('address') };
      if (v('severity')) rep.severity = v('severity');
      if (v('reporter_name') || v('reporter_phone')) rep.reporter = { name: v('reporter_name'), phone: v('reporter_phone') };
      var lat = v('lat'), lng = v('lng');
      if (lat || lng) rep.point = { lat: Number(lat), lng: Number(lng) };
      if (form.elements.on_spot && form.elements.on_spot.checked) {
        rep.solved_on_spot = true;
        rep.note = v('on_spot_note');
      }
      var fs = form.querySelector('fieldset.questions[data-cat="' + rep.category + '"]');
      if (fs) {
        var answers = {};
        fs.querySelectorAll('[name^="answers."]').forEach(function (x) {
          var code = x.name.slice(8);
          if (x.type === 'checkbox') {
            if (!answers[code]) answers[code] = [];
            if (x.checked) answers[code].push(x.value);
          } else if (x.value.trim()) {
            // A datetime-local value is the calendar's local time (Beijing).
            answers[code] = x.type === 'datetime-local' ? x.value + (x.value.length === 16 ? ':00' : '') + '+08:00' : x.value.trim();
          }
        });
        for (var k in answers) if (Array.isArray(answers[k]) && !answers[k].length) delete answers[k];
        if (Object.keys(answers).length) rep.answers = answers;
      }
      return rep;
    }
    // check finds, before a report is kept, what the server would refuse
    // for sure, so no report waits days to be refused.
    function check(rep) {
      var f = [];
      if (!rep.description) f.push({ field: 'description', reason: '请描述问题' });
      if (!rep.category) f.push({ field: 'category', reason: '请选择问题类别' });
      if (rep.point && !(isFinite(rep.point.lat) && isFinite(rep.point.lng) && Math.abs(rep.point.lat) <= 90 && Math.abs(rep.point.lng) <= 180)) {
        f.push({ field: 'point', reason: '经纬度无效' });
      }
      if (!rep.point && !rep.address) f.push({ field: 'point', reason: '请标注位置或填写地址' });
      if (rep.solved_on_spot && !photos.length) f.push({ field: 'photos', reason: '就地解决须上传处置照片作为凭证' });
      var fs = form.querySelector('fieldset.questions[data-cat="' + rep.category + '"]');
      if (fs) {
        fs.querySelectorAll('[data-required]').forEach(function (q) {
          var code = q.getAttribute('data-required');
          var a = rep.answers && rep.answers[code];
          if (!a || (Array.isArray(a) && !a.length)) f.push({ field: 'answers.' + code, reason: '请回答“' + q.getAttribute('data-prompt') + '”' });
        });
      }
      return f;
    }

    function reset() {
      form.reset();
      delete form.dataset.ref;
      photos.forEach(function (p) { p.span.remove(); });
      photos = [];
      clearErrors();
      form.elements.category.dispatchEvent(new Event('change'));
      if (form.elements.on_spot) form.elements.on_spot.dispatchEvent(new Event('change'));
      var s = document.getElementById('suggest');
      if (s) s.textContent = '';
    }

    // restore puts a refused report back into the form to be corrected;
    // it keeps its reference and stays on the phone until sent again.
    restore = function (e) {
      reset();
      form.dataset.ref = e.ref;
      var r = e.report, set = function (n, val) { if (form.elements[n] && val != null) form.elements[n].value = val; };
      set('description', r.description); set('category', r.category); set('address', r.address);
      set('source', r.source); set('severity', r.severity || '');
      if (r.point) { set('lat', r.point.lat); set('lng', r.point.lng); }
      if (r.reporter) { set('reporter_name', r.reporter.name); set('reporter_phone', r.reporter.phone); }
      if (r.solved_on_spot) { form.elements.on_spot.checked = true; set('on_spot_note', r.note); }
      form.elements.category.dispatchEvent(new Event('change'));
      if (form.elements.on_spot) form.elements.on_spot.dispatchEvent(new Event('change'));
      var fs = form.querySelector('fieldset.questions[data-cat="' + r.category + '"]');
      if (fs && r.answers) {
        fs.querySelectorAll('[name^="answers."]').forEach(function (x) {
          var a = r.answers[x.name.slice(8)];
          if (a == null) return;
          if (x.type === 'checkbox') x.checked = Array.isArray(a) && a.indexOf(x.value) >= 0;
          else x.value = x.type === 'datetime-local' ? String(a).slice(0, 16) : a;
        });
      }
      e.photos.forEach(function (p) { if (p.blob) addPhoto({ blob: p.blob, hash: p.hash }); });
      showErrors('上次未能发送：' + (e.error || '') + '。请修改后重新上报。');
    };

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (submit.disabled) return;
      var rep = collect(), problems = check(rep);
      if (problems.length) { showErrors('请按提示修改后重新提交', problems); return; }
      submit.disabled = true;
      var label = submit.textContent;
      submit.textContent = '正在保存…';
      var done = function () { submit.disabled = false; submit.textContent = label; };
      Promise.all(photos.map(function (p) { return p.uploading; })).then(function () {
        var opt = form.elements.category.options[form.elements.category.selectedIndex];
        var e = {
          ref: form.dataset.ref || newRef(), account: account, createdAt: Date.now(), status: 'pending', report: rep,
          photos: photos.map(function (p) { return { blob: p.blob, hash: p.hash }; }),
          summary: { category: opt ? opt.textContent.replace(/^.*· /, '') : '', text: rep.description.slice(0, 60) }
        };
        return put(e).then(function () {
          if (!navigator.onLine) return saved();
          submit.textContent = '正在上报…';
          return withLock(function () {
            // A flush in this tab may have sent it meanwhile.
            return get(e.ref).then(function (cur) {
              if (cur && cur.status === 'sent') return { ok: true, number: cur.number, id: cur.caseId };
              return sendOne(e);
            });
          }).then(function (r) {
            if (r.ok) {
              return del(e.ref).then(function () { location.href = '/m?reported=' + encodeURIComponent(r.number); });
            }
            if (r.invalid) {
              // Nothing was made; the form still holds the report.
              form.dataset.ref = e.ref;
              return del(e.ref).then(function () {
                done();
                showErrors(r.error.message || '请按提示修改后重新提交', r.error.fields);
              });
            }
            problem = r.auth ? '登录已失效，请重新登录，登录后会自动发送' : '';
            return saved(r.auth ? '登录已失效：上报已保存在手机上，重新登录后自动发送。' : null);
          });
        });
      }).catch(function () {
        done();
        showErrors('手机存储不可用，无法保存上报，请检查浏览器设置或稍后重试');
      });
      function saved(text) {
        reset();
        done();
        zhizhiPhone.saved(form, 'saved-flash', text || '已保存在手机上（待发送）。有信号后会自动发送，不会重复上报。');
        return render();
      }
    });
  }
  // --- the page (phone.js): banner, sending when the signal returns, the
  // worker warmed with the grid worker's pages, which sign-out drops (they
  // show this worker's grid).
  zhizhiPhone({
    offline: '当前没有网络：上报会先保存在手机上，有信号后自动发送。',
    flush: flush, render: render, purge: purge,
    waiting: function () {
      return all().then(function (entries) {
        return entries.some(function (e) { return e.status === 'pending' && e.account === account; });
      });
    },
    busy: function () { return !!flushing; },
    drop: ['/m', '/m/report']
  });
  // For the browser tests and for support: what waits on this phone.
  window.zhizhiOutbox = { all: all, flush: flush, put: put };
})();
