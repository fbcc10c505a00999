// The resident's report form (/r) and a grid's residents' door (/r/g/…):
// the chosen category's questions (the report form only), GPS, and photos
// made smaller on the phone before they are sent with the form. The form
// works without this script.
(function () {
  'use strict';
  var form = document.getElementById('resident-report') || document.getElementById('door');
  if (!form) return;
  var cat = form.elements.category;
  function questions() {
    if (!cat) return;
    form.querySelectorAll('fieldset.questions').forEach(function (fs) {
      var on = fs.getAttribute('data-cat') === cat.value;
      fs.classList.toggle('hidden', !on);
      fs.disabled = !on;
    });
  }
  if (cat) cat.addEventListener('change', questions);
  questions();

  var place = document.getElementById('placement');
  document.getElementById('locate').addEventListener('click', function () {
    if (!navigator.geolocation) { place.textContent = '此设备不支持定位，请填写地址'; return; }
    place.textContent = '正在定位…';
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lng.value = pos.coords.longitude.toFixed(6);
      place.textContent = '已获取当前位置';
    }, function (err) {
      place.textContent = '定位失败（' + (err.code === 1 ? '未授权' : '信号弱') + '），请填写地址';
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  // The map's pin (map.js) fills the latitude and longitude.
  form.elements.lat.addEventListener('change', function () {
    place.textContent = '已在地图上选点（纬度 ' + form.elements.lat.value + '，经度 ' + form.elements.lng.value + '）';
  });

  // Camera photos are several MB; shrink them (long side 1600 px, JPEG) so
  // the form goes through on a weak signal.
  var input = form.querySelector('input[type=file]');
  if (!window.DataTransfer || !window.createImageBitmap || !input) return;
  function shrink(file) {
    if (!/^image\//.test(file.type) || file.size < 1500000) return Promise.resolve(file);
    return createImageBitmap(file).then(function (bmp) {
      var scale = Math.min(1, 1600 / Math.max(bmp.width, bmp.height));
      var c = document.createElement('canvas');
      c.width = Math.round(bmp.width * scale); c.height = Math.round(bmp.height * scale);
      c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
      return new Promise(function (ok) {
        c.toBlob(function (b) { ok(b ? new File([b], file.name.replace(/\.\w+$/, '') + '.jpg', { type: 'image/jpeg' }) : file); }, 'image/jpeg', 0.82);
      });
    }).catch(function () { return file; });
  }
  var busy = null;
  input.addEventListener('change', function () {
    var files = Array.prototype.slice.call(input.files);
    busy = Promise.all(files.map(shrink)).then(function (small) {
      var dt = new DataTransfer();
      small.forEach(function (f) { dt.items.add(f); });
      input.files = dt.files;
      busy = null;
    });
  });
  form.addEventListener('submit', function (e) {
    if (!busy) return;
    e.preventDefault();
    busy.then(function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
  });
})();
