// The inspector page: a snapshot, then updates from the admin port's event stream
// (/inspector/events). Plain DOM, no library, no build step. Everything that came from traffic
// or from a filter goes in as text nodes, never as markup.
"use strict";

(() => {
  const MAX_REQUESTS = 200;
  const state = { requests: [], inFlight: new Map(), total: 0, phases: [], memory: [], leakRule: null };
  const open = new Set();

  /** el("td", { class: "num" }, "text", childNode, ...): attributes as attributes, strings as text. */
  function el(tag, attrs, ...children) {
    const node = tag === "svg" || tag === "polyline" ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) if (value !== undefined && value !== null) node.setAttribute(name, String(value));
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return node;
  }

  const ms = (v) => (v < 0 ? "—" : v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(0));
  const bytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);
  const statusClass = (s) => (s === null ? "status none" : `status s${String(s)[0]}`);
  const HOW = { local_response: "local reply", vm_failed: "VM failed", reset: "reset" };

  function diffList(diff) {
    const list = el("ul", { class: "diff" });
    for (const [name, value] of diff.added) list.append(el("li", { class: "added" }, `+ ${name}: ${value}`));
    for (const [name, before, after] of diff.replaced) list.append(el("li", { class: "replaced" }, `~ ${name}: ${before} → ${after}`));
    for (const [name, value] of diff.removed) list.append(el("li", { class: "removed" }, `− ${name}: ${value}`));
    if (diff.omitted) list.append(el("li", { class: "dim" }, `(${diff.omitted} more changes)`));
    return list;
  }

  function filterDetails(f) {
    const rows = [];
    for (const p of f.phases) {
      rows.push(
        el("tr", { class: "phase-row", "data-phase": p.phase },
          el("td", {}, p.phase, p.endOfStream ? el("span", { class: "dim" }, " eos") : null),
          el("td", { class: "phase-status" }, p.result || (p.wasmMs < 0 && p.diff ? "(headers of a local reply)" : "")),
          el("td", { class: "num", title: p.shared ? "one host operation ran several callbacks: its time is shared evenly" : null }, `${p.shared ? "≈" : ""}${ms(p.wasmMs)}`),
          el("td", { class: "num" }, p.bytes === undefined ? "" : bytes(p.bytes))),
      );
      if (p.diff) rows.push(el("tr", { class: "diff-row" }, el("td", { colspan: 4 }, diffList(p.diff))));
    }
    const b = f.body;
    return el("div", { class: "filter", "data-filter": f.name },
      el("h3", {}, f.name, el("span", { class: "dim" }, ` v${f.version}`),
        f.stopped ? el("span", { class: `badge${f.stopped === "local_response" ? "" : " bad"}` }, HOW[f.stopped] || f.stopped) : null),
      f.trap ? el("div", { class: "trap" }, `trap in ${f.trap.phase}`, el("pre", {}, f.trap.message)) : null,
      f.localReply
        ? el("div", { class: "local-reply" }, `local reply ${f.localReply.status}`, f.localReply.details ? el("span", { class: "dim" }, ` (${f.localReply.details})`) : null,
          f.localReply.body ? el("div", { class: "mono" }, f.localReply.body) : null)
        : null,
      el("table", { class: "phases" },
        el("thead", {}, el("tr", {}, el("th", {}, "phase"), el("th", {}, "status"), el("th", { class: "num" }, "wasm ms"), el("th", { class: "num" }, "body"))),
        el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 4, class: "dim" }, "no callback ran")))),
      el("div", { class: "dim body-sizes" },
        `body: request ${bytes(b.requestIn)} in, ${bytes(b.requestOut)} passed on · response ${bytes(b.responseIn)} in, ${bytes(b.responseOut)} passed on`),
      f.callouts.length
        ? el("table", { class: "callouts" },
          el("thead", {}, el("tr", {}, el("th", {}, "callout"), el("th", {}, "status"), el("th", { class: "num" }, "ms"))),
          el("tbody", {}, f.callouts.map((c) =>
            el("tr", {}, el("td", {}, `${c.method} ${c.cluster}${c.path}`), el("td", { class: statusClass(c.status) }, c.status === null ? c.error || "failed" : c.status), el("td", { class: "num" }, c.ms)))))
        : null,
      f.logs.length ? el("div", { class: "logs" }, f.logs.map((l) => el("div", { class: "log" }, el("span", { class: "level" }, l.level), l.message))) : null,
    );
  }

  function requestRow(r) {
    const row = el("details", { class: "request", "data-id": r.id, "data-status": r.status === null ? "" : r.status },
      el("summary", {},
        el("span", { class: statusClass(r.status) }, r.status === null ? "—" : r.status),
        el("span", { class: "method" }, r.method),
        el("span", { class: "path", title: r.path }, r.path),
        el("span", { class: "num dim" }, `${ms(r.durationMs)} ms`),
        el("span", { class: "ended" }, r.endedBy ? `${HOW[r.endedBy.how] || r.endedBy.how} by ${r.endedBy.filter}` : r.error || r.filters.map((f) => f.name).join(" → "))),
    );
    if (open.has(r.id)) {
      row.open = true;
      row.append(...r.filters.map(filterDetails));
      if (r.error) row.append(el("div", { class: "trap" }, r.error));
    }
    row.addEventListener("toggle", () => {
      if (row.open === open.has(r.id)) return;
      if (row.open) open.add(r.id);
      else open.delete(r.id);
      renderRequests();
    });
    return row;
  }

  function renderRequests() {
    const list = document.getElementById("requests");
    const rows = [...state.inFlight.values()].reverse().map((r) =>
      el("div", { class: "request pending", "data-id": r.id }, el("span", {}, `… ${r.method} ${r.path} (in flight)`)));
    for (let i = state.requests.length - 1; i >= 0; i--) rows.push(requestRow(state.requests[i]));
    list.replaceChildren(...(rows.length ? rows : [el("p", { class: "empty" }, "No request yet: send one through the proxy.")]));
    document.getElementById("total").textContent = `${state.total} requests · showing the last ${state.requests.length}`;
  }

  function renderPhases() {
    const body = document.querySelector("#phases tbody");
    body.replaceChildren(...state.phases.map((p) =>
      el("tr", { "data-filter": p.filter, "data-phase": p.phase },
        el("td", {}, p.filter), el("td", {}, p.phase), el("td", { class: "num" }, p.count),
        el("td", { class: "num p50" }, ms(p.p50)), el("td", { class: "num p90" }, ms(p.p90)), el("td", { class: "num p99" }, ms(p.p99)), el("td", { class: "num" }, ms(p.max)))));
  }

  function sparkline(samples) {
    const svg = el("svg", { viewBox: "0 0 120 28", preserveAspectRatio: "none", role: "img" });
    if (samples.length < 2) return svg;
    const t0 = samples[0][0], t1 = samples[samples.length - 1][0] || t0 + 1;
    const pages = samples.map((s) => s[1]);
    const lo = Math.min(...pages), hi = Math.max(...pages);
    const x = (t) => ((t - t0) / Math.max(1, t1 - t0)) * 118 + 1;
    const y = (p) => (hi === lo ? 14 : 26 - ((p - lo) / (hi - lo)) * 24);
    svg.append(el("polyline", { points: samples.map(([t, p]) => `${x(t).toFixed(1)},${y(p).toFixed(1)}`).join(" ") }));
    return svg;
  }

  function renderMemory() {
    const box = document.getElementById("memory");
    box.replaceChildren(...state.memory.map((m) =>
      el("div", { class: `vm${m.leak ? " leaking" : ""}`, "data-vm": m.vm },
        el("span", {}, m.vm),
        el("span", { class: "num" }, `${m.pages} page${m.pages === 1 ? "" : "s"} · ${bytes(m.bytes)}`),
        sparkline(m.samples),
        m.leak ? el("div", { class: "leak", role: "alert" },
          `⚠ memory keeps growing: ${m.leak.growths} increases in the last ${m.leak.windowMs / 1000} s (${m.leak.fromPages} → ${m.leak.toPages} pages). A leak?`) : null)));
    if (!state.memory.length) box.append(el("p", { class: "empty" }, "No sample yet."));
    const rule = state.leakRule;
    if (rule) document.getElementById("leak-rule").textContent =
      `Leak alarm: memory grew ${rule.growths} or more times within ${rule.windowMs / 1000} s (not counting a VM's first ${rule.warmupMs / 1000} s). Wasm memory never shrinks, so a filter that settles stops growing.`;
  }

  function apply(update) {
    for (const s of update.starts || []) state.inFlight.set(s.id, s);
    for (const r of update.requests || []) {
      state.inFlight.delete(r.id);
      state.requests.push(r);
    }
    if (state.requests.length > MAX_REQUESTS) state.requests.splice(0, state.requests.length - MAX_REQUESTS);
    while (state.inFlight.size > MAX_REQUESTS) state.inFlight.delete(state.inFlight.keys().next().value);
    for (const c of update.callouts || []) {
      const f = state.requests.find((r) => r.id === c.requestId)?.filters.find((x) => x.name === c.filter);
      const known = f?.callouts.find((x) => x.cluster === c.callout.cluster && x.path === c.callout.path && x.status === null);
      if (known) Object.assign(known, c.callout, c.callout.error ? {} : { error: undefined });
    }
    if (update.total !== undefined) state.total = update.total;
    if (update.phases) state.phases = update.phases;
    if (update.memory) state.memory = update.memory;
    if (update.leakRule) state.leakRule = update.leakRule;
    renderRequests();
    renderPhases();
    renderMemory();
  }

  function connect() {
    const status = document.getElementById("connection");
    const events = new EventSource("/inspector/events");
    events.addEventListener("snapshot", (e) => {
      const s = JSON.parse(e.data);
      state.requests = [];
      state.inFlight = new Map();
      apply({ starts: s.inFlight, requests: s.requests, total: s.total, phases: s.phases, memory: s.memory, leakRule: s.leakRule });
      status.textContent = "live";
      status.className = "connection live";
    });
    events.addEventListener("update", (e) => apply(JSON.parse(e.data)));
    events.addEventListener("error", () => {
      status.textContent = "reconnecting…";
      status.className = "connection lost";
    });
  }

  connect();
})();
