// The visit form (现场办公): the phone's position fills the place, and a
// client reference makes a resent form return the visit already saved.
(function () {
  'use strict';
  var ref = document.getElementById('client-ref');
  if (ref && !ref.value) {
    ref.value = 'v' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }
  var btn = document.getElementById('visit-locate');
  if (!btn || !navigator.geolocation) {
    if (btn) { btn.hidden = true; }
    return;
  }
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
})();
