// Injected into every page by `bench ui` before Flutter loads: stamps what
// the page sees, on one clock shared by all windows of the browser
// (performance.timeOrigin + performance.now(), epoch milliseconds).
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const bench = {
    taps: [],        // pointerdown times
    ws: [],          // [time, "in" | "out", bytes] for Flet's websocket
    watches: {},     // name -> {sel, kind, want, base, t}
    text(el) {
      return [el, ...el.querySelectorAll('*')]
        .map(n => (n.getAttribute('aria-label') || '') + ' ' +
                  (n.childElementCount ? '' : n.textContent))
        .join(' ');
    },
    met(w) {
      const el = document.querySelector(w.sel);
      if (w.kind === 'gone') return el === null;
      if (w.kind === 'appears') return el !== null;
      if (el === null) return false;
      if (w.kind === 'has') return bench.text(el).includes(w.want);
      return bench.text(el) !== w.base;  // 'changed'
    },
    // Watch for a change; `t` is stamped in the mutation callback that shows it.
    arm(name, sel, kind, want) {
      const el = document.querySelector(sel);
      const w = {sel, kind, want, base: el ? bench.text(el) : null, t: null};
      bench.watches[name] = w;
      if (bench.met(w)) w.t = -1;  // already true: the bench arms before it taps
      return w.t;
    },
    check() {
      let t = 0;
      for (const w of Object.values(bench.watches)) {
        if (w.t === null && bench.met(w)) w.t = t || (t = now());
      }
    },
    seen(name) { const w = bench.watches[name]; return w ? w.t : null; },
    // Flutter's semantics nodes in the page (what a frame's semantics update walks).
    nodes() { return document.querySelectorAll('flt-semantics').length; },
  };
  window.__bench = bench;
  addEventListener('pointerdown', () => bench.taps.push(now()), true);
  new MutationObserver(() => bench.check()).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
  const size = d => (d && (d.byteLength ?? d.size ?? d.length)) || 0;
  const Native = window.WebSocket;
  const send = Native.prototype.send;
  Native.prototype.send = function (data) {
    bench.ws.push([now(), 'out', size(data)]);
    return send.call(this, data);
  };
  window.WebSocket = new Proxy(Native, {
    construct(target, args) {
      const ws = new target(...args);
      ws.addEventListener('message', e => bench.ws.push([now(), 'in', size(e.data)]));
      return ws;
    },
  });
})();
