// af-serve's page logic: talks to the JSON API under /api/ (see af-serve --help).
"use strict";
const $ = (id) => document.getElementById(id);
const COLOURS = ["#3b6fb6", "#d9822b", "#4b9e5a", "#b6453b", "#7d5ab6", "#3bb6a9", "#b6a03b",
                 "#6b6b6b", "#e377c2", "#17becf"];
let current = null;      // the last prediction
let lastQuery = "";

function status(text) { $("status").textContent = text; }

async function api(path, options) {
  const response = await fetch(path, options);
  let body = {};
  try { body = await response.json(); } catch (e) { body = { error: "HTTP " + response.status }; }
  if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
  return body;
}

// Suggestions while typing (debounced), through the providers.
let timer = null;
$("q").addEventListener("input", () => {
  clearTimeout(timer);
  const q = $("q").value.trim();
  if (q.length < 3) return;
  timer = setTimeout(() => suggest(q), 350);
});

async function suggest(q) {
  try {
    const r = await api("/api/search?q=" + encodeURIComponent(q));
    lastQuery = q;
    const list = $("suggestions");
    list.replaceChildren();
    const ol = $("candidates");
    ol.replaceChildren();
    r.candidates.forEach((c, i) => {
      const option = document.createElement("option");
      option.value = c.artist + " - " + c.title;
      list.appendChild(option);
      const li = document.createElement("li");
      li.textContent = `${c.artist} - ${c.title} (${c.provider}, match ${c.score.toFixed(2)}${c.preview ? "" : ", no preview"})`;
      if (c.preview) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = "Classify this";
        b.addEventListener("click", () => predict("/api/predict?q=" + encodeURIComponent(q) + "&pick=" + (i + 1)));
        li.appendChild(b);
      }
      ol.appendChild(li);
    });
    status(r.candidates.length + " candidate(s)");
  } catch (e) {
    status("search: " + e.message);
  }
}

$("search-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = $("q").value.trim();
  if (q) predict("/api/predict?q=" + encodeURIComponent(q));
});

$("file").addEventListener("change", () => {
  const f = $("file").files[0];
  if (f) predict("/api/predict", { method: "POST", body: f, headers: { "Content-Type": "application/octet-stream" } }, f.name);
});

async function predict(path, options, fileName) {
  status("classifying…");
  try {
    const r = await api(path, options);
    current = r;
    show(r, fileName);
    status("");
  } catch (e) {
    status("predict: " + e.message);
  }
}

function coverFor(text) {
  const initials = text.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120"><rect width="120" height="120" fill="#23395d"/><text x="60" y="72" font-size="40" text-anchor="middle" fill="#fff" font-family="sans-serif">${initials}</text></svg>`;
  return "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
}

function show(r, fileName) {
  $("result").hidden = false;
  const name = r.track ? `${r.track.artist} - ${r.track.title}` : fileName;
  $("title").textContent = name;
  // The provider's album cover; initials when there is none or it does not load.
  const cover = $("cover");
  cover.onerror = () => { cover.onerror = null; cover.src = coverFor(name); };
  cover.src = r.track && r.track.cover ? r.track.cover : coverFor(name);
  $("source").textContent = r.track
    ? `preview from ${r.preview.source} (track ${r.track.id}), model ${r.model}` +
      (r.collection_track ? `; in the collection as track ${r.collection_track.track_id}` +
        (r.collection_track.label ? `, labelled ${r.collection_track.label}` : "") : "")
    : `uploaded file, model ${r.model}`;
  const player = $("player");
  if (r.preview) { player.src = r.preview.url; player.hidden = false; } else { player.removeAttribute("src"); player.hidden = true; }
  bars(r);
  windowsChart(r);
  similar(r.similar);
  const select = $("genre");
  select.replaceChildren();
  r.genres.forEach((g) => { const o = document.createElement("option"); o.value = o.textContent = g; select.appendChild(o); });
  $("correct-status").textContent = "";
}

function bars(r) {
  const box = $("bars");
  box.replaceChildren();
  const sorted = Object.entries(r.probabilities).sort((a, b) => b[1] - a[1]);
  sorted.forEach(([genre, p], i) => {
    const row = document.createElement("div");
    row.className = "bar" + (i === 0 ? " top" : "");
    row.dataset.genre = genre;
    const label = document.createElement("span");
    label.textContent = genre;
    const bg = document.createElement("div");
    bg.className = "track-bg";
    const fill = document.createElement("div");
    fill.className = "fill";
    fill.style.width = (100 * p).toFixed(1) + "%";
    bg.appendChild(fill);
    const value = document.createElement("span");
    value.textContent = (100 * p).toFixed(1) + " %";
    row.append(label, bg, value);
    box.appendChild(row);
  });
}

function windowsChart(r) {
  const canvas = $("windows"), ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 24;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "#ccc";
  ctx.strokeRect(pad, 4, w - pad - 4, h - pad - 4);
  const n = r.windows.length;
  const x = (i) => pad + (n > 1 ? i * (w - pad - 8) / (n - 1) : (w - pad) / 2);
  const y = (p) => 4 + (1 - p) * (h - pad - 4);
  const legend = $("legend");
  legend.replaceChildren();
  r.genres.forEach((g, c) => {
    ctx.strokeStyle = COLOURS[c % COLOURS.length];
    ctx.lineWidth = 2;
    ctx.beginPath();
    r.windows.forEach((win, i) => { const px = x(i), py = y(win.probabilities[c]); i ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
    ctx.stroke();
    const s = document.createElement("span");
    s.style.color = COLOURS[c % COLOURS.length];
    s.textContent = "■ " + g;
    legend.appendChild(s);
  });
  ctx.fillStyle = "#666";
  ctx.font = "11px sans-serif";
  r.windows.forEach((win, i) => ctx.fillText(win.start_seconds.toFixed(0) + "s", x(i) - 6, h - 6));
}

function similar(list) {
  const ol = $("similar");
  ol.replaceChildren();
  if (!list.length) { const li = document.createElement("li"); li.textContent = "none (the model has no embeddings)"; ol.appendChild(li); }
  list.forEach((t) => {
    const li = document.createElement("li");
    li.textContent = `${t.artist} - ${t.title} (${t.label || "unlabelled"}, distance ${t.distance.toFixed(3)})`;
    ol.appendChild(li);
  });
}

$("correct-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!current) return;
  const body = { genre: $("genre").value, by: $("by").value.trim(), note: $("note").value.trim() || undefined };
  if (current.collection_track) body.track_id = current.collection_track.track_id;
  else if (current.track) body.track = current.track;
  else { $("correct-status").textContent = "an uploaded file is not a track of the collection: search it instead"; return; }
  const headers = { "Content-Type": "application/json" };
  if ($("token").value) headers.Authorization = "Bearer " + $("token").value;
  try {
    const r = await api("/api/correct", { method: "POST", headers, body: JSON.stringify(body) });
    $("correct-status").textContent = `recorded: track ${r.track_id} is ${r.genre} (correction ${r.correction_id}), ${r.applies}`;
  } catch (e) {
    $("correct-status").textContent = "correction: " + e.message;
  }
});

api("/api/status").then((s) => { $("model").textContent = `model ${s.model}: ${s.genres.join(", ")}`; })
  .catch((e) => status("status: " + e.message));
