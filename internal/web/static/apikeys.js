// The API keys page: confirm before revoking; copy a new secret.
(function () {
  'use strict';
  document.querySelectorAll('form.revoke').forEach(function (f) {
    f.addEventListener('submit', function (e) {
      if (!window.confirm('吊销密钥“' + f.getAttribute('data-name') + '”？使用它的系统将立即无法上报。')) e.preventDefault();
    });
  });
  document.querySelectorAll('[data-copy]').forEach(function (b) {
    b.addEventListener('click', function () {
      var text = document.getElementById(b.getAttribute('data-copy')).textContent;
      if (navigator.clipboard) navigator.clipboard.writeText(text).then(function () { b.textContent = '已复制'; }, function () {});
    });
  });
})();
