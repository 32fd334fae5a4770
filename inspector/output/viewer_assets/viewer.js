// The graph viewer: Graphviz's SVG with pan and zoom (svg-pan-zoom does the transforms), a
// minimap with the visible window, fit and 100% buttons, hover details, search that steps
// through its matches, click to select a node or open a collapsed scope, and two panes kept in
// sync by node name. One file for the app (a Streamlit component) and the offline HTML report.
//
// window.inspectorViewer.mount(root, data, emit) draws into `root` and returns a cleanup
// function. `data`: {panes: [{label, svg}], nodes: {id: {name, op, status, pass, shapes,
// members, time}}, height, legible, matches, query, selected, focus, searchBox, sync, viewKey}.
// `emit(kind, value)` reports "select" (a node id), "expand" (a scope) and "collapse".
(function () {
  "use strict";
  const PT = 4 / 3; // CSS px per point: Graphviz draws in points
  const DRAG_PX = 4; // a press that moved further is a pan, not a click
  const MINI_W = 160; // the minimap's largest size, CSS px
  const MINI_H = 200;
  // A picture that fits at this share of the legible zoom opens whole (labels a little small).
  const FIT_ENOUGH = 0.75;
  // viewKey -> each pane's zoom and pan, kept across redraws (and across this file being
  // evaluated again, as the app's component may do).
  const saved = window.__inspectorViewerViews || (window.__inspectorViewerViews = new Map());

  // Touch, as svg-pan-zoom's documentation adds it (its customEventsHandler hook): one finger
  // pans, two pinch to zoom about their midpoint and pan with it. The library's own touch
  // listeners are halted, they pan with the first finger only.
  const touch = {
    haltEventListeners: ["touchstart", "touchend", "touchmove", "touchleave", "touchcancel"],
    init(options) {
      const zoom = options.instance;
      const svg = options.svgElement;
      let last = null; // {x, y, distance} of the fingers down
      const state = (touches) => {
        const box = svg.getBoundingClientRect();
        const [a, b] = [touches[0], touches[1] || touches[0]];
        return {x: (a.clientX + b.clientX) / 2 - box.left, y: (a.clientY + b.clientY) / 2 - box.top,
                distance: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY),
                count: touches.length};
      };
      const listeners = svg.__gvTouch = {
        touchstart: (e) => { last = state(e.touches); },
        touchmove: (e) => {
          if (!last || !e.touches.length) return;
          e.preventDefault();
          const now = state(e.touches);
          if (now.count !== last.count) { last = now; return; }
          zoom.panBy({x: now.x - last.x, y: now.y - last.y});
          if (now.count > 1 && last.distance > 0) {
            zoom.zoomAtPointBy(now.distance / last.distance, {x: now.x, y: now.y});
          }
          last = now;
        },
        touchend: (e) => { last = e.touches.length ? state(e.touches) : null; },
        touchcancel: () => { last = null; },
      };
      for (const [kind, listener] of Object.entries(listeners)) {
        svg.addEventListener(kind, listener, {passive: false});
      }
    },
    destroy(options) {
      for (const [kind, listener] of Object.entries(options.svgElement.__gvTouch || {})) {
        options.svgElement.removeEventListener(kind, listener);
      }
    },
  };

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A search counts boxes in the picture: a closed scope holding matches is one box (the
  // app's node list counts graph nodes).
  function boxes(n) {
    return n + (n === 1 ? " box" : " boxes");
  }

  // The SVG as an element of this document, with nothing that could run or load: Graphviz
  // output only, but node names are user text.
  function cleanSvg(text) {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = doc.documentElement;
    if (!svg || svg.nodeName.toLowerCase() !== "svg") throw new Error("the picture is not an SVG");
    svg.querySelectorAll("script, foreignObject, style").forEach((e) => e.remove());
    svg.querySelectorAll("*").forEach((e) => {
      for (const a of Array.from(e.attributes)) {
        const name = a.name.toLowerCase();
        if (name.startsWith("on") || name === "xlink:title" ||
            (name.endsWith("href") && !a.value.startsWith("#"))) e.removeAttribute(a.name);
      }
    });
    return document.importNode(svg, true);
  }

  function nodeId(g) {
    const title = g.querySelector(":scope > title");
    return title ? title.textContent : null;
  }

  function describe(id, info) {
    if (!info) return id;
    const lines = [info.name || id];
    if (info.op) lines.push("op: " + info.op);
    else lines.push("scope: " + info.members + " nodes (click to open)");
    if (info.status) lines.push("change: " + info.status.replace(/_/g, " "));
    if (info.pass) lines.push("by: " + info.pass);
    if (info.shapes && info.shapes.length) lines.push("shapes: " + info.shapes.join(" "));
    if (info.time !== null && info.time !== undefined) lines.push("time: " + info.time.toFixed(1) + " us per call");
    return lines.join("\n");
  }

  class Pane {
    constructor(viewer, spec, index) {
      this.viewer = viewer;
      this.spec = spec;
      this.index = index;
      this.box = el("div", "gv-pane");
      if (spec.label) this.box.appendChild(el("div", "gv-label", spec.label));
      this.stage = el("div", "gv-stage");
      this.stage.style.height = viewer.data.height + "px";
      this.box.appendChild(this.stage);
      this.svg = cleanSvg(spec.svg);
      const viewBox = (this.svg.getAttribute("viewBox") || "0 0 100 100").split(/[\s,]+/).map(Number);
      this.width = viewBox[2];
      this.height = viewBox[3];
      this.svg.setAttribute("width", "100%");
      this.svg.setAttribute("height", "100%");
      this.stage.appendChild(this.svg);
      this.ghost = el("div", "gv-ghost");
      this.stage.appendChild(this.ghost);
      this.mini = el("div", "gv-mini");
      const image = el("img");
      image.alt = "";
      image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(
        new XMLSerializer().serializeToString(this.svg).replace(/width="100%" height="100%"/,
          'width="' + this.width + '" height="' + this.height + '"'));
      this.mini.appendChild(image);
      this.window = el("div", "gv-window");
      this.mini.appendChild(this.window);
      this.stage.appendChild(this.mini);
      this.nodes = new Map();
      this.svg.querySelectorAll("g.node").forEach((g) => {
        const id = nodeId(g);
        if (id !== null) this.nodes.set(id, g);
      });
    }

    start() {
      this.zoom = svgPanZoom(this.svg, {
        zoomEnabled: true, panEnabled: true, controlIconsEnabled: false, fit: true,
        center: true, minZoom: 0.01, maxZoom: 50, zoomScaleSensitivity: 0.25,
        dblClickZoomEnabled: false, mouseWheelZoomEnabled: true, preventMouseEventsDefault: true,
        onUpdatedCTM: () => this.moved(),
        customEventsHandler: touch,
      });
      if (this.zoom.getSizes().realZoom > PT) { // a small picture: actual size, not blown up
        this.zoom.zoom(this.zoom.getZoom() * PT / this.zoom.getSizes().realZoom);
        this.zoom.center();
      }
      this.fitZoom = this.zoom.getSizes().realZoom;
      this.positions = new Map(); // node id -> centre in picture units
      const stage = this.stage.getBoundingClientRect();
      const pan = this.zoom.getPan();
      for (const [id, g] of this.nodes) {
        const r = g.getBoundingClientRect();
        this.positions.set(id, {
          x: (r.left + r.width / 2 - stage.left - pan.x) / this.fitZoom,
          y: (r.top + r.height / 2 - stage.top - pan.y) / this.fitZoom,
        });
      }
      this.mini.addEventListener("click", (event) => this.jump(event));
      // The map only where the whole picture is not legible at once; sized to the picture's
      // shape (at most MINI_W x MINI_H), one scale for the image and the window drawn on it.
      // A narrow pane gets a smaller map: at most a quarter of its width and height.
      const room = this.stageSize();
      this.miniScale = Math.min(Math.min(MINI_W, room.w / 4 || MINI_W) / this.width,
                                Math.min(MINI_H, room.h / 4 || MINI_H) / this.height);
      this.mini.style.width = Math.max(24, this.width * this.miniScale) + "px";
      this.mini.style.height = Math.max(24, this.height * this.miniScale) + "px";
      this.mini.style.display = this.fitZoom >= this.legible() * FIT_ENOUGH ? "none" : "block";
      this.wire();
    }

    wire() {
      let press = null;
      this.stage.addEventListener("mousedown", (e) => { press = {x: e.clientX, y: e.clientY}; });
      this.stage.addEventListener("click", (e) => {
        const moved = press && Math.hypot(e.clientX - press.x, e.clientY - press.y) > DRAG_PX;
        press = null;
        const g = e.target.closest && e.target.closest("g.node");
        if (moved || !g) return;
        const id = nodeId(g);
        if (id === null) return;
        this.viewer.pick(id);
      });
      const tip = this.viewer.tip;
      const follow = (e) => { // the tip beside the pointer, in the viewer's coordinates
        const root = this.viewer.box.getBoundingClientRect();
        tip.style.left = (e.clientX - root.left + 14) + "px";
        tip.style.top = (e.clientY - root.top + 14) + "px";
      };
      this.stage.addEventListener("mouseover", (e) => {
        const g = e.target.closest && e.target.closest("g.node");
        if (!g) return;
        const id = nodeId(g);
        tip.textContent = describe(id, this.info(id));
        follow(e);
        tip.style.display = "block";
      });
      this.stage.addEventListener("mousemove", follow);
      this.stage.addEventListener("mouseleave", () => { tip.style.display = "none"; });
      this.stage.addEventListener("mouseout", (e) => {
        if (!e.relatedTarget || !(e.relatedTarget.closest && e.relatedTarget.closest("g.node"))) {
          tip.style.display = "none";
        }
      });
    }

    real() { return this.zoom.getSizes().realZoom; }

    stageSize() { return {w: this.stage.clientWidth, h: this.stage.clientHeight}; }

    // Screen position (px in the stage) of a point in picture units, at the current view.
    screen(point) {
      const pan = this.zoom.getPan();
      const real = this.real();
      return {x: point.x * real + pan.x, y: point.y * real + pan.y};
    }

    // The node nearest the centre of the view, among `ids` (all when null).
    central(ids) {
      const size = this.stageSize();
      const pan = this.zoom.getPan();
      const real = this.real();
      const cx = (size.w / 2 - pan.x) / real;
      const cy = (size.h / 2 - pan.y) / real;
      let best = null;
      let bestD = Infinity;
      for (const [id, p] of this.positions) {
        if (ids && !ids.has(id)) continue;
        const d = (p.x - cx) ** 2 + (p.y - cy) ** 2;
        if (d < bestD) { best = id; bestD = d; }
      }
      return best;
    }

    setReal(real) {
      this.zoom.zoom(this.zoom.getZoom() * real / this.real());
    }

    // Put a picture point at a screen position.
    place(point, at) {
      const real = this.real();
      this.zoom.pan({x: at.x - point.x * real, y: at.y - point.y * real});
    }

    centre(id, real) {
      const p = this.positions.get(id);
      if (!p) return false;
      if (real) this.setReal(real);
      const size = this.stageSize();
      this.place(p, {x: size.w / 2, y: size.h / 2});
      return true;
    }

    moved() {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = null;
        this.drawWindow();
        this.viewer.follow(this);
      });
    }

    drawWindow() {
      const size = this.stageSize();
      const pan = this.zoom.getPan();
      const real = this.real();
      const scale = this.miniScale;
      // The visible part of the picture, clipped to it, in map pixels.
      const x0 = Math.max(0, -pan.x / real);
      const y0 = Math.max(0, -pan.y / real);
      const x1 = Math.min(this.width, (size.w - pan.x) / real);
      const y1 = Math.min(this.height, (size.h - pan.y) / real);
      const s = this.window.style;
      s.left = x0 * scale + "px";
      s.top = y0 * scale + "px";
      s.width = Math.max(4, (x1 - x0) * scale) + "px";
      s.height = Math.max(4, (y1 - y0) * scale) + "px";
    }

    jump(event) {
      const r = this.mini.getBoundingClientRect();
      const scale = this.miniScale;
      const size = this.stageSize();
      this.viewer.driver = this;
      this.place({x: (event.clientX - r.left) / scale, y: (event.clientY - r.top) / scale},
                 {x: size.w / 2, y: size.h / 2});
      event.stopPropagation();
    }

    mark(ids, cls) {
      this.svg.querySelectorAll("g.node." + cls).forEach((g) => g.classList.remove(cls));
      for (const id of ids) {
        const g = this.nodes.get(id);
        if (g) g.classList.add(cls);
      }
    }

    // The zoom at which labels are legible (data.legible: the share of actual size).
    legible() { return this.viewer.data.legible * PT; }

    // The first view: the whole picture when it is legible at that size; otherwise a legible
    // zoom on the focus, or on the part that changed most.
    initial(focus) {
      if (focus && this.positions.has(focus)) {
        this.centre(focus, Math.max(this.fitZoom, this.legible()));
        return;
      }
      if (this.fitZoom >= this.legible() * FIT_ENOUGH) return;
      const spot = this.hotSpot();
      if (spot) {
        this.centre(spot, this.legible());
        return;
      }
      this.setReal(this.legible()); // nothing changed: the top of the picture
      this.place({x: this.width / 2, y: 0}, {x: this.stageSize().w / 2, y: 10});
    }

    // This pane's details of a box: its own where they differ from the first pane's (a node
    // fused after Grappler is another op here).
    info(id) {
      return (this.spec.nodes || {})[id] || this.viewer.data.nodes[id];
    }

    // The changed node with the most changed nodes within one legible screen of it.
    hotSpot() {
      const changed = [];
      for (const [id, p] of this.positions) {
        const info = this.info(id);
        if (info && ((info.status && info.status !== "unchanged") || info.changed)) changed.push([id, p]);
      }
      if (!changed.length) return null;
      const size = this.stageSize();
      const half = {w: size.w / this.legible() / 2, h: size.h / this.legible() / 2};
      const sample = changed.length > 400 ? changed.filter((_, i) => i % Math.ceil(changed.length / 400) === 0) : changed;
      let best = sample[0][0];
      let bestCount = -1;
      for (const [id, p] of sample) {
        let count = 0;
        for (const [, q] of changed) {
          if (Math.abs(q.x - p.x) <= half.w && Math.abs(q.y - p.y) <= half.h) count++;
        }
        if (count > bestCount) { best = id; bestCount = count; }
      }
      return best;
    }

    // Where a node missing here would have been: a ring at the other pane's screen position.
    showGhost(id, at) {
      if (!id) { this.ghost.style.display = "none"; return; }
      this.ghost.style.display = "block";
      this.ghost.style.left = (at.x - 18) + "px";
      this.ghost.style.top = (at.y - 18) + "px";
      // A picture cut to its first boxes may hold the node past the cut.
      this.ghost.title = id + (this.spec.cut ? ": not drawn here (this picture shows only its first "
                               + this.spec.cut + " boxes, in graph order)" : ": not in this graph");
      this.ghost.textContent = "";
      const label = el("span", "gv-ghost-label", (this.viewer.data.nodes[id] || {}).name || id);
      this.ghost.appendChild(label);
      // The name goes on the side of the ring with more room, wrapped to fit inside the pane.
      const right = this.stageSize().w - at.x - 26;
      const left = at.x - 26;
      if (left > right) label.classList.add("gv-ghost-left");
      label.style.maxWidth = Math.max(60, Math.max(left, right) - 8) + "px";
    }

    state() { return {zoom: this.zoom.getZoom(), pan: this.zoom.getPan()}; }

    restore(state) {
      this.zoom.zoom(state.zoom);
      this.zoom.pan(state.pan);
    }

    destroy() {
      if (this.frame) cancelAnimationFrame(this.frame);
      if (this.zoom) this.zoom.destroy();
    }
  }

  class Viewer {
    constructor(root, data, emit) {
      this.root = root;
      this.data = data;
      this.emit = emit || (() => {});
      this.driver = null;
      this.following = false;
      this.box = el("div", "gv-viewer");
      this.tip = el("pre", "gv-tip");
      this.bar = el("div", "gv-bar");
      this.box.appendChild(this.bar);
      this.row = el("div", "gv-row");
      this.box.appendChild(this.row);
      this.box.appendChild(this.tip);
      root.insertBefore(this.box, root.querySelector(".gv-details")); // above its details line
      this.panes = data.panes.map((spec, i) => new Pane(this, spec, i));
      this.panes.forEach((p) => this.row.appendChild(p.box));
      this.toolbar();
      this.panes.forEach((p) => p.start());
      this.panes.forEach((p) => {
        p.stage.addEventListener("wheel", () => { this.driver = p; }, {passive: true, capture: true});
        p.stage.addEventListener("mousedown", () => { this.driver = p; }, true);
        p.stage.addEventListener("touchstart", () => { this.driver = p; }, {passive: true, capture: true});
      });
      this.search(data.query || "", data.matches, false);
      // Drawn again for the same question (a click elsewhere, a redraw): the view stays where
      // the user left it. A new search, or an opened scope, moves it.
      this.asked = JSON.stringify([data.query || "", data.matches || [],
                                   data.panes.map((p) => p.svg.length)]);
      const before = data.viewKey ? saved.get(data.viewKey) : null;
      if (before && before.panes.length === this.panes.length && !data.focus &&
          before.asked === this.asked) {
        this.panes.forEach((p, i) => p.restore(before.panes[i]));
        if (before.at >= 0 && before.at < this.matches.length) this.showStep(before.at);
      } else {
        const first = data.focus || this.matches[0] || null;
        this.panes[0].initial(first);
        if (first && first === this.matches[0]) this.showStep(0);
        this.driver = this.panes[0];
        this.follow(this.panes[0]);
      }
      this.panes.forEach((p) => p.mark(data.selected ? [data.selected] : [], "gv-selected"));
      this.panes.forEach((p) => p.drawWindow());
      this.box.setAttribute("data-ready", "1");
    }

    toolbar() {
      const button = (text, title, act) => {
        const b = el("button", "gv-button", text);
        b.type = "button";
        b.title = title;
        b.addEventListener("click", act);
        this.bar.appendChild(b);
        return b;
      };
      button("Fit", "the whole picture, in every pane", () => {
        this.driver = null; // each pane fits itself: sync would move the other after
        this.panes.forEach((p) => { p.zoom.fit(); p.zoom.center(); p.showGhost(null); });
      });
      button("100%", "actual size, on the same centre", () => {
        this.driver = null;
        this.panes.forEach((p) => {
          const size = p.stageSize();
          const pan = p.zoom.getPan();
          const real = p.real();
          const centre = {x: (size.w / 2 - pan.x) / real, y: (size.h / 2 - pan.y) / real};
          p.setReal(PT);
          p.place(centre, {x: size.w / 2, y: size.h / 2});
        });
        // In sync, the other panes then follow the first: each pane's own centre after Fit
        // was not the same node.
        this.driver = this.panes[0];
        this.follow(this.panes[0]);
      });
      if (this.data.searchBox) {
        this.input = el("input", "gv-search");
        this.input.type = "search";
        this.input.placeholder = "Find node (name or op)";
        this.input.setAttribute("aria-label", "Find node in the picture");
        this.input.addEventListener("input", () => this.search(this.input.value, null, true));
        this.input.addEventListener("keydown", (e) => { if (e.key === "Enter") this.step(e.shiftKey ? -1 : 1); });
        this.bar.appendChild(this.input);
      }
      this.stepper = [button("\u25c0", "previous match", () => this.step(-1))];
      this.stepper[0].classList.add("gv-prev");
      this.count = el("span", "gv-count", "");
      this.bar.appendChild(this.count);
      this.stepper.push(button("\u25b6", "next match", () => this.step(1)));
      this.stepper[1].classList.add("gv-next");
      if (this.panes.length > 1) {
        const label = el("label", "gv-sync");
        this.syncBox = el("input");
        this.syncBox.type = "checkbox";
        this.syncBox.checked = this.data.sync !== false;
        label.appendChild(this.syncBox);
        this.syncBox.addEventListener("change", () => {
          this.driver = this.panes[0];
          if (this.syncBox.checked) this.follow(this.panes[0]);
          else this.panes.forEach((p) => p.showGhost(null));
        });
        label.appendChild(document.createTextNode(" sync panes"));
        this.bar.appendChild(label);
      }
      if (this.data.collapsible && this.data.opened) {
        button("Collapse all", "close the scopes you opened: back to the overview",
               () => this.emit("collapse", true));
      }
    }

    search(query, given, pan) {
      const q = (query || "").trim().toLowerCase();
      let found = [];
      if (given && given.length) found = given.slice();
      else if (q) {
        const hits = (id, info) => {
          const name = (info.name || id).toLowerCase();
          const op = [info.op || "", ...(info.fused || [])].join(" ").toLowerCase();
          return name.includes(q) || op.includes(q);
        };
        for (const [id, info] of Object.entries(this.data.nodes)) {
          if (hits(id, info) || this.panes.some((p) => p.spec.nodes && p.spec.nodes[id]
                                                     && hits(id, p.spec.nodes[id]))) found.push(id);
        }
      }
      this.matches = found.filter((id) => this.panes.some((p) => p.nodes.has(id)));
      this.at = -1;
      this.panes.forEach((p) => p.mark(this.matches, "gv-match"));
      const asked = Boolean(q || (given && given.length));
      const cut = this.panes.some((p) => p.spec.cut);
      this.count.textContent = asked ? (this.matches.length ? "0 of " + boxes(this.matches.length)
                                        : (cut ? "none drawn" : "no match")) : "";
      this.count.title = cut ? "the picture shows only its first boxes, in graph order: a node "
                               + "past them is not drawn (Node details finds every node)" : "";
      const shown = asked || this.data.searchBox ? "" : "none";
      this.stepper.forEach((b) => { b.style.display = shown; });
      this.count.style.display = shown;
      if (pan && this.matches.length) this.step(1);
    }

    step(direction) {
      if (!this.matches || !this.matches.length) return;
      this.at = (this.at + direction + this.matches.length) % this.matches.length;
      const id = this.matches[this.at];
      const pane = this.panes.find((p) => p.positions.has(id));
      this.driver = pane;
      pane.centre(id, Math.max(pane.real(), pane.legible()));
      this.showStep(this.at);
    }

    showStep(at) {
      this.at = at;
      this.count.textContent = (at + 1) + " of " + boxes(this.matches.length);
      this.panes.forEach((p) => p.mark([this.matches[at]], "gv-current"));
    }

    pick(id) {
      const info = this.data.nodes[id];
      if (info && !info.op && this.data.collapsible) {
        this.emit("expand", info.name || id);
        return;
      }
      this.panes.forEach((p) => p.mark([id], "gv-selected"));
      this.emit("select", (info && info.name) || id);
    }

    // Keep the other pane on the same node (by name) at the same zoom as the one that moved.
    follow(moved) {
      this.save();
      if (this.following || this.panes.length < 2 || moved !== this.driver) return;
      if (this.syncBox && !this.syncBox.checked) return;
      const other = this.panes.find((p) => p !== moved);
      const shared = new Set([...moved.positions.keys()].filter((id) => other.positions.has(id)));
      if (!shared.size) return;
      const centre = moved.central(null);
      const anchor = shared.has(centre) ? centre : moved.central(shared);
      this.following = true;
      try {
        other.setReal(moved.real());
        other.place(other.positions.get(anchor), moved.screen(moved.positions.get(anchor)));
        other.showGhost(centre !== anchor ? centre : null, moved.screen(moved.positions.get(centre)));
        moved.showGhost(null);
      } finally {
        this.following = false;
      }
    }

    save() {
      if (this.data.viewKey && this.panes.every((p) => p.zoom)) {
        saved.set(this.data.viewKey, {asked: this.asked, at: this.at,
                                      panes: this.panes.map((p) => p.state())});
      }
    }

    destroy() {
      this.save();
      this.tip.style.display = "none";
      this.panes.forEach((p) => p.destroy());
      this.box.remove();
    }
  }

  function mount(root, data, emit) {
    if (root.__inspectorViewer) root.__inspectorViewer.destroy(); // drawn again in place
    const viewer = new Viewer(root, data, emit);
    root.__inspectorViewer = viewer;
    return () => {
      viewer.destroy();
      if (root.__inspectorViewer === viewer) root.__inspectorViewer = null;
    };
  }

  // The offline HTML report: every <div class="gv-host"> with its data in a JSON script.
  function mountAll(doc) {
    doc.querySelectorAll(".gv-host").forEach((host) => {
      const script = host.querySelector("script[type='application/json']");
      const data = JSON.parse(script.textContent);
      const details = host.querySelector(".gv-details");
      mount(host, data, (kind, value) => {
        if (kind === "select" && details) details.textContent = describe(value, data.nodes[value] || Object.values(data.nodes).find((n) => n.name === value));
      });
    });
  }

  window.inspectorViewer = {mount, mountAll};
})();
