// The service worker of the phone pages (scope /m): it keeps the grid
// worker's home, report and day pages, the leader's visit form (/m/onsite)
// and their assets, so that the forms open without signal. Reports themselves wait in IndexedDB (offline.js), not
// here. The server writes the version of the embedded assets into VERSION,
// so a new binary brings a new worker and a new cache.
'use strict';
var VERSION = '__VERSION__';
var CACHE = 'zhizhi-m-' + VERSION;
// ASSETS are the content-hashed addresses the pages name (the server
// writes them in: app.css, clock.js, photos.js, report.js, phone.js, offline.js,
// offline.css, patrol.js, favicon.svg).
var ASSETS = __ASSETS__;
// GRID are the grid worker's pages, ONSITE the leader's visit form
// (现场办公, onsite.js); a page warms the worker with its own set.
var GRID = ['/m', '/m/report', '/m/day'];
var ONSITE = ['/m/onsite'];
var PAGES = GRID.concat(ONSITE);
// WAIT is how long a page waits for the network on a weak signal before the
// kept copy is shown.
var WAIT = 4000;

self.addEventListener('install', function (e) {
  // Each asset on its own: on a weak signal one failed fetch must not fail
  // the whole install (which would leave the phone with no worker at all);
  // what is missing is fetched when a page warms the worker.
  e.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(ASSETS.map(function (u) { return fill(cache, u); }));
  }).then(function () { return self.skipWaiting(); }));
});

// fill keeps one asset unless it is kept already, past the browser's HTTP
// cache (which may hold an older binary's file); a failure is left for the
// next warm.
function fill(cache, u) {
  return cache.match(u, { ignoreSearch: true }).then(function (hit) {
    return hit || cache.add(new Request(u, { cache: 'reload' }));
  }).catch(function () {});
}

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf('zhizhi-m-') === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// A page asks, while the signal is good, for the phone pages of its set
// (pages: the grid worker's by default) and for its own assets (those
// beyond ASSETS, such as the map's script) to be kept.
self.addEventListener('message', function (e) {
  if (!e.data || e.data.type !== 'warm') return;
  var reply = e.ports && e.ports[0];
  var assets = (e.data.assets || []).filter(function (u) { return typeof u === 'string' && u.indexOf('/static/') === 0; });
  var pages = (e.data.pages || GRID).filter(function (p) { return PAGES.indexOf(p) >= 0; });
  // Take the asking page too: a page whose navigation began before this
  // worker was active is not among the clients its activation claimed, and
  // would stay without a worker (and its kept copies) until the next one.
  var claim = self.clients.claim().catch(function () {});
  e.waitUntil(claim.then(function () { return caches.open(CACHE); }).then(function (cache) {
    return Promise.all(pages.map(function (p) {
      return cache.match(p).then(function (hit) {
        return hit || fetch(p, { credentials: 'same-origin', redirect: 'manual' }).then(function (res) { return keep(p, res); });
      }).catch(function () {});
    }).concat(ASSETS.concat(assets).map(function (u) { return fill(cache, u); }))).then(function () {
      // Say whether everything is kept now, so the page knows whether to ask again.
      return Promise.all(pages.concat(ASSETS, assets).map(function (u) {
        return cache.match(u, { ignoreSearch: true });
      }));
    }).then(function (hits) {
      if (reply) reply.postMessage({ kept: hits.every(Boolean) });
    }, function () {
      if (reply) reply.postMessage({ kept: false });
    });
  }));
});

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate' && PAGES.indexOf(url.pathname) >= 0) {
    e.respondWith(page(e, req, url.pathname, !url.search));
  } else if (url.pathname.indexOf('/static/') === 0) {
    e.respondWith(asset(req));
  }
  // Everything else (the API, other pages) goes to the network as usual.
});

// keep stores a page the server answered in full; a page that now sends to
// the sign-in form (signed out, session expired) is dropped, so the next
// person on this phone does not see it.
function keep(path, res) {
  return caches.open(CACHE).then(function (cache) {
    if (res.ok && !res.redirected && res.type === 'basic') return cache.put(path, res);
    if (res.type === 'opaqueredirect' || res.status === 401 || res.status === 403) return cache.delete(path);
  });
}

// page: the network first, the kept copy when there is no network or it is
// too slow; the network's answer still refreshes the copy (unless the
// address had a query, such as the flash after a report: not for keeps).
function page(e, req, path, plain) {
  var net = fetch(req);
  e.waitUntil(net.then(function (res) { return plain || !res.ok ? keep(path, res.clone()) : null; }).catch(function () {}));
  return caches.open(CACHE).then(function (cache) {
    return cache.match(path);
  }).then(function (kept) {
    if (!kept) return net;
    return new Promise(function (resolve) {
      var timer = setTimeout(function () { resolve(kept); }, WAIT);
      net.then(function (res) { clearTimeout(timer); resolve(res); }, function () { clearTimeout(timer); resolve(kept); });
    });
  });
}

// asset: from the cache (assets change only with the binary, and a new
// binary brings a new cache), else from the network, kept for next time.
function asset(req) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(req, { ignoreSearch: true }).then(function (hit) {
      return hit || fetch(req).then(function (res) {
        if (res.ok) cache.put(req, res.clone());
        return res;
      });
    });
  });
}

// Web Push (docs/notifications.md): the server sends {title, body, url, tag,
// urgent}; the notification opens its page, focusing a tab already on it.
self.addEventListener('push', function (e) {
  var d = {};
  try { d = e.data ? e.data.json() : {}; } catch (err) { d = { title: e.data ? e.data.text() : '' }; }
  e.waitUntil(self.registration.showNotification(d.title || '智治提醒', {
    body: d.body || '', tag: d.tag || undefined, data: { url: d.url || '/notifications' },
    requireInteraction: !!d.urgent
  }));
});

self.addEventListener('notificationclick', function (e) {
  e.notification.close();
  var url = (e.notification.data && e.notification.data.url) || '/notifications';
  if (url.charAt(0) !== '/' || url.charAt(1) === '/') url = '/notifications';
  e.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (list) {
    for (var i = 0; i < list.length; i++) {
      if (new URL(list[i].url).pathname === url && 'focus' in list[i]) return list[i].focus();
    }
    return self.clients.openWindow(url);
  }));
});
