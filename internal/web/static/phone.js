// What the phone pages that keep their work without signal share: the grid
// worker's reports (offline.js) and the leader's on-site visits
// (onsite.js). zhizhiPhone(o) shows the offline banner, sends what waits
// when the signal returns, when the page becomes visible and every 30 s
// while something waits, warms the service worker with the page's pages
// and assets, and drops the kept pages at sign-out (not what waits: that
// goes out when its account signs in again).
//
//   o.offline  the banner's text while there is no network
//   o.flush    sends what waits (returns a promise)
//   o.render   redraws the list of what waits
//   o.purge    drops what is too old to send (returns a promise)
//   o.waiting  resolves to whether this account has something waiting
//   o.busy     whether a send is running now
//   o.pages    the pages the worker keeps for this page (absent: its default set)
//   o.drop     the kept pages deleted at sign-out
//
// zhizhiPhone.saved(form, id, text) shows (or rewrites) the notice above a
// form that what it held is kept on the phone, and brings it into view.
(function () {
  'use strict';
  window.zhizhiPhone = function (o) {
    function banner() {
      var b = document.getElementById('offline-banner');
      if (!b) {
        b = document.createElement('p');
        b.className = 'offline-banner';
        b.textContent = o.offline;
        b.id = 'offline-banner';
        b.setAttribute('role', 'status');
        var main = document.querySelector('main');
        main.insertBefore(b, main.firstChild);
      }
      b.classList.toggle('hidden', navigator.onLine);
    }
    window.addEventListener('online', function () { banner(); o.flush(); });
    window.addEventListener('offline', function () { banner(); o.render(); });
    document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'visible') o.flush(); });
    setInterval(function () {
      if (!navigator.onLine || o.busy()) return;
      o.waiting().then(function (yes) { if (yes) o.flush(); }).catch(function () {});
    }, 30000);
    banner();
    o.purge().then(o.flush, o.render);

    if ('serviceWorker' in navigator && navigator.onLine) {
      var assets = Array.prototype.map.call(document.querySelectorAll('script[src^="/static/"], link[href^="/static/"]'),
        function (x) { return x.getAttribute('src') || x.getAttribute('href'); });
      // Warming is idempotent (the worker keeps what it lacks) and answered:
      // the worker says whether every page and asset is now kept. Until it
      // says so (a message to a worker still activating, a fetch that failed
      // on a weak signal), the page asks again, a little later each time.
      var kept = false, tries = 0;
      var warm = function () {
        if (kept || !navigator.onLine) return;
        navigator.serviceWorker.ready.then(function (reg) {
          if (!reg.active || kept) return;
          var ch = new MessageChannel();
          ch.port1.onmessage = function (m) { if (m.data && m.data.kept) kept = true; };
          var msg = { type: 'warm', assets: assets };
          if (o.pages) msg.pages = o.pages;
          reg.active.postMessage(msg, [ch.port2]);
        }).catch(function () {});
      };
      // Each try registers again: a worker whose install failed (a fetch cut
      // off on a weak signal) is replaced by a new one instead of leaving the
      // phone without any; for a worker that is already there it does nothing.
      var again = function () {
        tries++;
        navigator.serviceWorker.register('/sw.js', { scope: '/m' }).then(warm).catch(function () {});
        if (!kept && tries < 12) setTimeout(again, Math.min(1000 * tries, 10000));
      };
      again();
      window.addEventListener('online', function () { tries = 0; kept = false; again(); });
      navigator.serviceWorker.addEventListener('controllerchange', warm);
    }
    document.querySelectorAll('form[action="/signout"]').forEach(function (f) {
      f.addEventListener('submit', function (e) {
        if (!window.caches) return;
        e.preventDefault();
        caches.keys().then(function (keys) {
          return Promise.all(keys.filter(function (k) { return k.indexOf('zhizhi-m-') === 0; }).map(function (k) {
            return caches.open(k).then(function (c) { return Promise.all(o.drop.map(function (p) { return c.delete(p); })); });
          }));
        }).catch(function () {}).then(function () { f.submit(); });
      });
    });
  };
  window.zhizhiPhone.saved = function (form, id, text) {
    var flash = document.getElementById(id);
    if (!flash) {
      flash = document.createElement('p');
      flash.className = 'flash';
      flash.id = id;
      flash.setAttribute('role', 'status');
    }
    flash.textContent = text;
    form.parentNode.insertBefore(flash, form);
    flash.scrollIntoView({ block: 'center' });
  };
})();
