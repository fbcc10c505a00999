// Photo inputs: each chosen picture is shrunk on the phone (long side 1600
// px, JPEG) and uploaded at once to /api/v1/photos; the form then carries
// only the photo's hash, so a weak signal does not have to carry the whole
// form again. Without this script the files go with the form.
(function () {
  'use strict';
  function shrink(file) {
    if (!window.createImageBitmap || !/^image\//.test(file.type)) return Promise.resolve(file);
    return createImageBitmap(file).then(function (bmp) {
      var max = 1600, scale = Math.min(1, max / Math.max(bmp.width, bmp.height));
      if (scale === 1 && file.size < 1500000) return file;
      var c = document.createElement('canvas');
      c.width = Math.round(bmp.width * scale); c.height = Math.round(bmp.height * scale);
      c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
      return new Promise(function (ok) { c.toBlob(function (b) { ok(b || file); }, 'image/jpeg', 0.82); });
    }).catch(function () { return file; });
  }
  function upload(blob) {
    var fd = new FormData();
    fd.append('photo', blob, 'photo'); // no extension: the part's type (or the bytes) says what it is
    return fetch('/api/v1/photos', { method: 'POST', body: fd, credentials: 'same-origin' }).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error((body.error && body.error.fields && body.error.fields[0] && body.error.fields[0].reason) || (body.error && body.error.message) || '上传失败');
        return body;
      });
    });
  }
  // The phone's offline report form (offline.js) shrinks and uploads with these too.
  window.zhizhiPhotos = { shrink: shrink, upload: upload };
  document.querySelectorAll('.photo-input input[type=file]').forEach(function (input) {
    var box = input.closest('.photo-input'), thumbs = box.querySelector('.thumbs');
    var form = input.form, pending = 0;
    var msg = document.createElement('p');
    msg.className = 'muted';
    box.appendChild(msg);
    input.addEventListener('change', function () {
      Array.prototype.forEach.call(input.files, function (file) {
        pending++;
        msg.textContent = '正在上传照片…';
        var span = document.createElement('span');
        span.className = 'thumb loading';
        thumbs.appendChild(span);
        shrink(file).then(upload).then(function (p) {
          span.classList.remove('loading');
          span.innerHTML = '<img alt="已上传照片"><input type="hidden" name="photo">';
          span.querySelector('img').src = p.thumb_url || p.url;
          span.querySelector('input').value = p.hash;
        }).catch(function (err) {
          span.remove();
          msg.textContent = '照片上传失败：' + err.message + '（提交时将随表单一起发送）';
          msg.className = 'field-error';
          input.dataset.keep = '1';
        }).then(function () {
          if (--pending === 0) {
            if (msg.className === 'muted') msg.textContent = '照片已上传';
            if (!input.dataset.keep) input.value = '';
          }
        });
      });
    });
    form.addEventListener('submit', function (e) {
      if (pending > 0) { e.preventDefault(); msg.textContent = '照片还在上传，请稍候再提交'; }
    });
  });
})();
