// The unit form: show the board and parent selects only for the kinds that
// use them, and offer as parent only the boards of the chosen street. The
// form works without this; the server checks the same rules.
(function () {
  'use strict';
  var form = document.getElementById('unit-form');
  if (!form) return;
  var kind = form.querySelector('#unit-kind');
  var region = form.querySelector('#unit-region');
  var parent = form.querySelector('#unit-parent');
  var boardLabel = form.querySelector('.for-board');
  var parentLabel = form.querySelector('.for-parent');
  function update() {
    var k = kind.value;
    boardLabel.hidden = !(k === 'board' || k === 'post' || k === 'section');
    parentLabel.hidden = !(k === 'post' || k === 'section');
    var street = region.value;
    Array.prototype.forEach.call(parent.options, function (o) {
      if (!o.value) return;
      var off = street !== '' && o.getAttribute('data-street') !== street;
      o.hidden = off;
      o.disabled = off;
      if (off && o.selected) parent.value = '';
    });
  }
  kind.addEventListener('change', update);
  region.addEventListener('change', update);
  update();
})();
