// The bell in the header: the unread count of the signed-in person's
// notifications, live over server-sent events (/api/v1/notifications/events);
// on the notifications page, the button that turns Web Push on for this
// browser (the phone pages' service worker, /sw.js, receives the pushes).
(function () {
  'use strict';
  var bell = document.getElementById('bell');
  // The phone pages (/m) are made to work without signal: there the bell is
  // a plain link (the phone is told by Web Push), so no stream keeps
  // failing while offline.
  var phone = /^\/m(\/|$)/.test(location.pathname);
  if (bell && window.EventSource && !phone) {
    var count = bell.querySelector('.count');
    var es = new EventSource('/api/v1/notifications/events');
    es.addEventListener('unread', function (e) {
      var n = 0;
      try { n = JSON.parse(e.data).unread || 0; } catch (err) { return; }
      count.textContent = n > 99 ? '99+' : String(n);
      count.hidden = n === 0;
      bell.setAttribute('data-unread', String(n));
      bell.title = n ? n + ' 条未读提醒' : '没有未读提醒';
    });
  }

  var btn = document.getElementById('push-on');
  var state = document.getElementById('push-state');
  if (!btn || !('serviceWorker' in navigator) || !('PushManager' in window)) return;
  function say(t) { if (state) state.textContent = t; }
  function b64(s) {
    var pad = '='.repeat((4 - s.length % 4) % 4);
    var raw = atob((s + pad).replace(/-/g, '+').replace(/_/g, '/'));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function subscribe() {
    return navigator.serviceWorker.register('/sw.js', { scope: '/m' }).then(function (reg) {
      return fetch('/api/v1/push/key', { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (k) {
        return reg.pushManager.getSubscription().then(function (old) {
          return old || reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64(k.public_key) });
        });
      });
    }).then(function (sub) {
      return fetch('/api/v1/push/subscriptions', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(sub.toJSON())
      }).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        say('本设备已开启推送');
        btn.hidden = true;
      });
    });
  }
  btn.hidden = false;
  btn.addEventListener('click', function () {
    say('正在开启…');
    Notification.requestPermission().then(function (p) {
      if (p !== 'granted') { say('浏览器未允许通知，请在浏览器设置中允许'); return; }
      return subscribe();
    }).catch(function () { say('开启推送失败，请稍后重试'); });
  });
})();
