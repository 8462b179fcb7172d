"""The review page: one HTML shell, its stylesheet and its script, kept as strings so they ship with the
Python package without package-data configuration.

The script builds every element with ``textContent`` (never ``innerHTML``), and the server's
Content-Security-Policy allows only these same-origin files, so a font name cannot inject markup or code.
"""

INDEX_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fontglyphs review</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <div class="top">
    <h1>fontglyphs review</h1>
    <span id="where"></span>
    <div id="progress" title="reviewed images"><div id="progress-fill"></div></div>
    <span id="counts"></span>
    <span class="spacer"></span>
    <span id="pager"></span>
  </div>
  <nav class="actions">
    <button data-action="accept"><kbd>a</kbd>accept</button>
    <button data-action="wrong-letter"><kbd>w</kbd>wrong letter</button>
    <button data-action="not-a-letter"><kbd>n</kbd>not a letter</button>
    <button data-action="duplicate"><kbd>d</kbd>duplicate</button>
    <button data-action="relabel"><kbd>r</kbd>relabel&hellip;</button>
    <button data-action="accept-rest" class="primary"><kbd>&#8679;A</kbd>accept rest &amp; next page</button>
    <span class="spacer"></span>
    <button data-action="prev"><kbd>PgUp</kbd>previous</button>
    <button data-action="next"><kbd>Space</kbd>next page</button>
  </nav>
</header>
<main id="groups"><p class="empty">Loading&hellip;</p></main>
<div id="relabel" hidden>
  <p>Relabel <b id="relabel-from"></b> as&hellip; type or click the letter</p>
  <div id="relabel-letters"></div>
  <button id="relabel-cancel"><kbd>Esc</kbd>cancel</button>
</div>
<div id="toast" role="status" aria-live="polite"></div>
<footer>
  <kbd>&larr;</kbd><kbd>&uarr;</kbd><kbd>&rarr;</kbd><kbd>&darr;</kbd> or
  <kbd>h</kbd><kbd>j</kbd><kbd>k</kbd><kbd>l</kbd> move &middot;
  <kbd>Shift</kbd>+<kbd>Space</kbd> previous page &middot;
  every decision is saved at once to <code>clean/review.csv</code>; the latest one for an image wins
</footer>
</body>
</html>
"""

APP_CSS = """:root {
  --glyph: 112px; --tile: calc(var(--glyph) + 12px);
  --bg: #14161b; --panel: #1e222a; --line: #313845; --text: #e6e8ec; --muted: #98a1b0;
  --accent: #4ea1ff; --ok: #3fb950; --bad: #f85149; --dup: #a371f7; --warn: #d29922;
  color-scheme: dark;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
}
header {
  position: sticky; top: 0; z-index: 2; padding: 10px 20px 10px;
  background: rgba(20, 22, 27, 0.97); border-bottom: 1px solid var(--line);
}
.top { display: flex; align-items: center; gap: 16px; }
h1 { font-size: 16px; font-weight: 650; margin: 0; }
#where, #pager { color: var(--muted); }
#counts { font-variant-numeric: tabular-nums; }
#progress { width: 240px; height: 6px; background: var(--line); border-radius: 3px; overflow: hidden; }
#progress-fill { width: 0; height: 100%; background: var(--ok); transition: width 0.2s; }
.spacer { flex: 1; }
.actions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
button {
  font: inherit; color: var(--text); background: var(--panel); cursor: pointer;
  border: 1px solid var(--line); border-radius: 6px; padding: 3px 10px 3px 4px;
}
button:hover { border-color: var(--accent); }
button.primary { border-color: #2f6f3e; background: #1b3324; }
kbd {
  display: inline-block; min-width: 20px; margin-right: 6px; padding: 0 5px; text-align: center;
  font: 12px/18px ui-monospace, "DejaVu Sans Mono", monospace; color: var(--text);
  background: #2a303b; border: 1px solid #3e4654; border-bottom-width: 2px; border-radius: 4px;
}
footer kbd { margin-right: 2px; }
main { padding: 14px 20px 64px; }
.empty { color: var(--muted); }
.group { margin: 0 0 16px; }
.group h2 { margin: 0 0 6px; font-size: 14px; font-weight: 600; }
.by-letter .group h2 { font-size: 22px; }
.group h2 .sub {
  margin-left: 10px; color: var(--muted); font-weight: 400;
  font: 12px ui-monospace, "DejaVu Sans Mono", monospace;
}
.tiles { display: grid; gap: 6px; grid-template-columns: repeat(auto-fill, var(--tile)); }
.tile {
  width: var(--tile); padding: 4px; cursor: pointer;
  background: var(--panel); border: 2px solid transparent; border-radius: 8px;
  scroll-margin: 120px 0 48px;
}
.tile img {
  display: block; width: var(--glyph); height: var(--glyph); background: #000; border-radius: 3px;
  image-rendering: crisp-edges; image-rendering: pixelated;
}
.tile.selected { border-color: var(--accent); box-shadow: 0 0 0 3px rgba(78, 161, 255, 0.35); opacity: 1; }
.caption {
  display: flex; flex-wrap: wrap; justify-content: space-between; align-items: baseline; margin-top: 3px;
}
.label { font-size: 18px; font-weight: 700; }
.guess { font-size: 12px; color: var(--muted); }
.guess.disagrees { color: #ff7b72; font-weight: 650; }
.flags { display: flex; flex-wrap: wrap; gap: 3px; min-height: 16px; }
.flag {
  padding: 0 4px; border-radius: 3px; font-size: 10.5px; line-height: 16px;
  color: #e3b341; background: #3b2f12;
}
.badge {
  margin-left: auto; padding: 0 5px; border-radius: 3px;
  font-size: 10.5px; line-height: 16px; font-weight: 700; color: #0d1117;
}
.badge:empty { display: none; }
.tile[data-decision="accept"] { opacity: 0.45; }
.tile[data-decision="accept"] .badge { background: var(--ok); }
.tile[data-decision="wrong-letter"], .tile[data-decision="not-a-letter"] { border-color: var(--bad); }
.tile[data-decision="wrong-letter"] .badge,
.tile[data-decision="not-a-letter"] .badge { background: var(--bad); }
.tile[data-decision="duplicate"] { border-color: var(--dup); }
.tile[data-decision="duplicate"] .badge { background: var(--dup); }
.tile[data-decision="relabel"] { border-color: var(--warn); }
.tile[data-decision="relabel"] .badge { background: var(--warn); }
.tile.selected[data-decision] { border-color: var(--accent); }
#relabel {
  position: fixed; z-index: 3; top: 30%; left: 50%; transform: translateX(-50%);
  padding: 16px 20px; background: var(--panel); border: 1px solid var(--accent); border-radius: 10px;
  box-shadow: 0 10px 40px rgba(0, 0, 0, 0.6);
}
#relabel p { margin: 0 0 10px; }
#relabel-letters { display: flex; flex-wrap: wrap; gap: 6px; max-width: 420px; margin-bottom: 12px; }
#relabel-letters button { padding: 4px 10px; font-size: 18px; font-weight: 700; }
#toast {
  position: fixed; z-index: 4; right: 20px; bottom: 44px; max-width: 480px; padding: 8px 14px;
  border-radius: 6px; background: #263041; opacity: 0; transition: opacity 0.2s; pointer-events: none;
}
#toast.show { opacity: 1; }
#toast.error { background: #5a1d1d; }
footer {
  position: fixed; bottom: 0; left: 0; right: 0; padding: 6px 20px; font-size: 12px; color: var(--muted);
  background: rgba(20, 22, 27, 0.97); border-top: 1px solid var(--line);
}
/* Ten 4x tiles need about 1300 px; on a smaller screen draw the glyphs 3x. */
@media (max-width: 1340px) {
  :root { --glyph: 84px; }
  .label { font-size: 16px; }
  .guess .word { display: none; }
}
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
"""

APP_JS = r""""use strict";

const KEY_DECISIONS = {a: "accept", w: "wrong-letter", n: "not-a-letter", d: "duplicate"};
const BADGES = {accept: "ok", "wrong-letter": "wrong", "not-a-letter": "not a letter", duplicate: "dup"};
const FLAG_NAMES = {"label-noise-suspect": "noise?", "near-duplicate": "near-dup", "exact-duplicate": "dup",
  "label-conflict": "conflict", "font-identical-letters": "same letters", "letters-identical": "identical",
  "notdef-box": ".notdef", "symbol-font": "symbols"};

// "wanted" is the page last asked for: keys pressed while it loads count from it, and a slower
// answer for an older request is dropped.
const state = {page: 0, wanted: 0, pages: 0, letters: [], items: [], tiles: [], selected: 0,
  relabeling: false, saving: Promise.resolve()};

const $ = (id) => document.getElementById(id);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function request(path, body) {
  const init = body === undefined ? {} : {method: "POST", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json"}};
  const response = await fetch(path, init);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

let toastTimer = 0;
function toast(message, isError) {
  const box = $("toast");
  box.textContent = message;
  box.className = isError ? "show error" : "show";
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.className = ""; }, isError ? 6000 : 2500);
}

function showCounts(decided, total) {
  $("counts").textContent = `${decided.toLocaleString()} / ${total.toLocaleString()} reviewed`;
  $("progress-fill").style.width = `${total ? (100 * decided) / total : 0}%`;
}

// ---- drawing ------------------------------------------------------------------------------------

function paintDecision(index) {
  const item = state.items[index];
  const tile = state.tiles[index];
  tile.dataset.decision = item.decision || "";
  if (!item.decision) delete tile.dataset.decision;
  tile.querySelector(".badge").textContent =
    !item.decision ? "" : item.decision === "relabel" ? `\u2192 ${item.new_letter}` : BADGES[item.decision];
}

function makeTile(item, index) {
  const tile = element("div", "tile");
  tile.dataset.index = index;
  tile.dataset.key = item.key;
  tile.dataset.letter = item.letter;
  tile.title = `${item.family} ${item.style} \u2014 key ${item.key}`;
  const image = element("img");
  image.src = item.url;
  image.alt = `${item.letter} drawn by ${item.family}`;
  image.draggable = false;
  const caption = element("div", "caption");
  caption.append(element("span", "label", item.letter));
  if (item.guess !== null) {
    const agrees = item.guess === item.letter;
    const percent = `${Math.round(item.confidence * 100)}%`;
    const guess = element("span", agrees ? "guess" : "guess disagrees",
      agrees ? `\u2713 ${percent}` : ` ${item.guess} ${percent}`);
    if (!agrees) guess.prepend(element("span", "word", "model:"));
    guess.title = `model guess ${item.guess} (confidence ${item.confidence.toFixed(3)}, ` +
      `suspect score ${item.score.toFixed(3)})`;
    caption.append(guess);
  }
  const flags = element("div", "flags");
  for (const flag of item.flags) {
    const chip = element("span", "flag", FLAG_NAMES[flag] || flag);
    chip.title = flag;
    flags.append(chip);
  }
  flags.append(element("span", "badge"));
  tile.append(image, caption, flags);
  tile.addEventListener("click", () => select(index));
  return tile;
}

function drawPage(data) {
  const reviewer = data.reviewer ? ` \u00b7 reviewer ${data.reviewer}` : "";
  $("where").textContent = `${data.split} set \u00b7 by ${data.by}${reviewer}`;
  $("pager").textContent = `page ${data.page + 1} of ${data.pages}`;
  const main = $("groups");
  main.replaceChildren();
  main.className = `by-${data.by}`;
  state.items = [];
  state.tiles = [];
  for (const group of data.groups) {
    const section = element("section", "group");
    const heading = element("h2", "", group.title);
    heading.append(element("span", "sub", group.subtitle));
    const grid = element("div", "tiles");
    if (data.by === "font") grid.style.gridTemplateColumns = `repeat(${data.letters.length}, var(--tile))`;
    for (const item of group.items) {
      const index = state.items.length;
      const tile = makeTile(item, index);
      if (data.by === "font") tile.style.gridColumn = String(data.letters.indexOf(item.letter) + 1);
      state.items.push(item);
      state.tiles.push(tile);
      grid.append(tile);
      paintDecision(index);
    }
    section.append(heading, grid);
    main.append(section);
  }
}

async function showPage(number) {
  state.wanted = number;
  let data;
  try {
    data = await request(`/api/page/${number}`);
  } catch (error) {
    toast(error.message, true);
    state.wanted = state.page;
    return;
  }
  if (number !== state.wanted) return;
  state.page = data.page;
  state.pages = data.pages;
  state.letters = data.letters;
  drawPage(data);
  showCounts(data.decided, data.total);
  const firstOpen = state.items.findIndex((item) => !item.decision);
  state.selected = 0;
  select(Math.max(firstOpen, 0));
  window.scrollTo(0, 0);
  document.body.dataset.page = String(data.page);
  prefetch(number + 1);
}

async function prefetch(number) {
  if (number >= state.pages) return;
  try {
    const data = await request(`/api/page/${number}`);
    for (const group of data.groups) for (const item of group.items) new Image().src = item.url;
  } catch (error) {
    // Prefetching only saves time; the page itself reports errors when it is opened.
  }
}

// ---- moving -------------------------------------------------------------------------------------

function select(index) {
  if (!state.tiles.length) return;
  const next = Math.max(0, Math.min(index, state.tiles.length - 1));
  state.tiles[state.selected]?.classList.remove("selected");
  state.selected = next;
  state.tiles[next].classList.add("selected");
  state.tiles[next].scrollIntoView({block: "nearest"});
}

// Up and down go to the nearest tile in the next row on screen, whatever the layout.
function moveVertically(direction) {
  const here = state.tiles[state.selected].getBoundingClientRect();
  let best = -1;
  let bestDistance = Infinity;
  state.tiles.forEach((tile, index) => {
    const box = tile.getBoundingClientRect();
    const down = (box.top - here.top) * direction;
    if (down < 4) return;
    const distance = down * 10000 + Math.abs(box.left - here.left);
    if (distance < bestDistance) [best, bestDistance] = [index, distance];
  });
  if (best >= 0) select(best);
}

function turnPage(step) {
  const target = state.wanted + step;
  if (target < 0 || target >= state.pages) {
    toast(step > 0 ? "This is the last page." : "This is the first page.");
    return;
  }
  showPage(target);
}

// ---- deciding -----------------------------------------------------------------------------------

// Decisions are shown at once and sent one request after another, so the file sees them in key order.
function record(indices, decision, newLetter) {
  const before = indices.map((index) => ({...state.items[index]}));
  const entries = indices.map((index) => {
    const item = state.items[index];
    item.decision = decision;
    item.new_letter = newLetter;
    paintDecision(index);
    const entry = {key: item.key, letter: item.letter, decision};
    if (decision === "relabel") entry.new_letter = newLetter;
    return entry;
  });
  const items = indices.map((index) => state.items[index]);
  state.saving = state.saving.then(async () => {
    try {
      const result = await request("/api/decisions", {decisions: entries});
      showCounts(result.decided, result.total);
      return true;
    } catch (error) {
      toast(`Not saved: ${error.message}`, true);
      items.forEach((item, i) => Object.assign(item, before[i]));
      indices.forEach((index, i) => { if (state.items[index] === items[i]) paintDecision(index); });
      return false;
    }
  });
  return state.saving;
}

function decideSelected(decision, newLetter = "") {
  if (!state.items.length) return;
  const index = state.selected;
  record([index], decision, newLetter);
  select(index + 1);
}

async function acceptRest() {
  const open = state.items.flatMap((item, index) => (item.decision ? [] : [index]));
  if (open.length && !(await record(open, "accept", ""))) return;
  if (state.wanted + 1 < state.pages) showPage(state.wanted + 1);
  else toast("Last page: every glyph on it is decided.");
}

function openRelabel() {
  const item = state.items[state.selected];
  if (!item) return;
  state.relabeling = true;
  $("relabel-from").textContent = item.letter;
  const buttons = state.letters.filter((letter) => letter !== item.letter).map((letter) => {
    const button = element("button", "", letter);
    button.addEventListener("click", () => finishRelabel(letter));
    return button;
  });
  $("relabel-letters").replaceChildren(...buttons);
  $("relabel").hidden = false;
}

function finishRelabel(letter) {
  state.relabeling = false;
  $("relabel").hidden = true;
  if (letter) decideSelected("relabel", letter);
}

function relabelKey(event) {
  event.preventDefault();
  if (event.key === "Escape") return finishRelabel(null);
  if (event.key.length !== 1) return;
  const current = state.items[state.selected].letter;
  const exact = state.letters.filter((letter) => letter === event.key);
  const loose = state.letters.filter((letter) => letter.toLowerCase() === event.key.toLowerCase());
  const match = exact.length === 1 ? exact[0] : loose.length === 1 ? loose[0] : null;
  if (!match) toast(`${event.key} is not one of ${state.letters.join(" ")}`, true);
  else if (match === current) toast(`This glyph is already labelled ${current}.`, true);
  else finishRelabel(match);
}

// ---- input --------------------------------------------------------------------------------------

const ACTIONS = {
  accept: () => decideSelected("accept"),
  "wrong-letter": () => decideSelected("wrong-letter"),
  "not-a-letter": () => decideSelected("not-a-letter"),
  duplicate: () => decideSelected("duplicate"),
  relabel: openRelabel,
  "accept-rest": acceptRest,
  next: () => turnPage(1),
  prev: () => turnPage(-1),
};

function keyAction(event) {
  // Caps Lock must not turn "a" into "accept the whole page": only a real Shift+A does that.
  const key = event.key.length === 1 && !event.shiftKey ? event.key.toLowerCase() : event.key;
  if (key in KEY_DECISIONS) return () => decideSelected(KEY_DECISIONS[key]);
  switch (key) {
    case "ArrowLeft": case "h": return () => select(state.selected - 1);
    case "ArrowRight": case "l": return () => select(state.selected + 1);
    case "ArrowUp": case "k": return () => moveVertically(-1);
    case "ArrowDown": case "j": return () => moveVertically(1);
    case "r": return openRelabel;
    case "A": return acceptRest;
    case " ": return () => turnPage(event.shiftKey ? -1 : 1);
    case "PageDown": return () => turnPage(1);
    case "PageUp": return () => turnPage(-1);
    default: return null;
  }
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (state.relabeling) return relabelKey(event);
  const action = keyAction(event);
  if (!action) return;
  event.preventDefault();
  action();
});

// Buttons never take the focus, so Space keeps turning pages instead of pressing the last button.
document.addEventListener("mousedown", (event) => {
  if (event.target.closest("button")) event.preventDefault();
});
for (const button of document.querySelectorAll("button[data-action]")) {
  button.addEventListener("click", () => ACTIONS[button.dataset.action]());
}
$("relabel-cancel").addEventListener("click", () => finishRelabel(null));

showPage(0);
"""
