// The map: on the command board, the region's grids shaded by their open
// cases, flashing where one is overdue or critical; a click on a grid
// filters the queue to it. On the report form, a pin picker that fills the
// latitude and longitude. On an operation's planning form, a drawer of
// each area's polygon. Geometry comes from /map/shapes for the viewport
// and zoom (streets or communities when zoomed out, grids when zoomed in),
// never as one big file. Leaflet is vendored under /static/vendor/leaflet/.
(function () {
  'use strict';
  var headers = { 'X-Requested-With': 'fetch' };
  var levelLabel = { district: '区县', street: '街道', community: '社区', grid: '网格' };
  // The content-hashed addresses of what loadLeaflet adds, from this
  // script's own tag (the plain names still work, with a short cache).
  var me = document.currentScript;
  function src(attr, plain) { return (me && me.getAttribute(attr)) || plain; }
  var leafletCSS = src('data-leaflet-css', '/static/vendor/leaflet/leaflet.css');
  var leafletJS = src('data-leaflet-js', '/static/vendor/leaflet/leaflet.js');
  var mapCSS = src('data-map-css', '/static/map.css');

  // loadLeaflet loads the library and its stylesheet on demand (the pin
  // picker: the report page stays light until the map is opened).
  function loadLeaflet(done) {
    if (window.L) { done(); return; }
    var left = 3, failed = false;
    function one(el) {
      el.onload = function () { if (--left === 0 && !failed) done(); };
      el.onerror = function () { if (!failed) { failed = true; done(new Error('load')); } };
      document.head.appendChild(el);
    }
    var css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = leafletCSS;
    one(css);
    var own = document.createElement('link');
    own.rel = 'stylesheet';
    own.href = mapCSS;
    one(own);
    var js = document.createElement('script');
    js.src = leafletJS;
    one(js);
  }

  function shade(n) {
    if (!n) return '#e8f5e9';
    if (n <= 2) return '#fff3b0';
    if (n <= 5) return '#ffcc80';
    if (n <= 10) return '#ff8a65';
    return '#d32f2f';
  }

  function bboxOf(map) {
    var b = map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (x) { return x.toFixed(6); }).join(',');
  }

  function fetchShapes(map, url) {
    return fetch((url || '/map/shapes') + '?bbox=' + bboxOf(map) + '&zoom=' + Math.floor(map.getZoom()), { headers: headers, credentials: 'same-origin' })
      .then(function (res) {
        if (!res.ok) throw new Error('shapes ' + res.status);
        return res.json();
      });
  }

  // newMap starts a map on the region's bounds, or on a view kept from
  // before a reload.
  function newMap(el, bounds, tiles, attribution, view) {
    L.Icon.Default.imagePath = '/static/vendor/leaflet/images/';
    var map = L.map(el, { preferCanvas: true, zoomSnap: 0.25, zoomDelta: 1, minZoom: 4, maxZoom: 19, attributionControl: !!tiles });
    if (tiles) L.tileLayer(tiles, { attribution: attribution || '', maxZoom: 19 }).addTo(map);
    if (view) map.setView([view.lat, view.lng], view.zoom);
    else map.fitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]], { padding: [8, 8] });
    return map;
  }

  // ---- the command board's map ----------------------------------------
  function boardMap(el) {
    var bounds = el.getAttribute('data-bounds').split(',').map(Number);
    var selected = el.getAttribute('data-region') || '';
    var note = document.getElementById('map-note');
    // The view survives the reload a click causes.
    var saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem('zhizhi.map') || 'null');
      sessionStorage.removeItem('zhizhi.map');
      if (!saved || !(saved.at > Date.now() - 60000)) saved = null;
    } catch (e) { saved = null; }
    var map = newMap(el, bounds, el.getAttribute('data-tiles'), el.getAttribute('data-attribution'), saved);
    map.createPane('flash');
    map.getPane('flash').style.zIndex = 450;
    map.getPane('flash').style.pointerEvents = 'none';
    var base = L.geoJSON(null, {
      renderer: L.canvas({ padding: 0.3 }),
      style: function (f) {
        var on = f.properties.code === selected;
        return { color: on ? '#0d47a1' : '#78909c', weight: on ? 3 : 0.8, fillColor: shade(f.properties.open), fillOpacity: 0.8 };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        // Text, never HTML: a region's name is data an administrator typed.
        var tip = document.createElement('span');
        tip.textContent = p.name + '：未结 ' + p.open + ' 件' + (p.overdue ? '，超期 ' + p.overdue + ' 件' : '') +
          (p.critical ? '，特急 ' + p.critical + ' 件' : '');
        layer.bindTooltip(tip, { sticky: true });
        layer.on('click', function () { pick(p.code); });
      }
    }).addTo(map);
    // Overdue or critical: an SVG layer on top, so CSS can make it flash.
    var flash = L.geoJSON(null, {
      renderer: L.svg({ pane: 'flash' }), pane: 'flash', interactive: false,
      style: function () { return { className: 'map-flash', color: '#b71c1c', weight: 2, fillColor: '#e53935', fillOpacity: 0.45 }; }
    }).addTo(map);
    var state = { level: '', features: 0, flashing: 0, loads: 0 };
    var seq = 0, timer = null;
    function load() {
      var n = ++seq;
      fetchShapes(map).then(function (fc) {
        if (n !== seq) return;
        base.clearLayers();
        flash.clearLayers();
        base.addData(fc);
        var hot = fc.features.filter(function (f) { return f.properties.overdue > 0 || f.properties.critical > 0; });
        flash.addData({ type: 'FeatureCollection', features: hot });
        state.level = fc.level;
        state.features = fc.features.length;
        state.flashing = hot.length;
        state.loads++;
        el.setAttribute('data-level', fc.level);
        el.setAttribute('data-features', String(fc.features.length));
        note.textContent = (levelLabel[fc.level] || '区域') + ' ' + fc.features.length + ' 个' +
          (fc.truncated ? '（范围太大，只显示了一部分，请放大）' : '') + (hot.length ? '，' + hot.length + ' 个有超期或特急案件' : '') + '；点击筛选案件';
      }).catch(function () { if (n === seq) note.textContent = '地图数据加载失败，稍后自动重试'; });
    }
    function later(ms) { clearTimeout(timer); timer = setTimeout(load, ms); }
    map.on('moveend', function () { later(150); });
    document.addEventListener('zhizhi:case', function () { later(1500); }); // from board.js
    load();

    // pick filters the queue to a region (again: back to everything).
    function pick(code) {
      var form = document.getElementById('filters');
      var input = form.querySelector('input[name=region]');
      if (!input) {
        input = document.createElement('input');
        input.type = 'hidden';
        input.name = 'region';
        form.appendChild(input);
      }
      if (code === selected) input.remove(); else input.value = code;
      try {
        var c = map.getCenter();
        sessionStorage.setItem('zhizhi.map', JSON.stringify({ lat: c.lat, lng: c.lng, zoom: map.getZoom(), at: Date.now() }));
      } catch (e) { /* no storage */ }
      form.submit();
    }
    window.zhizhiMap = { map: map, state: state, reload: load };
  }

  // ---- the report form's pin picker --------------------------------------
  function pinPicker(btn) {
    var box = document.getElementById('pin-map');
    var lat = document.getElementById('lat'), lng = document.getElementById('lng');
    var map = null, marker = null, opening = false;
    btn.addEventListener('click', function () {
      box.classList.toggle('hidden');
      if (box.classList.contains('hidden')) return;
      if (map) { map.invalidateSize(); return; }
      if (opening) return;
      opening = true;
      box.textContent = '地图加载中…';
      loadLeaflet(function (err) {
        if (err) { box.textContent = '地图加载失败，请填写经纬度或地址'; opening = false; return; }
        // The residents' forms read the public outlines (/r/map/…).
        fetch(box.getAttribute('data-home') || '/map/home', { headers: headers, credentials: 'same-origin' }).then(function (res) {
          if (!res.ok) throw new Error('home ' + res.status);
          return res.json();
        }).then(function (home) {
          box.textContent = '';
          if (!home.bounds) { box.textContent = '暂无本辖区地图，请填写经纬度或地址'; return; }
          map = newMap(box, home.bounds, home.tiles, home.attribution);
          var grids = L.geoJSON(null, {
            interactive: false,
            style: function () { return { color: '#1565c0', weight: 1, fillColor: '#90caf9', fillOpacity: 0.08 }; }
          }).addTo(map);
          var load = function () { fetchShapes(map, box.getAttribute('data-shapes')).then(function (fc) { grids.clearLayers(); grids.addData(fc); }).catch(function () {}); };
          map.on('moveend', load);
          var y = parseFloat(lat.value), x = parseFloat(lng.value);
          if (isFinite(y) && isFinite(x)) {
            setPin(L.latLng(y, x), false);
            map.setView([y, x], 17);
          }
          load();
          map.on('click', function (e) { setPin(e.latlng, true); });
          window.zhizhiPin = { map: map };
        }).catch(function () { box.textContent = '地图加载失败，请填写经纬度或地址'; })
          .then(function () { opening = false; });
      });
    });
    function setPin(ll, fill) {
      if (!marker) {
        marker = L.marker(ll, { draggable: true, keyboard: false, title: '上报位置' }).addTo(map);
        marker.on('dragend', function () { setPin(marker.getLatLng(), true); });
      } else {
        marker.setLatLng(ll);
      }
      if (fill) {
        lat.value = ll.lat.toFixed(6);
        lng.value = ll.lng.toFixed(6);
        lat.dispatchEvent(new Event('change')); // report.js shows the grid the point falls in
      }
    }
  }

  // ---- the operation form's area drawer -----------------------------------
  // Each area's shape is a textarea of vertex lines ("lng,lat"); the drawer
  // draws into it: a click on the map adds a vertex, a vertex can be
  // dragged, 撤销 takes the last one back (or opens the ring again),
  // 闭合 (or a click on the first vertex) closes the ring. The textarea
  // stays the form's field, so the form works the same without the map.
  function parseRing(text) {
    var pts = [];
    var lines = text.trim().split('\n');
    if (!text.trim() || text.trim().charAt(0) === '{') return null;
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i].trim();
      if (!line) return null; // several polygons: the drawer draws one
      var p = line.split(/[,，\s]+/).map(Number);
      if (p.length !== 2 || !isFinite(p[0]) || !isFinite(p[1])) return null;
      pts.push(L.latLng(p[1], p[0]));
    }
    var closed = pts.length > 3 && pts[0].equals(pts[pts.length - 1]);
    if (closed) pts.pop();
    return { pts: pts, closed: closed };
  }

  function areaDrawer(btn) {
    var area = document.getElementById(btn.getAttribute('data-shape'));
    var box = btn.closest('fieldset').querySelector('.op-draw-map');
    var map = null, opening = false;
    var pts = [], closed = false, markers = [], line = null, note = null;
    btn.classList.remove('hidden');
    btn.addEventListener('click', function () {
      box.classList.toggle('hidden');
      if (box.classList.contains('hidden')) return;
      if (map) { map.invalidateSize(); return; }
      if (opening) return;
      opening = true;
      box.textContent = '地图加载中…';
      loadLeaflet(function (err) {
        if (err) { box.textContent = '地图加载失败，请在上方填写顶点坐标或导入 GeoJSON 文件'; opening = false; return; }
        fetch('/map/home', { headers: headers, credentials: 'same-origin' }).then(function (res) {
          if (!res.ok) throw new Error('home ' + res.status);
          return res.json();
        }).then(function (home) {
          box.textContent = '';
          if (!home.bounds) { box.textContent = '暂无本辖区地图，请填写顶点坐标或导入 GeoJSON 文件'; return; }
          var bar = document.createElement('div');
          bar.className = 'op-draw-bar';
          box.parentNode.insertBefore(bar, box);
          function tool(label, cls, fn) {
            var b = document.createElement('button');
            b.type = 'button';
            b.className = 'btn small ' + cls;
            b.textContent = label;
            b.addEventListener('click', fn);
            bar.appendChild(b);
          }
          tool('撤销', 'op-undo', undo);
          tool('闭合', 'op-close', close);
          tool('清除', 'op-clear', function () { pts = []; closed = false; draw(true); });
          note = document.createElement('span');
          note.className = 'muted op-draw-note';
          bar.appendChild(note);
          map = newMap(box, home.bounds, home.tiles, home.attribution);
          var grids = L.geoJSON(null, {
            interactive: false,
            style: function () { return { color: '#78909c', weight: 1, fillColor: '#90caf9', fillOpacity: 0.06 }; }
          }).addTo(map);
          var load = function () { fetchShapes(map).then(function (fc) { grids.clearLayers(); grids.addData(fc); }).catch(function () {}); };
          map.on('moveend', load);
          var have = parseRing(area.value);
          if (have === null && area.value.trim()) {
            note.textContent = '已有的范围不是单个多边形，绘制将替换它';
          } else if (have) {
            pts = have.pts; closed = have.closed;
          }
          draw(false);
          if (pts.length) map.fitBounds(L.latLngBounds(pts), { padding: [40, 40], maxZoom: 18 });
          load();
          map.on('click', function (e) {
            if (closed) return;
            pts.push(e.latlng);
            draw(true);
          });
          window.zhizhiDraw = { map: map, points: function () { return pts.slice(); }, closed: function () { return closed; } };
        }).catch(function () { box.textContent = '地图加载失败，请在上方填写顶点坐标或导入 GeoJSON 文件'; })
          .then(function () { opening = false; });
      });
    });
    function undo() {
      if (closed) closed = false; else pts.pop();
      draw(true);
    }
    function close() {
      if (pts.length < 3) { note.textContent = '至少需要3个顶点才能闭合'; return; }
      closed = true;
      draw(true);
    }
    // draw shows the vertices and the ring, and (write) puts them in the
    // textarea.
    function draw(write) {
      markers.forEach(function (m) { m.remove(); });
      markers = [];
      if (line) line.remove();
      line = null;
      if (pts.length > 1) {
        line = (closed ? L.polygon(pts, { color: '#0d47a1', weight: 2, fillOpacity: 0.15 }) :
          L.polyline(pts, { color: '#0d47a1', weight: 2, dashArray: '4 4' })).addTo(map);
      }
      pts.forEach(function (p, i) {
        var m = L.marker(p, { draggable: true, keyboard: false, title: '顶点' + (i + 1),
          icon: L.divIcon({ className: 'op-vertex' + (i === 0 ? ' first' : ''), iconSize: [14, 14] }) }).addTo(map);
        m.on('drag', function () { pts[i] = m.getLatLng(); if (line) line.setLatLngs(pts); });
        m.on('dragend', function () { pts[i] = m.getLatLng(); draw(true); });
        m.on('click', function () { if (i === 0 && !closed && pts.length >= 3) close(); });
        markers.push(m);
      });
      if (note) {
        note.textContent = closed ? '已闭合，共' + pts.length + '个顶点；拖动顶点可调整' :
          pts.length ? '已有' + pts.length + '个顶点；点击首个顶点或“闭合”完成' : '在地图上点击添加顶点';
      }
      if (!write) return;
      var lines = pts.map(function (p) { return p.lng.toFixed(6) + ',' + p.lat.toFixed(6); });
      if (closed && lines.length) lines.push(lines[0]);
      area.value = lines.join('\n');
    }
  }

  var el = document.getElementById('map');
  if (el && el.getAttribute('data-bounds') && window.L) boardMap(el);
  var pin = document.getElementById('pin-open');
  if (pin && document.getElementById('pin-map')) pinPicker(pin);
  Array.prototype.forEach.call(document.querySelectorAll('button.op-draw[data-shape]'), areaDrawer);
  // The tasks' area lists follow the areas' names as they are typed.
  var opForm = document.getElementById('op-form');
  if (opForm) {
    opForm.addEventListener('input', function (e) {
      var fs = e.target.closest('fieldset.op-area-form');
      if (!fs || !/\.name$/.test(e.target.name)) return;
      var row = fs.getAttribute('data-row'), name = e.target.value.trim();
      Array.prototype.forEach.call(opForm.querySelectorAll('select[name$=".area"] option[value="' + row + '"]'), function (o) {
        o.textContent = '区域' + (Number(row) + 1) + (name ? '：' + name : '');
      });
    });
  }
})();
