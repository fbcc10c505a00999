// The report form: category suggestions as you type, the category's own
// questions, GPS, and the grid the point falls in.
(function () {
  'use strict';
  var form = document.getElementById('report');
  if (!form) return;
  var desc = document.getElementById('description'), cat = document.getElementById('category');
  var box = document.getElementById('suggest'), timer = null, last = '';
  function showQuestions() {
    form.querySelectorAll('fieldset.questions').forEach(function (fs) {
      var on = fs.getAttribute('data-cat') === cat.value;
      fs.classList.toggle('hidden', !on);
      fs.disabled = !on;
    });
  }
  cat.addEventListener('change', showQuestions);
  showQuestions();
  function suggest() {
    var text = desc.value.trim();
    if (text === last) return;
    last = text;
    if (!text) { box.innerHTML = ''; return; }
    if (!navigator.onLine) { last = ''; return; } // without signal: pick the category from the list
    fetch('/api/v1/suggest?text=' + encodeURIComponent(text), { credentials: 'same-origin' }).then(function (res) {
      return res.ok ? res.json() : { items: [] };
    }).then(function (body) {
      box.innerHTML = '';
      (body.items || []).forEach(function (s) {
        var b = document.createElement('button');
        b.type = 'button';
        b.className = 'chip' + (cat.value === s.category.code ? ' on' : '');
        b.textContent = s.category.name + (s.unit ? '（' + s.unit.name + '）' : '');
        b.addEventListener('click', function () {
          cat.value = s.category.code;
          showQuestions();
          box.querySelectorAll('.chip').forEach(function (x) { x.classList.remove('on'); });
          b.classList.add('on');
        });
        box.appendChild(b);
      });
      if (box.firstChild) {
        var label = document.createElement('span');
        label.className = 'muted';
        label.textContent = '推荐类别：';
        box.insertBefore(label, box.firstChild);
      }
    }).catch(function () {});
  }
  desc.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(suggest, 300); });
  suggest();

  var lat = document.getElementById('lat'), lng = document.getElementById('lng'), place = document.getElementById('placement');
  function locate() {
    if (!lat.value || !lng.value) { place.textContent = ''; return; }
    if (!navigator.onLine) { place.textContent = '当前没有网络，发送时再确定所在网格'; return; }
    fetch('/api/v1/locate?lat=' + encodeURIComponent(lat.value) + '&lng=' + encodeURIComponent(lng.value), { credentials: 'same-origin' })
      .then(function (res) { return res.json(); })
      .then(function (body) {
        if (body.error) place.textContent = '坐标无效';
        else place.textContent = body.grid ? '所在网格：' + body.names.slice(2).join(' · ') : body.message;
      }).catch(function () {});
  }
  lat.addEventListener('change', locate);
  lng.addEventListener('change', locate);
  locate();
  document.getElementById('locate').addEventListener('click', function () {
    if (!navigator.geolocation) { place.textContent = '此设备不支持定位，请手动填写经纬度或地址'; return; }
    place.textContent = '正在定位…';
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(6);
      lng.value = pos.coords.longitude.toFixed(6);
      locate();
    }, function (err) {
      place.textContent = '定位失败（' + (err.code === 1 ? '未授权' : '信号弱') + '），请手动填写经纬度或地址';
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
  var onSpot = document.getElementById('on_spot'), note = form.querySelector('.on-spot-note');
  function spot() { note.classList.toggle('hidden', !onSpot.checked); }
  onSpot.addEventListener('change', spot);
  spot();
})();
