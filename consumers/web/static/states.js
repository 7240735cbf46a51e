/*
 * State timelines for string and bool fields (the page's app.js draws numbers with uPlot): one row
 * per field, a coloured segment per run of equal values, the value written in it when it fits.
 * A vertical cursor follows the plots' synced cursor (and moves theirs when the mouse is here).
 *
 *   var st = sisockStates.create(container, targets, { label, color, fmtTime, onCursor });
 *   st.draw(series, fromMs, toMs);   st.cursorAt(ms | null);   st.destroy();
 */
(function () {
  'use strict';

  var PALETTE = ['#5b8def', '#f2994a', '#27ae60', '#9b51e0', '#eb5757', '#2d9cdb', '#f2c94c', '#6fcf97', '#bb6bd9', '#56ccf2'];

  function hash(s) {
    var h = 0;
    for (var i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
    return Math.abs(h);
  }

  /** A value as shown: booleans (true/false, or 1/0 from /query) as on/off. */
  function shown(v, bool) {
    if (v === null || v === undefined) return null;
    if (bool) return v === true || v === 1 ? 'on' : v === false || v === 0 ? 'off' : String(v);
    return String(v);
  }

  function colorOf(text) {
    if (text === 'on') return '#27ae60';
    if (text === 'off') return '#b8c0cc';
    return PALETTE[hash(text) % PALETTE.length];
  }

  function create(container, targets, opts) {
    var rows = document.createElement('div');
    rows.className = 'state-rows';
    var cursor = document.createElement('div');
    cursor.className = 'state-cursor';
    cursor.style.display = 'none';
    var tracks = {};
    targets.forEach(function (t) {
      var row = document.createElement('div');
      row.className = 'state-row';
      row.dataset.target = t;
      var label = document.createElement('span');
      label.className = 'state-label';
      label.textContent = opts.label(t);
      label.style.borderLeftColor = opts.color(t);
      var track = document.createElement('div');
      track.className = 'state-track';
      row.appendChild(label);
      row.appendChild(track);
      rows.appendChild(row);
      tracks[t] = track;
    });
    rows.appendChild(cursor);
    container.appendChild(rows);
    var span = { from: 0, to: 1 };

    function xOf(ms) {
      var first = tracks[targets[0]];
      if (!first) return 0;
      return first.offsetLeft + ((ms - span.from) / (span.to - span.from)) * first.clientWidth;
    }

    rows.addEventListener('mousemove', function (ev) {
      var first = tracks[targets[0]];
      if (!first || !opts.onCursor) return;
      var r = first.getBoundingClientRect();
      var f = (ev.clientX - r.left) / r.width;
      opts.onCursor(f >= 0 && f <= 1 ? span.from + f * (span.to - span.from) : null);
    });
    rows.addEventListener('mouseleave', function () {
      if (opts.onCursor) opts.onCursor(null);
    });

    return {
      targets: targets,
      draw: function (series, fromMs, toMs) {
        span = { from: fromMs, to: toMs };
        targets.forEach(function (t) {
          var track = tracks[t];
          track.innerHTML = '';
          var s = series[t] || { t: [], v: [] };
          var bool = opts.isBool(t);
          var i = 0;
          while (i < s.t.length) {
            var text = shown(s.v[i], bool);
            var j = i + 1;
            while (j < s.t.length && shown(s.v[j], bool) === text) j++;
            var start = Math.max(s.t[i], fromMs);
            var end = Math.min(j < s.t.length ? s.t[j] : Math.max(s.t[s.t.length - 1], toMs), toMs);
            if (text !== null && end > fromMs && start < toMs) {
              var seg = document.createElement('div');
              seg.className = 'state-seg';
              seg.style.left = ((start - fromMs) / (toMs - fromMs)) * 100 + '%';
              seg.style.width = Math.max(0.2, ((end - start) / (toMs - fromMs)) * 100) + '%';
              seg.style.background = colorOf(text);
              seg.title = text + ' · from ' + opts.fmtTime(s.t[i]);
              seg.textContent = text;
              track.appendChild(seg);
            }
            i = j;
          }
          if (!track.childNodes.length) {
            var none = document.createElement('span');
            none.className = 'state-none';
            none.textContent = 'no samples in this range';
            track.appendChild(none);
          }
        });
      },
      cursorAt: function (ms) {
        if (ms === null || ms === undefined || ms < span.from || ms > span.to) {
          cursor.style.display = 'none';
          return;
        }
        cursor.style.display = '';
        cursor.style.left = xOf(ms) + 'px';
      },
      destroy: function () {
        rows.remove();
      },
    };
  }

  window.sisockStates = { create: create };
})();
