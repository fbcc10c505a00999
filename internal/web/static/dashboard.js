// The leaders' dashboard: draws the charts from the page's data (the same
// numbers as the tables under them) with the vendored ECharts; a click on a
// bar, slice or day opens the cases behind it.
(function () {
  'use strict';
  var data = document.getElementById('dash-data');
  if (!data || !window.echarts) return;
  var charts = JSON.parse(data.textContent) || [];
  var blue = '#1565c0', green = '#2e7d32', red = '#c62828';
  var palette = ['#1565c0', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#ad1457', '#5d4037', '#455a64', '#9e9d24', '#c62828'];
  var phone = window.matchMedia('(max-width: 720px)').matches;

  function names(c) { return c.items.map(function (i) { return i.name; }); }
  function values(c, k) { return c.items.map(function (i) { return i[k]; }); }

  function option(c) {
    var grid = { left: 8, right: 24, top: 24, bottom: 8, containLabel: true };
    switch (c.kind) {
      case 'pie':
        return {
          color: palette,
          series: [{
            type: 'pie', radius: phone ? ['25%', '48%'] : ['35%', '65%'], avoidLabelOverlap: true,
            label: { formatter: phone ? '{b}\n{c}件' : '{b}\n{c}件（{d}%）' },
            data: c.items.map(function (i) { return { name: i.name, value: i.reported }; })
          }]
        };
      case 'hbar':
        return {
          grid: grid,
          xAxis: { type: 'value', minInterval: 1 },
          yAxis: { type: 'category', inverse: true, data: names(c), axisLabel: { width: phone ? 80 : 140, overflow: 'truncate' } },
          series: [
            { type: 'bar', name: '上报', data: values(c, 'reported'), itemStyle: { color: blue }, label: { show: true, position: 'right' } },
            { type: 'bar', name: '超期未结', data: values(c, 'overdue'), itemStyle: { color: red } }
          ]
        };
      case 'bar':
        return {
          grid: grid,
          xAxis: { type: 'category', data: names(c), axisLabel: { interval: 0, rotate: c.items.length > (phone ? 3 : 6) ? 35 : 0, width: 90, overflow: 'truncate' } },
          yAxis: { type: 'value', minInterval: 1 },
          series: [
            { type: 'bar', name: '上报', data: values(c, 'reported'), itemStyle: { color: blue }, label: { show: c.items.length <= 20, position: 'top' } },
            { type: 'bar', name: '超期未结', data: values(c, 'overdue'), itemStyle: { color: red } }
          ]
        };
      default: // day
        return {
          grid: grid,
          xAxis: { type: 'category', data: c.items.map(function (i) { return i.name.slice(5); }) },
          yAxis: { type: 'value', minInterval: 1 },
          series: [
            { type: 'bar', name: '上报', data: values(c, 'reported'), itemStyle: { color: blue } },
            { type: 'line', name: '办结', data: values(c, 'closed'), itemStyle: { color: green }, lineStyle: { color: green }, symbolSize: 5 }
          ]
        };
    }
  }

  var made = {};
  charts.forEach(function (c) {
    var el = document.getElementById('chart-' + c.id);
    if (!el) return;
    if (!c.items.length) {
      el.classList.add('chart-empty');
      el.textContent = '该时段没有案件';
      return;
    }
    var chart = echarts.init(el, null, { renderer: 'canvas' });
    chart.on('finished', function () { el.setAttribute('data-ready', '1'); }); // drawn, animation done
    chart.setOption(option(c));
    chart.on('click', function (p) {
      var it = c.items[p.dataIndex];
      if (it && it.href) location.href = it.href;
    });
    chart.getZr().on('mousemove', function (e) { el.style.cursor = e.target ? 'pointer' : ''; });
    made[c.id] = chart;
  });
  var timer = null;
  window.addEventListener('resize', function () {
    clearTimeout(timer);
    timer = setTimeout(function () { Object.keys(made).forEach(function (k) { made[k].resize(); }); }, 150);
  });
  window.zhizhiCharts = made;
})();
