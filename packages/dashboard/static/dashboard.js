// The riff dashboard's own script: the reconnecting banner, the plots, the log pane and the
// invoke box. It is a served file, not inline, so the page's CSP can forbid inline script; it
// never builds HTML from data (text goes in with textContent), so payloads stay text.
(function () {
  "use strict";

  var banner = function (show) {
    var b = document.getElementById("banner");
    if (b) b.hidden = !show;
  };

  // The SSE extension reports every transient error as an htmx error (console.error) while the
  // browser reconnects by itself. Show the banner instead, and hand the extension only a stream
  // the browser gave up on (readyState CLOSED), which it reopens with its own backoff.
  htmx.createEventSource = function (url) {
    var source = new EventSource(url, { withCredentials: true });
    var handler = null;
    Object.defineProperty(source, "onerror", {
      get: function () { return handler; },
      set: function (fn) { handler = fn; },
    });
    source.addEventListener("error", function (e) {
      banner(true);
      if (source.readyState === EventSource.CLOSED && handler) handler(e);
    });
    source.addEventListener("open", function () { banner(false); });
    return source;
  };

  // Events that are data for this script rather than markup to swap.
  var handlers = {};
  document.addEventListener("htmx:sseBeforeMessage", function (evt) {
    var h = handlers[evt.target.id];
    if (!h) return;
    evt.preventDefault();
    h(evt.detail.data);
  });

  // ---- logs: [r1] prefixes, a replica filter, pause ----
  var MAX_LINES = 2000;
  function setupLogs() {
    var pane = document.getElementById("logs");
    if (!pane) return;
    var select = document.getElementById("log-replica");
    var pause = document.getElementById("log-pause");
    var held = [];
    var known = {};
    var apply = function (line) {
      var div = document.createElement("div");
      div.className = "line " + (line.stream === "stderr" ? "stderr" : "");
      div.dataset.replica = line.label;
      div.textContent = (line.label ? "[" + line.label + "] " : "") + (line.at ? line.at.slice(11, 19) + " " : "") + line.text;
      div.hidden = !!select.value && select.value !== line.label;
      pane.appendChild(div);
      if (line.label && !known[line.label]) {
        known[line.label] = true;
        var opt = document.createElement("option");
        opt.value = line.label;
        opt.textContent = line.label;
        select.appendChild(opt);
      }
    };
    var render = function (lines) {
      var stick = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 4;
      lines.forEach(apply);
      while (pane.childElementCount > MAX_LINES) pane.removeChild(pane.firstElementChild);
      if (stick) pane.scrollTop = pane.scrollHeight;
    };
    handlers["log-sink"] = function (data) {
      var msg = JSON.parse(data);
      if (msg.reset) { pane.textContent = ""; held = []; }
      var lines = msg.lines.slice();
      if (msg.skipped > 0) lines.unshift({ label: "", text: "… " + msg.skipped + " lines skipped (too many at once)", stream: "", at: "" });
      if (pause.checked) held = held.concat(lines).slice(-MAX_LINES);
      else render(lines);
    };
    pause.addEventListener("change", function () {
      if (!pause.checked) { render(held); held = []; }
    });
    select.addEventListener("change", function () {
      Array.prototype.forEach.call(pane.children, function (div) {
        div.hidden = !!select.value && div.dataset.replica !== select.value;
      });
    });
  }

  // ---- plots: rate by outcome, p50/p95/p99, replicas with the scaling decisions marked ----
  function setupPlots() {
    var box = document.getElementById("plots");
    if (!box || typeof uPlot === "undefined") return;
    var fn = box.dataset.function;
    var data = null;
    var decisions = [];
    var plots = [];
    var width = function () { return Math.max(300, Math.floor((box.clientWidth || 900) / 3) - 16); };
    var markers = function (u) {
      var ctx = u.ctx;
      ctx.save();
      ctx.strokeStyle = "#c2410c";
      ctx.setLineDash([4, 3]);
      decisions.forEach(function (d) {
        var x = u.valToPos(d.at / 1000, "x", true);
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
      });
      ctx.restore();
    };
    var make = function (title, series, columns, hooks) {
      var el = document.createElement("div");
      el.className = "plot";
      el.dataset.testid = "plot-" + title.split(" ")[0].toLowerCase();
      box.appendChild(el);
      var opts = { title: title, width: width(), height: 180, series: [{}].concat(series), scales: { x: { time: true } }, hooks: hooks || {} };
      return { plot: new uPlot(opts, columns(), el), columns: columns };
    };
    var load = function (s) {
      data = s;
      decisions = s.decisions;
      if (plots.length === 0) {
        plots.push(make("Invocations/s", [{ label: "success", stroke: "#15803d" }, { label: "error", stroke: "#b91c1c" }, { label: "timeout", stroke: "#a16207" }],
          function () { return [data.t, data.success, data.error, data.timeout]; }));
        plots.push(make("Duration ms", [{ label: "p50", stroke: "#2563eb" }, { label: "p95", stroke: "#7c3aed" }, { label: "p99", stroke: "#db2777" }],
          function () { return [data.t, data.p50, data.p95, data.p99]; }));
        plots.push(make("Replicas", [{ label: "replicas", stroke: "#0f766e" }], function () { return [data.t, data.replicas]; }, { draw: [markers] }));
      } else plots.forEach(function (p) { p.plot.setData(p.columns()); });
    };
    var refresh = function () {
      fetch("/ui/series?function=" + encodeURIComponent(fn), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) { if (s) load(s); })
        .catch(function () { /* the banner says the daemon is away */ });
    };
    refresh();
    handlers["metrics-sink"] = function (text) {
      if (!data) return;
      var x = JSON.parse(text);
      ["t", "success", "error", "timeout", "p50", "p95", "p99", "replicas", "cold"].forEach(function (k) {
        data[k].push(x[k]);
        if (data[k].length > 3600) data[k].shift();
      });
      plots.forEach(function (p) { p.plot.setData(p.columns()); });
    };
    document.addEventListener("htmx:sseMessage", function (evt) {
      if (evt.target.id === "fn-scaling") refresh();
    });
  }

  // ---- invoke: POST /requests/<input> on the gateway; status, latency, reply, error code ----
  function setupInvoke() {
    var form = document.getElementById("invoke");
    if (!form) return;
    var out = function (id, text) { document.getElementById(id).textContent = text; };
    form.addEventListener("submit", function (evt) {
      evt.preventDefault();
      var started = performance.now();
      ["invoke-status", "invoke-latency", "invoke-code", "invoke-reply"].forEach(function (id) { out(id, ""); });
      fetch("/requests/" + encodeURIComponent(form.dataset.topic), {
        method: "POST",
        headers: { "content-type": form.elements.type.value },
        body: form.elements.body.value,
        credentials: "omit",
      }).then(function (res) {
        return res.text().then(function (text) {
          out("invoke-status", String(res.status));
          out("invoke-latency", Math.round(performance.now() - started) + " ms");
          out("invoke-reply", text);
          if (res.status >= 400) {
            try { out("invoke-code", JSON.parse(text).error.code || ""); } catch (e) { out("invoke-code", ""); }
          }
        });
      }).catch(function (err) {
        out("invoke-status", "no answer");
        out("invoke-reply", String(err));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupLogs();
    setupPlots();
    setupInvoke();
  });
})();
