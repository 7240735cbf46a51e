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
  var COLORS = [
    '#2f6fde',
    '#e4572e',
    '#17a398',
    '#f3a712',
    '#8e44ad',
    '#29335c',
    '#d81159',
    '#3bb273',
    '#7768ae',
    '#e15554',
    '#4d9de0',
    '#a0522d',
  ];
  var base = location.pathname.replace(/\/page\/.*$/, '/');
  var token = new URLSearchParams(location.search).get('token');

  var state = {
    nodes: [], // from api/nodes
    fieldInfo: {}, // "node::field" → {units, type, description}
    selected: [], // targets, in pick order
    range: '15m',
    rangeChosen: false, // the range came from the URL or a click (else it widens until data show)
    rangeNote: '', // why the range was widened
    tz: 'UTC', // 'UTC' or 'local'
    errors: {}, // target → why /query could not answer it
    history: {}, // target → the bridge's notice when (part of) its series came from the historian
    states: null, // the state-timeline card (states.js), if any
    live: true,
    series: {}, // target → {t: [ms], v: []}
    plots: [], // [{unit, targets, u, el}]
    es: null, // EventSource
    liveEvents: 0,
    redraws: 0, // count of live redraws (tests wait on it)
    lastUpdate: null,
    loadSeq: 0,
    redrawPending: false,
    filter: '',
  };
  window.__sisock = {
    state: state,
    pointCount: function () {
      return state.plots.reduce(function (n, p) {
        return n + (p.u ? p.u.data[0].length : 0);
      }, 0);
    },
  };

  function $(id) {
    return document.getElementById(id);
  }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs)
      Object.keys(attrs).forEach(function (k) {
        if (k === 'text') e.textContent = attrs[k];
        else if (k === 'class') e.className = attrs[k];
        else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
        else e.setAttribute(k, attrs[k]);
      });
    (children || []).forEach(function (c) {
      if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
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
    return fetch(base + path, opts).then(
      function (res) {
        return res
          .json()
          .catch(function () {
            return {};
          })
          .then(function (j) {
            if (res.status === 401) throw new Error('the bridge wants credentials: open the page as …/page/?token=<SISOCK_GRAFANA_TOKEN>');
            if (!res.ok) throw new Error(j.message || 'the bridge answered HTTP ' + res.status + ' to ' + path);
            return j;
          });
      },
      function () {
        // fetch() rejects with a TypeError ("Failed to fetch") when nothing answers at all
        throw new Error('the bridge at ' + location.host + ' does not answer: is `sisock grafana` (or `sisock demo`) still running?');
      },
    );
  }
  var LOCAL_TZ = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local';
  function tzName() {
    return state.tz === 'UTC' ? 'UTC' : LOCAL_TZ;
  }
  function pad(n) {
    return (n < 10 ? '0' : '') + n;
  }
  /** A time in the chosen zone: 2026-12-06 04:20:00 UTC. */
  function fmtTime(ms) {
    if (ms === null || ms === undefined) return '—';
    var d = new Date(ms);
    if (state.tz === 'UTC')
      return d
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC');
    return (
      d.getFullYear() +
      '-' +
      pad(d.getMonth() + 1) +
      '-' +
      pad(d.getDate()) +
      ' ' +
      pad(d.getHours()) +
      ':' +
      pad(d.getMinutes()) +
      ':' +
      pad(d.getSeconds()) +
      ' ' +
      LOCAL_TZ
    );
  }
  /** Calendar parts of a time in the chosen zone. */
  function partsOf(ms) {
    var d = new Date(ms);
    return state.tz === 'UTC'
      ? {
          y: d.getUTCFullYear(),
          mo: d.getUTCMonth() + 1,
          d: d.getUTCDate(),
          h: d.getUTCHours(),
          mi: d.getUTCMinutes(),
          s: d.getUTCSeconds(),
        }
      : { y: d.getFullYear(), mo: d.getMonth() + 1, d: d.getDate(), h: d.getHours(), mi: d.getMinutes(), s: d.getSeconds() };
  }
  /** x-axis labels, 24-hour clock in the chosen zone; the date under the first tick of each day. */
  function timeTicks(_u, splits, _ax, _space, incr) {
    var prevDay = null;
    return splits.map(function (sec) {
      var p = partsOf(sec * 1000);
      var day = p.y + '-' + pad(p.mo) + '-' + pad(p.d);
      var clock = incr >= 86400 ? '' : pad(p.h) + ':' + pad(p.mi) + (incr < 60 ? ':' + pad(p.s) : '');
      var label = day !== prevDay ? (clock ? clock + '\n' + day : day) : clock;
      prevDay = day;
      return label;
    });
  }
  function nodeOf(target) {
    return target.split('::')[0];
  }
  function isOnline(node) {
    return state.nodes.some(function (n) {
      return n.name === node;
    });
  }
  function unitsOf(target) {
    return (state.fieldInfo[target] || {}).units || '';
  }
  function isStateField(target) {
    var ty = (state.fieldInfo[target] || {}).type;
    return ty === 'string' || ty === 'bool';
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
    if (p.get('r') && RANGES[p.get('r')]) {
      state.range = p.get('r');
      state.rangeChosen = true;
    }
    if (p.get('tz') === 'local') state.tz = 'local';
    if (p.get('t')) state.selected = p.get('t').split(',').filter(Boolean);
    if (p.get('live') === '0') state.live = false;
  }
  function writeHash() {
    var p = new URLSearchParams();
    p.set('r', state.range);
    if (state.selected.length) p.set('t', state.selected.join(','));
    if (!state.live) p.set('live', '0');
    if (state.tz !== 'UTC') p.set('tz', state.tz);
    history.replaceState(null, '', '#' + p.toString());
  }

  // ---- nodes and the field picker -------------------------------------------------------------
  function setConn(ok, text) {
    $('conn').className = 'conn ' + (ok ? 'ok' : 'bad');
    $('conn-text').textContent = text;
  }

  function loadNodes() {
    return api('api/nodes')
      .then(function (j) {
        state.nodes = j.nodes || [];
        // kept for nodes that went away: their plots keep their units while marked offline
        state.nodes.forEach(function (n) {
          Object.keys(n.fields || {}).forEach(function (f) {
            state.fieldInfo[n.name + '::' + f] = n.fields[f];
          });
        });
        setConn(true, j.realm + ' @ ' + j.router.replace(/^wss?:\/\//, ''));
        var online = state.nodes
          .map(function (n) {
            return n.name;
          })
          .join(',');
        var changed = state.onlineKey !== undefined && state.onlineKey !== online;
        state.onlineKey = online;
        renderNodes();
        if (changed && state.selected.length) {
          buildPlots();
          redraw();
        }
      })
      .catch(function (e) {
        setConn(false, e.message);
        if (!state.nodes.length) $('nodes').replaceChildren(el('p', { class: 'muted', text: String(e.message) }));
      });
  }

  function renderNodes() {
    var box = $('nodes');
    var open = {};
    box.querySelectorAll('details.node').forEach(function (d) {
      open[d.dataset.node] = d.open;
    });
    box.innerHTML = '';
    $('node-count').textContent = String(state.nodes.length);
    if (!state.nodes.length) {
      box.appendChild(el('p', { class: 'muted', text: 'No data node is online.' }));
      return;
    }
    var filter = state.filter.toLowerCase();
    state.nodes.forEach(function (n, idx) {
      var m = n.metadata || {};
      var names = Object.keys(n.fields || {}).sort();
      var shown = names.filter(function (f) {
        return !filter || (n.name + '::' + f).toLowerCase().indexOf(filter) >= 0;
      });
      if (filter && !shown.length) return;
      var meta = el('div', { class: 'meta' });
      [
        ['host', m.host ? m.host + (m.pid ? ' · pid ' + m.pid : '') : null],
        ['process', m.process],
        ['started', m.started ? ago(m.started) : null],
        ['newest', m.newest_sample ? ago(m.newest_sample) : null],
        ['version', m.sisock_version],
      ]
        .concat(
          // the node's own health figures (get_metadata().status, e.g. an MQTT node's broker_dropped)
          Object.keys(m.status || {}).map(function (k) {
            var v = m.status[k];
            return [k, v === null || v === undefined ? null : String(v)];
          }),
        )
        .forEach(function (kv) {
          if (kv[1]) {
            meta.appendChild(el('b', { text: kv[0] }));
            meta.appendChild(el('span', { text: String(kv[1]) }));
          }
        });
      var metaBox = meta.childNodes.length ? el('details', { class: 'meta-box' }, [el('summary', { text: 'metadata' }), meta]) : null;
      var fields = el('div', { class: 'fields' });
      shown.forEach(function (f) {
        var info = n.fields[f];
        var target = n.name + '::' + f;
        var cb = el('input', { type: 'checkbox', 'data-target': target });
        cb.checked = state.selected.indexOf(target) >= 0;
        cb.addEventListener('change', function () {
          toggle(target, cb.checked);
        });
        fields.appendChild(
          el(
            'label',
            { class: 'field', title: (info.description || f) + (info.units ? ' [' + info.units + ']' : '') + ' · ' + info.type },
            [
              cb,
              el('span', { class: 'fname', text: f }),
              info.units ? el('span', { class: 'units', text: info.units }) : null,
              info.type !== 'number' ? el('span', { class: 'type', text: info.type }) : null,
            ],
          ),
        );
      });
      if (n.fieldsError && !names.length) fields.appendChild(el('p', { class: 'muted', text: '  fields unavailable: ' + n.fieldsError }));
      var d = el('details', { class: 'node', 'data-node': n.name }, [
        el('summary', null, [
          el('div', { class: 'node-name' }, [n.name, el('span', { class: 'badge', text: names.length + ' fields' })]),
          n.description ? el('div', { class: 'node-desc', text: n.description }) : null,
        ]),
        metaBox,
        fields,
      ]);
      // a filter opens every node it matches; else what the user left open (the first node at first)
      d.open = filter ? true : open[n.name] !== undefined ? open[n.name] : idx === 0;
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
      box.appendChild(
        el('span', { class: 'chip' }, [
          el('span', { class: 'swatch', style: 'background:' + colorOf(t) }),
          t + (s ? ' · ' + s.t.length : ''),
          el('button', {
            title: 'remove',
            text: '×',
            onclick: function () {
              toggle(t, false);
              var cb = document.querySelector('input[data-target="' + CSS.escape(t) + '"]');
              if (cb) cb.checked = false;
            },
          }),
        ]),
      );
    });
    $('csv').disabled = !state.selected.length;
  }

  // ---- data: history then live ----------------------------------------------------------------
  function windowMs() {
    return RANGES[state.range];
  }

  function reload() {
    var seq = ++state.loadSeq;
    closeLive();
    renderChips();
    if (!state.selected.length) {
      state.series = {};
      buildPlots();
      setStatus('');
      return;
    }
    var to = Date.now();
    var from = to - windowMs();
    var width = Math.max(300, $('plots').clientWidth - 40);
    setStatus('loading…');
    api('query', {
      range: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), raw: { from: 'now-' + state.range, to: 'now' } },
      maxDataPoints: Math.round(width),
      targets: state.selected.map(function (t, i) {
        return { target: t, refId: String.fromCharCode(65 + (i % 26)), type: 'timeseries' };
      }),
    })
      .then(function (res) {
        if (seq !== state.loadSeq) return;
        var series = {};
        var errors = {};
        var histNotes = {};
        state.selected.forEach(function (t) {
          series[t] = { t: [], v: [] };
        });
        res.forEach(function (r) {
          if (r.error) {
            errors[r.target] = r.error;
            return;
          }
          ((r.meta && r.meta.notices) || []).forEach(function (n) {
            if (n && n.severity === 'info' && /historian/.test(n.text)) histNotes[r.target] = n.text;
          });
          var s = series[r.target] || (series[r.target] = { t: [], v: [] });
          (r.datapoints || []).forEach(function (p) {
            s.t.push(p[1]);
            s.v.push(p[0]);
          });
        });
        state.errors = errors;
        state.history = histNotes;
        var empty = Object.keys(series).every(function (t) {
          return !series[t].t.length;
        });
        var keys = Object.keys(RANGES);
        var next = keys[keys.indexOf(state.range) + 1];
        if (empty && !state.rangeChosen && next && !Object.keys(errors).length) {
          // the default range shows nothing: widen it until it does (at most 7 d)
          state.rangeNote = 'nothing in the last ' + state.range + ': showing ' + next;
          state.range = next;
          markRange();
          writeHash();
          reload();
          return;
        }
        state.series = series;
        state.lastUpdate = Date.now();
        buildPlots();
        renderChips();
        setStatus();
        if (state.live) openLive(seq);
      })
      .catch(function (e) {
        if (seq !== state.loadSeq) return;
        state.series = {};
        buildPlots(e.message);
        setStatus('');
      });
  }

  function openLive(seq) {
    var qs = state.selected
      .map(function (t) {
        return 'target=' + encodeURIComponent(t);
      })
      .join('&');
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
          if (add.t[i] > last) {
            s.t.push(add.t[i]);
            s.v.push(add.v[i]);
            last = add.t[i];
          }
        }
        var drop = 0;
        while (drop < s.t.length && s.t[drop] < cutoff) drop++;
        if (drop) {
          s.t.splice(0, drop);
          s.v.splice(0, drop);
        }
      });
      state.liveEvents++;
      state.lastUpdate = Date.now();
      scheduleRedraw();
    });
    es.addEventListener('ready', function () {
      setStatus();
    });
    es.onerror = function () {
      setStatus("live: lost the bridge's stream (bridge, router or node away?); reconnecting…");
    };
  }

  function closeLive() {
    if (state.es) {
      state.es.close();
      state.es = null;
    }
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
    if (text !== undefined) {
      $('status').textContent = text;
      return;
    }
    var n = 0;
    Object.keys(state.series).forEach(function (t) {
      n += state.series[t].t.length;
    });
    $('status').textContent =
      (state.rangeNote ? state.rangeNote + ' · ' : '') +
      n +
      ' points' +
      (state.live ? ' · live' : '') +
      (state.lastUpdate ? ' · ' + fmtTime(state.lastUpdate).split(' ').slice(1).join(' ') : '');
  }

  // ---- plots ----------------------------------------------------------------------------------
  /** Targets grouped by unit (one plot each), in pick order. */
  function groups() {
    var byUnit = {};
    var order = [];
    state.selected.forEach(function (t) {
      if (isStateField(t)) return;
      var info = state.fieldInfo[t] || {};
      var unit = info.units || '';
      if (!byUnit[unit]) {
        byUnit[unit] = [];
        order.push(unit);
      }
      byUnit[unit].push(t);
    });
    return order.map(function (u) {
      return { unit: u, targets: byUnit[u] };
    });
  }

  /**
   * uPlot data for some targets: x = union of times (seconds), one y array each. Where a series has no
   * sample of its own (another series has one there) its value is undefined, which uPlot joins over; a
   * sample without a value (null from the node) is null, which uPlot draws as a gap.
   */
  function aligned(targets) {
    var all = [];
    targets.forEach(function (t) {
      var s = state.series[t];
      if (s) all = all.concat(s.t);
    });
    all.sort(function (a, b) {
      return a - b;
    });
    var xs = [];
    for (var i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) xs.push(all[i]);
    var data = [
      xs.map(function (ms) {
        return ms / 1000;
      }),
    ];
    targets.forEach(function (t) {
      var s = state.series[t] || { t: [], v: [] };
      var ys = new Array(xs.length).fill(undefined);
      var j = 0;
      for (var k = 0; k < s.t.length; k++) {
        while (j < xs.length && xs[j] < s.t[k]) j++;
        var v = s.v[k];
        ys[j] = typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'number' ? v : null;
      }
      data.push(ys);
    });
    return data;
  }

  /** What is wrong with some targets, in words: their node is offline, or /query said why not. */
  function problems(targets) {
    var out = [];
    var offline = {};
    targets.forEach(function (t) {
      if (!isOnline(nodeOf(t))) offline[nodeOf(t)] = true;
    });
    Object.keys(offline).forEach(function (n) {
      out.push('node ' + n + ' is offline: no new data (the history shown is what it had)');
    });
    targets.forEach(function (t) {
      if (state.errors[t] && !offline[nodeOf(t)]) out.push(t + ': ' + state.errors[t]);
    });
    return out;
  }

  /** Which targets' series came (partly) from the historian, and the bridge's words for it. */
  function fromHistory(targets) {
    return targets
      .filter(function (t) {
        return state.history[t];
      })
      .map(function (t) {
        return t + ': ' + state.history[t];
      });
  }

  function card(unit, targets, title) {
    var c = el('div', { class: 'plot-card', 'data-unit': unit });
    var issues = problems(targets);
    var hist = fromHistory(targets);
    if (issues.length) c.classList.add('troubled');
    if (hist.length) c.classList.add('from-history');
    c.appendChild(
      el('h3', null, [
        title,
        el('span', { class: 'n', text: targets.length + ' series' }),
        issues.length
          ? el('span', { class: 'warn', text: '⚠ ' + (issues[0].indexOf('offline') >= 0 ? issues[0].split(':')[0] : 'not answered') })
          : null,
        hist.length ? el('span', { class: 'hist', text: '⟲ from the historian' }) : null,
      ]),
    );
    issues.forEach(function (m) {
      c.appendChild(el('div', { class: 'notice', text: m }));
    });
    hist.forEach(function (m) {
      c.appendChild(el('div', { class: 'notice history', text: m }));
    });
    return c;
  }

  /** Every plot's cursor (and the state timelines') at one time, in seconds; null hides them. */
  function cursorTo(sec, from) {
    state.plots.forEach(function (p) {
      if (p.u === from) return;
      if (sec === null) p.u.setCursor({ left: -10, top: -10 });
      else p.u.setCursor({ left: p.u.valToPos(sec, 'x'), top: p.u.bbox.height / (2 * window.devicePixelRatio) });
    });
    if (state.states) state.states.cursorAt(sec === null ? null : sec * 1000);
  }

  function buildPlots(error) {
    state.plots.forEach(function (p) {
      p.u.destroy();
    });
    state.plots = [];
    state.states = null;
    var box = $('plots');
    box.innerHTML = '';
    if (error) box.appendChild(el('div', { class: 'error', text: error }));
    if (!state.selected.length) {
      box.appendChild(
        el('div', { class: 'empty' }, [
          el('h3', { text: 'Pick fields on the left' }),
          el('p', {
            text: "Each unit gets its own plot; text and on/off fields a state timeline. History comes from the bridge's /query; new samples stream in live.",
          }),
        ]),
      );
      return;
    }
    var width = Math.max(300, box.clientWidth - 26);
    var gs = groups();
    var stateTargets = state.selected.filter(isStateField);
    var height = Math.max(180, Math.min(320, Math.floor((box.clientHeight - 30) / Math.max(1, gs.length)) - 80));
    var tzDate =
      state.tz === 'UTC'
        ? function (ts) {
            return uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');
          }
        : undefined;
    gs.forEach(function (g) {
      var c = card(g.unit, g.targets, g.unit ? g.unit : 'value (no unit)');
      box.appendChild(c);
      var opts = {
        width: width,
        height: height,
        tzDate: tzDate,
        cursor: { drag: { x: true, y: false }, sync: { key: 'sisock', setSeries: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: '#6b7587', grid: { stroke: '#eef1f5' }, ticks: { stroke: '#e2e6ee' }, values: timeTicks, size: 48 },
          {
            stroke: '#6b7587',
            grid: { stroke: '#eef1f5' },
            ticks: { stroke: '#e2e6ee' },
            size: 60,
            label: g.unit || undefined,
            labelSize: 18,
          },
        ],
        hooks: {
          setCursor: [
            function (u) {
              if (!state.states) return;
              var left = u.cursor.left;
              state.states.cursorAt(left === undefined || left < 0 ? null : u.posToVal(left, 'x') * 1000);
            },
          ],
        },
        series: [{ label: 'time (' + tzName() + ')', value: '{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}' }].concat(
          g.targets.map(function (t) {
            var un = unitsOf(t);
            return {
              label: t + (un ? ' [' + un + ']' : ''),
              stroke: colorOf(t),
              width: 1.5,
              spanGaps: false,
              points: { show: false },
              value: function (_u, v) {
                return v === null || v === undefined ? '—' : +v.toPrecision(6) + (un ? ' ' + un : '');
              },
            };
          }),
        ),
      };
      var u = new uPlot(opts, aligned(g.targets), c);
      state.plots.push({ unit: g.unit, targets: g.targets, u: u, el: c });
    });
    if (stateTargets.length) {
      var sc = card('states', stateTargets, 'states (text and on/off fields)');
      sc.classList.add('states');
      box.appendChild(sc);
      state.states = window.sisockStates.create(sc, stateTargets, {
        label: function (t) {
          return t;
        },
        color: colorOf,
        fmtTime: fmtTime,
        isBool: function (t) {
          return (state.fieldInfo[t] || {}).type === 'bool';
        },
        onCursor: function (ms) {
          cursorTo(ms === null ? null : ms / 1000, null);
        },
      });
      var to = Date.now();
      state.states.draw(state.series, to - windowMs(), to);
    }
  }

  function redraw() {
    var to = Date.now();
    state.plots.forEach(function (p) {
      p.u.setData(aligned(p.targets), false);
      p.u.setScale('x', { min: (to - windowMs()) / 1000, max: to / 1000 });
    });
    if (state.states) state.states.draw(state.series, to - windowMs(), to);
    renderChips();
    setStatus();
    state.redraws++;
  }

  // ---- CSV ------------------------------------------------------------------------------------
  function csv() {
    var targets = state.selected.filter(function (t) {
      return state.series[t];
    });
    var data = aligned(targets);
    var esc = function (s) {
      return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    };
    var lines = [
      ['time_utc', 'time_unix_ms']
        .concat(
          targets.map(function (t) {
            var u = (state.fieldInfo[t] || {}).units;
            return esc(u ? t + ' [' + u + ']' : t);
          }),
        )
        .join(','),
    ];
    for (var i = 0; i < data[0].length; i++) {
      var ms = Math.round(data[0][i] * 1000);
      var row = [new Date(ms).toISOString(), String(ms)];
      for (var k = 1; k < data.length; k++) row.push(data[k][i] === null || data[k][i] === undefined ? '' : String(data[k][i]));
      lines.push(row.join(','));
    }
    return lines.join('\n') + '\n';
  }

  function downloadCsv() {
    var blob = new Blob([csv()], { type: 'text/csv' });
    var a = el('a', { href: URL.createObjectURL(blob), download: 'sisock-' + new Date().toISOString().replace(/[:.]/g, '-') + '.csv' });
    document.body.appendChild(a);
    a.click();
    setTimeout(function () {
      URL.revokeObjectURL(a.href);
      a.remove();
    }, 1000);
  }
  window.__sisock.csv = csv;

  // ---- wiring ---------------------------------------------------------------------------------
  function markRange() {
    document.querySelectorAll('#presets button').forEach(function (b) {
      b.classList.toggle('active', b.dataset.range === state.range);
    });
  }

  readHash();
  markRange();
  $('live').checked = state.live;
  $('tz').value = state.tz;
  $('tz-local').textContent = 'Local (' + LOCAL_TZ + ')';
  $('tz').addEventListener('change', function () {
    state.tz = $('tz').value;
    writeHash();
    buildPlots();
    redraw();
    renderNodes();
  });
  document.querySelectorAll('#presets button').forEach(function (b) {
    b.addEventListener('click', function () {
      state.range = b.dataset.range;
      state.rangeChosen = true;
      state.rangeNote = '';
      markRange();
      writeHash();
      reload();
    });
  });
  $('live').addEventListener('change', function () {
    state.live = $('live').checked;
    writeHash();
    reload();
  });
  $('csv').addEventListener('click', downloadCsv);
  $('clear').addEventListener('click', function () {
    state.selected = [];
    document.querySelectorAll('input[data-target]').forEach(function (cb) {
      cb.checked = false;
    });
    writeHash();
    reload();
  });
  $('filter').addEventListener('input', function () {
    state.filter = $('filter').value;
    renderNodes();
  });
  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      buildPlots();
      redraw();
    }, 150);
  });

  loadNodes().then(function () {
    reload();
  });
  setInterval(loadNodes, 5000);
})();
