// Countdowns: every element with data-due (milliseconds since the epoch)
// shows the time left or overdue and takes the clock's colour; data-yellow
// is when it turns yellow. Shared by every page.
(function () {
  'use strict';
  function span(ms) {
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
      m = Math.floor(s % 3600 / 60), sec = s % 60;
    if (d > 0) return d + '天' + h + '时';
    if (h > 0) return h + '时' + (m < 10 ? '0' : '') + m + '分';
    return m + '分' + (sec < 10 ? '0' : '') + sec + '秒';
  }
  // swap gives x the colour class with the prefix, dropping the others.
  function swap(x, prefix, colour) {
    var want = prefix + colour;
    if (x.classList.contains(want)) return;
    ['green', 'yellow', 'red'].forEach(function (c) { x.classList.remove(prefix + c); });
    x.classList.add(want);
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll('[data-due]').forEach(function (el) {
      var due = +el.getAttribute('data-due'), yellow = +el.getAttribute('data-yellow');
      if (!due || el.classList.contains('clock-paused')) return;
      var left = due - now, cls = left < 0 ? 'red' : (yellow && now >= yellow ? 'yellow' : 'green');
      el.textContent = left < 0 ? '超期' + span(-left) : '剩' + span(left);
      swap(el, 'clock-', cls);
      var row = el.closest('tr[data-id], .card');
      if (row) swap(row, 'r-', cls);
    });
  }
  window.zhizhiTick = tick;
  tick();
  setInterval(tick, 1000);
})();
