// The calendar view of the administrator's calendar page: a click on a day
// flips its line in the overlay box (休 on a worked day, 班 on a day off,
// removed when the day had one: back to the official calendar) and the
// cell, without leaving the page; 保存 then sends the form. Without this
// script each day is a submit button and the server flips the day.
(function () {
  'use strict';
  var view = document.getElementById('calendar-view');
  var box = document.getElementById('overlay');
  if (!view || !box) return;
  view.addEventListener('click', function (e) {
    var btn = e.target.closest('button.cal-day');
    if (!btn || btn.disabled) return;
    e.preventDefault();
    var date = btn.getAttribute('data-date');
    var lines = box.value.split('\n').filter(function (l) { return l.trim() !== ''; });
    var kept = lines.filter(function (l) { return l.trim().indexOf(date + ',') !== 0; });
    var off;
    if (kept.length !== lines.length) {
      // Back to the official day.
      btn.classList.remove('custom');
      off = btn.getAttribute('data-kind') === 'workday'; // officially off
    } else {
      var kind = btn.getAttribute('data-kind');
      kept.push(date + ',' + (kind === 'holiday' ? '休' : '班'));
      btn.classList.add('custom');
      off = kind === 'holiday';
    }
    box.value = kept.join('\n');
    btn.classList.toggle('off', off);
    btn.classList.toggle('work', !off);
    var we = btn.classList.contains('we');
    var mark = off ? ((!we || btn.classList.contains('official') || btn.classList.contains('custom')) ? '休' : '') : (we ? '班' : '');
    btn.querySelector('small').textContent = mark;
  });
})();
