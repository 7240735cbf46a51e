/*
 * sisock web page: nodes and their metadata, a field picker, time-range presets, live plots
 * (uPlot, one plot per unit) and CSV download of what is shown. Plain browser JavaScript, no build.
 *
 * Server API (same origin): GET api/nodes, POST ../query (Grafana-shaped), GET api/live (SSE).
 * State lives in the URL hash (#r=15m&t=sim::a,sim::b) so a view can be bookmarked.
 * A token given as ?token=… is sent as a bearer token (bridge with SISOCK_GRAFANA_TOKEN).
 */
(function () {
  'use strict';

  var RANGES = { '5m': 300e3, '15m': 900e3, '1h': 3600e3, '6h': 6 * 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };
  var COLORS = ['#2f6fde', '#e4572e', '#17a398', '#f3a712', '#8e44ad', '#29335c', '#d81159', '#3bb273', '#7768ae', '#e15554', '#4d9de0', '#a0522d'];
  var base = location.pathname.replace(/\/page\/.*$/, '/');
  var token = new URLSearchParams(location.search).get('token');

  var state = {
    nodes: [],            // from api/nodes
    fieldInfo: {},        // "node::field" → {units, type, description}
    selected: [],         // targets, in pick order
    range: '15m',
    live: true,
    series: {},           // target → {t: [ms], v: []}
    plots: [],            // [{unit, targets, u, el}]
    es: null,             // EventSource
    liveEvents: 0,
    redraws: 0,           // count of live redraws (tests wait on it)
    lastUpdate: null,
    loadSeq: 0,
    redrawPending: false,
    filter: '',
  };
  window.__sisock = {
    state: state,
    pointCount: function () { return state.plots.reduce(function (n, p) { return n + (p.u ? p.u.data[0].length : 0); }, 0); },
  };

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function headers(json) {
    var h = {};
    if (json) h['Content-Type'] = 'application/json';
    if (token) h.Authorization = 'Bearer ' + token;
    return h;
  }
  function api(path, body) {
    var opts = body === undefined ? { headers: headers(false) } : { method: 'POST', headers: headers(true), body: JSON.stringify(body) };
    return fetch(base + path, opts).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (j) {
        if (!res.ok) throw new Error(j.message || ('HTTP ' + res.status));
        return j;
      });
    });
  }
  function ago(sec) {
    if (sec === null || sec === undefined) return '—';
    var s = Math.max(0, Date.now() / 1000 - sec);
    if (s < 90) return Math.round(s) + ' s ago';
    if (s < 5400) return Math.round(s / 60) + ' min ago';
    if (s < 172800) return Math.round(s / 3600) + ' h ago';
    return Math.round(s / 86400) + ' d ago';
  }
  function colorOf(target) {
    var i = state.selected.indexOf(target);
    return COLORS[(i < 0 ? 0 : i) % COLORS.length];
  }

  // ---- URL hash state -------------------------------------------------------------------------
  function readHash() {
    var p = new URLSearchParams(location.hash.slice(1));
    if (p.get('r') && RANGES[p.get('r')]) state.range = p.get('r');
    if (p.get('t')) state.selected = p.get('t').split(',').filter(Boolean);
    if (p.get('live') === '0') state.live = false;
  }
  function writeHash() {
    var p = new URLSearchParams();
    p.set('r', state.range);
    if (state.selected.length) p.set('t', state.selected.join(','));
    if (!state.live) p.set('live', '0');
    history.replaceState(null, '', '#' + p.toString());
  }

  // ---- nodes and the field picker -------------------------------------------------------------
  function setConn(ok, text) {
    $('conn').className = 'conn ' + (ok ? 'ok' : 'bad');
    $('conn-text').textContent = text;
  }

  function loadNodes() {
    return api('api/nodes').then(function (j) {
      state.nodes = j.nodes || [];
      state.fieldInfo = {};
      state.nodes.forEach(function (n) {
        Object.keys(n.fields || {}).forEach(function (f) { state.fieldInfo[n.name + '::' + f] = n.fields[f]; });
      });
      setConn(true, j.realm + ' @ ' + j.router.replace(/^wss?:\/\//, ''));
      renderNodes();
    }).catch(function (e) {
      setConn(false, e.message);
      if (!state.nodes.length) $('nodes').replaceChildren(el('p', { class: 'muted', text: String(e.message) }));
    });
  }

  function renderNodes() {
    var box = $('nodes');
    var open = {};
    box.querySelectorAll('details.node').forEach(function (d) { open[d.dataset.node] = d.open; });
    box.innerHTML = '';
    $('node-count').textContent = String(state.nodes.length);
    if (!state.nodes.length) { box.appendChild(el('p', { class: 'muted', text: 'No data node is online.' })); return; }
    var filter = state.filter.toLowerCase();
    state.nodes.forEach(function (n, idx) {
      var m = n.metadata || {};
      var names = Object.keys(n.fields || {}).sort();
      var shown = names.filter(function (f) { return !filter || (n.name + '::' + f).toLowerCase().indexOf(filter) >= 0; });
      if (filter && !shown.length) return;
      var meta = el('div', { class: 'meta' });
      [['host', m.host ? m.host + (m.pid ? ' · pid ' + m.pid : '') : null],
        ['process', m.process], ['started', m.started ? ago(m.started) : null],
        ['newest', m.newest_sample ? ago(m.newest_sample) : null], ['version', m.sisock_version]]
        .forEach(function (kv) { if (kv[1]) { meta.appendChild(el('b', { text: kv[0] })); meta.appendChild(el('span', { text: String(kv[1]) })); } });
      var fields = el('div', { class: 'fields' });
      shown.forEach(function (f) {
        var info = n.fields[f];
        var target = n.name + '::' + f;
        var cb = el('input', { type: 'checkbox', 'data-target': target });
        cb.checked = state.selected.indexOf(target) >= 0;
        cb.addEventListener('change', function () { toggle(target, cb.checked); });
        fields.appendChild(el('label', { class: 'field', title: (info.description || f) + (info.units ? ' [' + info.units + ']' : '') }, [
          cb, el('span', { class: 'fname', text: f }),
          info.units ? el('span', { class: 'units', text: info.units }) : null,
          info.type !== 'number' ? el('span', { class: 'type', text: info.type }) : null,
        ]));
      });
      if (n.fieldsError && !names.length) fields.appendChild(el('p', { class: 'muted', text: '  fields unavailable: ' + n.fieldsError }));
      var d = el('details', { class: 'node', 'data-node': n.name }, [
        el('summary', null, [
          el('div', { class: 'node-name' }, [n.name, el('span', { class: 'badge', text: names.length + ' fields' })]),
          n.description ? el('div', { class: 'node-desc', text: n.description }) : null,
          meta,
        ]),
        fields,
      ]);
      d.open = open[n.name] !== undefined ? open[n.name] : (filter ? true : idx === 0);
      box.appendChild(d);
    });
  }

  function toggle(target, on) {
    var i = state.selected.indexOf(target);
    if (on && i < 0) state.selected.push(target);
    if (!on && i >= 0) state.selected.splice(i, 1);
    writeHash();
    reload();
  }

  function renderChips() {
    var box = $('selected');
    box.innerHTML = '';
    state.selected.forEach(function (t) {
      var s = state.series[t];
      box.appendChild(el('span', { class: 'chip' }, [
        el('span', { class: 'swatch', style: 'background:' + colorOf(t) }), t + (s ? ' · ' + s.t.length : ''),
        el('button', { title: 'remove', text: '×', onclick: function () {
          toggle(t, false);
          var cb = document.querySelector('input[data-target="' + CSS.escape(t) + '"]');
          if (cb) cb.checked = false;
        } }),
      ]));
    });
    $('csv').disabled = !state.selected.length;
  }

  // ---- data: history then live ----------------------------------------------------------------
  function windowMs() { return RANGES[state.range]; }

  function reload() {
    var seq = ++state.loadSeq;
    closeLive();
    renderChips();
    if (!state.selected.length) { state.series = {}; buildPlots(); setStatus(''); return; }
    var to = Date.now();
    var from = to - windowMs();
    var width = Math.max(300, $('plots').clientWidth - 40);
    setStatus('loading…');
    api('query', {
      range: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), raw: { from: 'now-' + state.range, to: 'now' } },
      maxDataPoints: Math.round(width),
      targets: state.selected.map(function (t, i) { return { target: t, refId: String.fromCharCode(65 + (i % 26)), type: 'timeseries' }; }),
    }).then(function (res) {
      if (seq !== state.loadSeq) return;
      var series = {};
      state.selected.forEach(function (t) { series[t] = { t: [], v: [] }; });
      res.forEach(function (r) {
        var s = series[r.target] || (series[r.target] = { t: [], v: [] });
        (r.datapoints || []).forEach(function (p) { s.t.push(p[1]); s.v.push(p[0]); });
      });
      state.series = series;
      state.lastUpdate = Date.now();
      buildPlots();
      renderChips();
      setStatus();
      if (state.live) openLive(seq);
    }).catch(function (e) {
      if (seq !== state.loadSeq) return;
      state.series = {};
      buildPlots(e.message);
      setStatus('');
    });
  }

  function openLive(seq) {
    var qs = state.selected.map(function (t) { return 'target=' + encodeURIComponent(t); }).join('&');
    if (token) qs += '&access_token=' + encodeURIComponent(token);
    var es = new EventSource(base + 'api/live?' + qs);
    state.es = es;
    es.addEventListener('data', function (ev) {
      if (seq !== state.loadSeq) return;
      var msg = JSON.parse(ev.data);
      var cutoff = Date.now() - windowMs();
      Object.keys(msg.series).forEach(function (t) {
        var s = state.series[t];
        var add = msg.series[t];
        if (!s) return;
        var last = s.t.length ? s.t[s.t.length - 1] : -Infinity;
        for (var i = 0; i < add.t.length; i++) {
          if (add.t[i] > last) { s.t.push(add.t[i]); s.v.push(add.v[i]); last = add.t[i]; }
        }
        var drop = 0;
        while (drop < s.t.length && s.t[drop] < cutoff) drop++;
        if (drop) { s.t.splice(0, drop); s.v.splice(0, drop); }
      });
      state.liveEvents++;
      state.lastUpdate = Date.now();
      scheduleRedraw();
    });
    es.addEventListener('ready', function () { setStatus(); });
    es.onerror = function () { setStatus('live: reconnecting…'); };
  }

  function closeLive() {
    if (state.es) { state.es.close(); state.es = null; }
  }

  function scheduleRedraw() {
    if (state.redrawPending) return;
    state.redrawPending = true;
    setTimeout(function () {
      state.redrawPending = false;
      redraw();
    }, 200);
  }

  function setStatus(text) {
    if (text !== undefined) { $('status').textContent = text; return; }
    var n = 0;
    Object.keys(state.series).forEach(function (t) { n += state.series[t].t.length; });
    $('status').textContent = n + ' points' + (state.live ? ' · live' : '') + (state.lastUpdate ? ' · ' + new Date(state.lastUpdate).toLocaleTimeString() : '');
  }

  // ---- plots ----------------------------------------------------------------------------------
  /** Targets grouped by unit (one plot each), in pick order. */
  function groups() {
    var byUnit = {};
    var order = [];
    state.selected.forEach(function (t) {
      var info = state.fieldInfo[t] || {};
      var unit = info.units || (info.type === 'bool' ? 'on/off' : '');
      if (!byUnit[unit]) { byUnit[unit] = []; order.push(unit); }
      byUnit[unit].push(t);
    });
    return order.map(function (u) { return { unit: u, targets: byUnit[u] }; });
  }

  /** uPlot data for some targets: x = union of times (seconds), one y array each (null gaps). */
  function aligned(targets) {
    var all = [];
    targets.forEach(function (t) { var s = state.series[t]; if (s) all = all.concat(s.t); });
    all.sort(function (a, b) { return a - b; });
    var xs = [];
    for (var i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) xs.push(all[i]);
    var data = [xs.map(function (ms) { return ms / 1000; })];
    targets.forEach(function (t) {
      var s = state.series[t] || { t: [], v: [] };
      var ys = new Array(xs.length).fill(null);
      var j = 0;
      for (var k = 0; k < s.t.length; k++) {
        while (j < xs.length && xs[j] < s.t[k]) j++;
        var v = s.v[k];
        ys[j] = typeof v === 'boolean' ? (v ? 1 : 0) : (typeof v === 'number' ? v : null);
      }
      data.push(ys);
    });
    return data;
  }

  function buildPlots(error) {
    state.plots.forEach(function (p) { p.u.destroy(); });
    state.plots = [];
    var box = $('plots');
    box.innerHTML = '';
    if (error) box.appendChild(el('div', { class: 'error', text: error }));
    if (!state.selected.length) {
      box.appendChild(el('div', { class: 'empty' }, [el('h3', { text: 'Pick fields on the left' }),
        el('p', { text: 'Each unit gets its own plot. History comes from the bridge\'s /query; new samples stream in live.' })]));
      return;
    }
    var width = Math.max(300, box.clientWidth - 26);
    var gs = groups();
    var height = Math.max(180, Math.min(320, Math.floor((box.clientHeight - 30) / gs.length) - 80));
    gs.forEach(function (g) {
      var card = el('div', { class: 'plot-card', 'data-unit': g.unit });
      var title = el('h3', null, [g.unit ? g.unit : 'value', el('span', { class: 'n', text: g.targets.length + ' series' })]);
      card.appendChild(title);
      box.appendChild(card);
      var bool = g.unit === 'on/off';
      var opts = {
        width: width,
        height: height,
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: '#6b7587', grid: { stroke: '#eef1f5' }, ticks: { stroke: '#e2e6ee' } },
          { stroke: '#6b7587', grid: { stroke: '#eef1f5' }, ticks: { stroke: '#e2e6ee' }, size: 60,
            label: g.unit || undefined, labelSize: 18 },
        ],
        series: [{ label: 'time', value: '{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}' }].concat(g.targets.map(function (t) {
          var s = { label: t, stroke: colorOf(t), width: 1.5, spanGaps: false, points: { show: false } };
          if (bool && uPlot.paths && uPlot.paths.stepped) s.paths = uPlot.paths.stepped({ align: 1 });
          return s;
        })),
      };
      var u = new uPlot(opts, aligned(g.targets), card);
      state.plots.push({ unit: g.unit, targets: g.targets, u: u, el: card });
    });
  }

  function redraw() {
    var to = Date.now();
    state.plots.forEach(function (p) {
      p.u.setData(aligned(p.targets), false);
      p.u.setScale('x', { min: (to - windowMs()) / 1000, max: to / 1000 });
    });
    renderChips();
    setStatus();
    state.redraws++;
  }

  // ---- CSV ------------------------------------------------------------------------------------
  function csv() {
    var targets = state.selected.filter(function (t) { return state.series[t]; });
    var data = aligned(targets);
    var esc = function (s) { return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; };
    var lines = [['time_utc', 'time_unix_ms'].concat(targets.map(function (t) {
      var u = (state.fieldInfo[t] || {}).units; return esc(u ? t + ' [' + u + ']' : t);
    })).join(',')];
    for (var i = 0; i < data[0].length; i++) {
      var ms = Math.round(data[0][i] * 1000);
      var row = [new Date(ms).toISOString(), String(ms)];
      for (var k = 1; k < data.length; k++) row.push(data[k][i] === null ? '' : String(data[k][i]));
      lines.push(row.join(','));
    }
    return lines.join('\n') + '\n';
  }

  function downloadCsv() {
    var blob = new Blob([csv()], { type: 'text/csv' });
    var a = el('a', { href: URL.createObjectURL(blob), download: 'sisock-' + new Date().toISOString().replace(/[:.]/g, '-') + '.csv' });
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }
  window.__sisock.csv = csv;

  // ---- wiring ---------------------------------------------------------------------------------
  function markRange() {
    document.querySelectorAll('#presets button').forEach(function (b) { b.classList.toggle('active', b.dataset.range === state.range); });
  }

  readHash();
  markRange();
  $('live').checked = state.live;
  document.querySelectorAll('#presets button').forEach(function (b) {
    b.addEventListener('click', function () { state.range = b.dataset.range; markRange(); writeHash(); reload(); });
  });
  $('live').addEventListener('change', function () { state.live = $('live').checked; writeHash(); reload(); });
  $('csv').addEventListener('click', downloadCsv);
  $('clear').addEventListener('click', function () {
    state.selected = [];
    document.querySelectorAll('input[data-target]').forEach(function (cb) { cb.checked = false; });
    writeHash();
    reload();
  });
  $('filter').addEventListener('input', function () { state.filter = $('filter').value; renderNodes(); });
  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { buildPlots(); redraw(); }, 150);
  });

  loadNodes().then(function () { reload(); });
  setInterval(loadNodes, 5000);
})();
