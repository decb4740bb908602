// vaelab explore: plain JavaScript, no build step. Talks to the JSON API described at /docs.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token");
const SHOWN_DIMS = 8;              // sliders shown before "more dimensions"
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

const state = { info: null, code: [], map: null, mapPixels: [], strip: null, attrBase: null };
window.vaelab = state;  // read by the browser test
const $ = (id) => document.getElementById(id);

function status(text) { $("status").textContent = text || ""; }

async function api(path, body) {
  const headers = {};
  if (TOKEN) headers["X-Vaelab-Token"] = TOKEN;
  const options = { headers };
  if (body instanceof FormData) { options.method = "POST"; options.body = body; }
  else if (body !== undefined) {
    options.method = "POST"; headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    let detail = data.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
    throw new Error(`${response.status}: ${detail || response.statusText}`);
  }
  return data;
}

// "Latest wins": at most one request of a kind in flight; while it runs, only the newest pending call is kept.
function latest(fn) {
  let running = false, pending = null;
  async function pump() {
    if (running || pending === null) return;
    const args = pending; pending = null; running = true;
    try { await fn(...args); status(""); } catch (err) { status(err.message); }
    running = false; pump();
  }
  return (...args) => { pending = args; pump(); };
}

// ------------------------------------------------------------------ output

function showOutput(output) {
  const img = $("output");
  if (output.image) {
    img.src = output.image;
    img.dataset.version = String(Number(img.dataset.version) + 1);
  } else if (output.row) {
    const columns = state.info.columns || output.row.map((_, j) => `x${j}`);
    const table = $("output-table");
    table.hidden = false;
    table.innerHTML = "<tr><th>column</th><th>value</th></tr>" +
      output.row.map((v, j) => `<tr><th>${escapeHtml(columns[j])}</th><td>${v === null ? "n/a" : v.toFixed(4)}</td></tr>`).join("");
    img.dataset.version = String(Number(img.dataset.version) + 1);
  }
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function thumb(output, caption) {
  const figure = document.createElement("figure");
  if (output.image) {
    const img = document.createElement("img"); img.src = output.image; img.alt = caption; figure.appendChild(img);
  } else {
    const pre = document.createElement("pre"); pre.textContent = output.row.slice(0, 6).map((v) => (v === null ? "n/a" : v.toFixed(2))).join("\n");
    figure.appendChild(pre);
  }
  const text = document.createElement("figcaption"); text.textContent = caption; figure.appendChild(text);
  return figure;
}

// ------------------------------------------------------------------- code

const decodeNow = latest(async (code) => { showOutput((await api("api/decode", { code })).output); });
const neighboursSoon = debounce(latest(async (code) => {
  const answer = await api("api/neighbours", { code, k: 6 });
  const box = $("neighbours"); box.innerHTML = "";
  answer.outputs.forEach((out, i) => box.appendChild(thumb(out, `#${answer.indices[i]} d=${answer.distances[i].toFixed(2)}`)));
  box.dataset.count = String(answer.outputs.length);
}), 200);

function debounce(fn, ms) { let t = null; return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); }; }

// Set the current code. `output` is shown when the server already decoded it; else a decode is requested.
function setCode(code, { output = null, from = "" } = {}) {
  state.code = code.slice();
  if (from !== "attribute") { state.attrBase = null; $("attr-strength").value = "0"; $("attr-value").textContent = "0"; }
  for (let d = 0; d < code.length; d++) {
    const slider = $(`dim-${d}`); if (slider) { slider.value = code[d]; $(`val-${d}`).textContent = code[d].toFixed(2); }
  }
  if (output) showOutput(output); else decodeNow(state.code);
  drawMap();
  neighboursSoon(state.code);
}

function buildSliders(info) {
  const shown = $("sliders"), rest = $("sliders-rest");
  info.order.forEach((d, rank) => {
    const lo = info.centre[d] - info.span * info.scale[d], hi = info.centre[d] + info.span * info.scale[d];
    const row = document.createElement("div"); row.className = "slider";
    const score = info.scores[d];
    row.innerHTML = `<label for="dim-${d}" title="${info.measure} ${score.toFixed(3)}">z${d}</label>` +
      `<input id="dim-${d}" type="range" min="${lo}" max="${hi}" step="${(hi - lo) / 200}" value="${info.centre[d]}">` +
      `<output id="val-${d}">${info.centre[d].toFixed(2)}</output>`;
    (rank < SHOWN_DIMS ? shown : rest).appendChild(row);
    row.querySelector("input").addEventListener("input", (event) => {
      state.code[d] = Number(event.target.value);
      $(`val-${d}`).textContent = state.code[d].toFixed(2);
      state.attrBase = null;
      decodeNow(state.code.slice());
      drawMap();
      neighboursSoon(state.code.slice());
    });
  });
  $("more-dims").hidden = info.order.length <= SHOWN_DIMS;
  const unit = info.has_prior ? "prior standard deviations" : "standard deviations of the test codes";
  $("ranking").textContent = `Dimensions by ${info.measure === "kl" ? "mean KL from the prior" : "variance of the codes"}, ` +
    `most informative first; each slider spans ±${info.span} ${unit}.`;
}

// -------------------------------------------------------------------- map

function mapFrame() {
  const pts = state.map.points, canvas = $("map"), pad = 12;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const [x, y] of pts) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  const sx = (canvas.width - 2 * pad) / Math.max(x1 - x0, 1e-9), sy = (canvas.height - 2 * pad) / Math.max(y1 - y0, 1e-9);
  return ([x, y]) => [pad + (x - x0) * sx, canvas.height - pad - (y - y0) * sy];
}

function project(code) {
  const { mean, axes } = state.map;
  return axes.map((axis) => axis.reduce((s, a, j) => s + a * (code[j] - mean[j]), 0));
}

function drawMap() {
  if (!state.map) return;
  const canvas = $("map"), ctx = canvas.getContext("2d"), toPixel = mapFrame();
  const classes = state.info.classes;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  state.mapPixels = state.map.points.map(toPixel);
  state.mapPixels.forEach(([px, py], i) => {
    const label = state.map.labels ? state.map.labels[i] : null;
    ctx.fillStyle = label === null ? "#1f77b4" : PALETTE[Math.max(0, classes.indexOf(label)) % PALETTE.length];
    ctx.globalAlpha = 0.6; ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
  });
  ctx.globalAlpha = 1;
  if (state.code.length) {
    const [px, py] = toPixel(project(state.code));
    ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(px, py, 6, 0, 2 * Math.PI); ctx.stroke();
  }
}

async function clickMap(event) {
  const canvas = $("map"), rect = canvas.getBoundingClientRect();
  const x = (event.clientX - rect.left) * canvas.width / rect.width, y = (event.clientY - rect.top) * canvas.height / rect.height;
  let best = -1, bestD = Infinity;
  state.mapPixels.forEach(([px, py], i) => { const d = (px - x) ** 2 + (py - y) ** 2; if (d < bestD) { bestD = d; best = i; } });
  if (best < 0 || bestD > 400) return;
  $("index").value = best;
  await encodeIndex(best);
}

// ------------------------------------------------------------------ panels

async function encodeIndex(index) {
  const answer = await api("api/encode", { index: Number(index) });
  const img = $("input"); if (answer.input.image) { img.src = answer.input.image; img.hidden = false; }
  setCode(answer.code, { output: answer.output });
  document.body.dataset.encoded = String(index);
}

async function interpolate() {
  const body = { start: Number($("interp-start").value), end: Number($("interp-end").value),
                 steps: Number($("interp-steps").value), method: $("interp-method").value };
  const answer = await api("api/interpolate", body);
  state.strip = answer;
  const strip = $("strip"); strip.innerHTML = "";
  answer.outputs.forEach((out, i) => {
    const fig = thumb(out, i === 0 ? `#${body.start}` : i === answer.outputs.length - 1 ? `#${body.end}` : `${i}`);
    fig.addEventListener("click", () => scrubTo(i));
    strip.appendChild(fig);
  });
  strip.dataset.count = String(answer.outputs.length);
  const scrub = $("scrub"); scrub.max = String(answer.outputs.length - 1); scrub.value = "0"; $("scrub-row").hidden = false;
  scrubTo(0);
}

function scrubTo(i) {
  if (!state.strip) return;
  $("scrub").value = String(i);
  document.querySelectorAll("#strip img").forEach((img, j) => img.classList.toggle("active", j === i));
  setCode(state.strip.codes[i], { output: state.strip.outputs[i] });
}

const attributeNow = latest(async () => {
  if (state.attrBase === null) state.attrBase = state.code.slice();
  const strength = Number($("attr-strength").value);
  $("attr-value").textContent = strength.toFixed(2);
  const answer = await api("api/attribute", { source: $("attr-source").value, target: $("attr-target").value,
                                               strength, code: state.attrBase });
  const v = answer.vector;
  $("attr-info").textContent = `|vector| = ${v.norm.toFixed(3)}, from ${v.source_count} examples of ${v.source} ` +
    `(spread ${v.source_spread.toFixed(2)}) and ${v.target_count} of ${v.target} (spread ${v.target_spread.toFixed(2)}).`;
  setCode(answer.code, { output: answer.output, from: "attribute" });
});

async function upload() {
  const file = $("upload").files[0]; if (!file) return;
  const form = new FormData(); form.append("file", file);
  const answer = await api("api/encode_image", form);
  const img = $("input"); if (answer.input.image) { img.src = answer.input.image; img.hidden = false; }
  setCode(answer.code, { output: answer.output });
}

function guard(fn) { return (...a) => Promise.resolve(fn(...a)).then(() => status(""), (err) => status(err.message)); }

// ------------------------------------------------------------------- start

async function start() {
  const info = state.info = await api("api/info");
  document.title = info.title;
  $("title").textContent = info.title;
  const kind = info.kind === "image" ? `${info.image.width}x${info.image.height} images` : `table rows of ${info.input_shape[0]} columns`;
  $("about").innerHTML = `${escapeHtml(info.model)}, ${info.latent_dim}-D latent space, ${kind}; ` +
    `${info.n_test} test and ${info.n_train} training examples. <a href="docs${TOKEN ? "?token=" + TOKEN : ""}">API</a>` +
    info.figures.map((f) => ` · <a href="figures/${encodeURIComponent(f)}${TOKEN ? "?token=" + TOKEN : ""}">${escapeHtml(f)}</a>`).join("");
  if (info.kind !== "image") { $("output-box").hidden = true; $("upload-row").hidden = true; }
  buildSliders(info);
  const max = info.n_test - 1;
  for (const id of ["index", "interp-start", "interp-end"]) $(id).max = String(max);
  $("interp-end").value = String(Math.min(1, max));
  if (info.classes.length >= 2) {
    $("attribute").hidden = false;
    for (const id of ["attr-source", "attr-target"]) $(id).innerHTML = info.classes.map((c) => `<option>${escapeHtml(c)}</option>`).join("");
    $("attr-target").value = info.classes[1];
  }
  state.map = await api("api/map");
  $("map-about").textContent = `Test codes: ${state.map.about}. Click a point to load its code.`;
  if (state.map.labels) $("legend").innerHTML = info.classes.map((c, i) => `<span><i style="background:${PALETTE[i % PALETTE.length]}"></i>${escapeHtml(c)}</span>`).join("");
  $("sample").addEventListener("click", guard(async () => {
    const answer = await api("api/sample", { seed: Number($("seed").value) });
    $("seed").value = String(Number($("seed").value) + 1);
    setCode(answer.code, { output: answer.output });
  }));
  $("encode").addEventListener("click", guard(() => encodeIndex($("index").value)));
  $("upload").addEventListener("change", guard(upload));
  $("map").addEventListener("click", guard(clickMap));
  $("interp-run").addEventListener("click", guard(interpolate));
  $("scrub").addEventListener("input", (e) => scrubTo(Number(e.target.value)));
  $("attr-strength").addEventListener("input", () => attributeNow());
  for (const id of ["attr-source", "attr-target"]) $(id).addEventListener("change", () => { state.attrBase = null; });
  const first = await api("api/decode", { code: info.centre });
  setCode(info.centre, { output: first.output });
  window.vaelabReadyAt = performance.now();
  document.body.dataset.ready = "1";
}

start().catch((err) => status(err.message));
