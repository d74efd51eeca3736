// The editor's page: one Summarize call over the HTTP/JSON API (Connect protocol, proto3 JSON).
// Plain JavaScript, no build step; every server text is put in the page with textContent.
"use strict";

const API = "/newsbrief.v1.SummarizerService/Summarize";
const $ = (id) => document.getElementById(id);

// API field names -> the words on this form.
const FIELD_LABELS = [
  [/^text$|^html$/, "Article"],
  [/^title$/, "Title"],
  [/^target_languages/, "Translate into"],
  [/^source_language$/, "Language of the article"],
  [/^length$|^max_sentences$|^max_words$/, "Length"],
];

function label(field) {
  for (const [pattern, words] of FIELD_LABELS) {
    if (pattern.test(field)) return words;
  }
  return field;
}

function looksLikeHtml(content) {
  return /^\s*(<!doctype\s+html|<html\b|<head\b|<body\b)/i.test(content) ||
    (content.trimStart().startsWith("<") && /<(p|div|article|br|h[1-6]|section)\b/i.test(content));
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function list(items, format) {
  const ul = el("ul");
  for (const item of items) ul.appendChild(el("li", format ? format(item) : item));
  return ul;
}

// The article's own brief keeps its ids (headline, summary, keypoints) and its copy button;
// translations get none. A line with sources (summaryLines, keyPointLines: spans of
// articleText) can be focused and shows its source in the article when hovered or focused.
function fillBrief(container, brief, language) {
  const summary = el("p");
  const lines = brief.summaryLines || [];
  if (lines.length) {
    lines.forEach((line, i) => {
      if (i) summary.appendChild(document.createTextNode(" "));
      summary.appendChild(sourced(el("span", line.text || "", "line"), line.sources));
    });
  } else {
    summary.textContent = brief.summary || "";
  }
  const points = el("ul");
  const pointLines = brief.keyPointLines || [];
  (brief.keyPoints || []).forEach((text, i) => {
    const li = el("li", text, "line");
    points.appendChild(pointLines[i] ? sourced(li, pointLines[i].sources) : li);
  });
  const parts = [el("h2", brief.headline || ""), summary, points];
  if (!language) {
    ["headline", "summary", "keypoints"].forEach((id, i) => { parts[i].id = id; });
    container.replaceChildren(...parts, $("copy"), $("copied"));
  } else {
    container.replaceChildren(el("div", language, "lang"), ...parts);
  }
}

// ---- where each line came from -------------------------------------------------------------

// The article text as code points: the API's spans count Unicode code points, JavaScript
// strings count UTF-16 units, so the text is sliced as an array of code points.
let articlePoints = [];

function sourced(node, sources) {
  const spans = (sources || []).map((s) => [s.start || 0, s.end || 0]).filter(([a, b]) => b > a);
  if (!spans.length) return node;
  node.dataset.sources = JSON.stringify(spans);
  node.tabIndex = 0;
  const show = () => showSource(spans);
  node.addEventListener("mouseenter", show);
  node.addEventListener("focus", show);
  node.addEventListener("mouseleave", () => showSource([]));
  node.addEventListener("blur", () => showSource([]));
  return node;
}

function showSource(spans) {
  const box = $("articletext");
  const parts = [];
  let at = 0;
  let first = null;
  for (const [start, end] of [...spans].sort((x, y) => x[0] - y[0])) {
    if (start < at) continue;
    parts.push(document.createTextNode(articlePoints.slice(at, start).join("")));
    const mark = el("mark", articlePoints.slice(start, end).join(""));
    first = first || mark;
    parts.push(mark);
    at = end;
  }
  parts.push(document.createTextNode(articlePoints.slice(at).join("")));
  box.replaceChildren(...parts);
  if (first) first.scrollIntoView({ block: "nearest" });
}

// ---- copying the brief ---------------------------------------------------------------------

function briefText() {
  const points = [...document.querySelectorAll("#keypoints li")].map((li) => `- ${li.textContent}`);
  return [$("headline").textContent, "", $("summary").textContent, "", ...points].join("\n");
}

async function copyBrief() {
  const text = briefText();
  let done = false;
  try {
    await navigator.clipboard.writeText(text);
    done = true;
  } catch (_) {
    // no clipboard API (a page served over plain HTTP to another host): a selection copy
    const area = el("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    done = document.execCommand("copy");
    area.remove();
  }
  $("copied").textContent = done ? "Copied." : "Could not copy: select the brief and copy it.";
}

// ---- what the server can do ----------------------------------------------------------------

// Translation choices the server cannot serve are disabled, with the reason beside them
// (GetServerInfo: the "translate" capability and the translation languages).
async function loadCapabilities() {
  let info;
  try {
    const reply = await fetch("/newsbrief.v1.SummarizerService/GetServerInfo", {
      method: "POST", headers: apiHeaders(), body: "{}",
    });
    if (!reply.ok) return;
    info = await reply.json();
  } catch (_) {
    return;
  }
  const translate = (info.capabilities || []).find((c) => c.name === "translate") || {};
  const languages = new Set(info.translationLanguages || []);
  const note = $("targets-note");
  for (const box of document.querySelectorAll("#targets input")) {
    const reason = !translate.ready
      ? (translate.detail || "this server has no translator installed")
      : (languages.has(box.value) ? "" : "the server's translator does not translate into this language");
    box.disabled = Boolean(reason);
    if (reason) box.checked = false;
    box.parentElement.title = reason;
  }
  note.textContent = translate.ready ? "" : (translate.detail || "translation is not available: no translator is installed on this server");
  note.hidden = Boolean(translate.ready);
}

function apiHeaders() {
  const headers = { "content-type": "application/json" };
  if ($("apikey").value) headers["x-api-key"] = $("apikey").value;
  return headers;
}

function detail(error, type) {
  const found = (error.details || []).find((d) => d.type === type);
  return found ? found.debug || {} : null;
}

// A Connect error (or a failure to reach the server) in plain words.
function plainError(status, error, retryAfter) {
  const code = error.code || "";
  const wait = retryAfter ? ` Try again in ${retryAfter} s.` : " Try again in a moment.";
  const lines = [];
  switch (code) {
    case "invalid_argument": {
      lines.push("Please check the form:");
      const bad = detail(error, "google.rpc.BadRequest");
      for (const v of (bad && bad.fieldViolations) || []) {
        lines.push(`• ${label(v.field)}: ${v.description}`);
      }
      if (lines.length === 1) lines.push(error.message || "the request was not accepted");
      break;
    }
    case "unauthenticated":
      lines.push("This server needs an API key: enter it in the API key box.");
      break;
    case "permission_denied":
      lines.push("The API key was not accepted by this server.");
      break;
    case "resource_exhausted":
      lines.push("The server is busy, or this key has used up its quota." + wait);
      break;
    case "unavailable":
      lines.push("The server is starting up or shutting down." + wait);
      break;
    case "failed_precondition": {
      // What is missing, then how to install it (said once when the two are the same text).
      lines.push("This server cannot do that yet:", error.message || "a capability is missing");
      const pre = detail(error, "google.rpc.PreconditionFailure");
      for (const v of (pre && pre.violations) || []) {
        if (v.description && !lines.includes(v.description)) lines.push(v.description);
      }
      break;
    }
    case "deadline_exceeded":
      lines.push("The server took too long; try a shorter article.");
      break;
    default:
      lines.push(`Something went wrong on the server (HTTP ${status}). ${error.message || ""}`);
  }
  return lines.join("\n");
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = false;
}

function render(response) {
  articlePoints = Array.from(response.articleText || "");
  showSource([]);
  $("copied").textContent = "";
  fillBrief(document.querySelector('.brief[data-language="source"]'), response.brief || {});
  const translations = $("translations");
  translations.replaceChildren();
  for (const t of response.translations || []) {
    const box = el("article", undefined, "brief");
    box.dataset.language = t.language;
    fillBrief(box, t.brief || {}, t.language);
    translations.appendChild(box);
  }
  const lang = response.sourceLanguage || {};
  $("language").textContent = lang.given
    ? `${lang.code} (given)`
    : `${lang.code || "und"} (confidence ${(lang.confidence || 0).toFixed(2)})`;
  $("method").textContent = (response.method || "") + (response.cached ? " (cached)" : "");
  const faith = response.faithfulness || {};
  $("faithfulness").replaceChildren(
    el("span", faith.passed ? "passed" : "issues found"),
    list(faith.issues || []),
  );
  $("models").replaceChildren(
    list(response.models || [], (m) =>
      `${m.role}: ${m.id}${m.revision ? "@" + m.revision : ""}${m.licence ? " (" + m.licence + ")" : ""}`),
  );
  const timings = response.timings || {};
  const stages = Object.entries(timings.stagesMs || {}).map(([k, v]) => `${k} ${v.toFixed(1)} ms`);
  $("timings").textContent = `${(timings.totalMs || 0).toFixed(1)} ms total` +
    (stages.length ? ` (${stages.join(", ")})` : "");
  const warnings = response.warnings || [];
  $("warnings").replaceChildren(
    warnings.length ? list(warnings, (w) => `${w.code}: ${w.message}`) : el("span", "none"),
  );
  $("result").hidden = false;
}

async function submit(event) {
  event.preventDefault();
  $("error").hidden = true;
  const content = $("article").value;
  const kind = $("kind").value;
  const isHtml = kind === "html" || (kind === "auto" && looksLikeHtml(content));
  // the article text comes back too: the brief's lines point into it
  const request = isHtml ? { html: content } : { text: content };
  request.includeArticleText = true;
  if ($("title").value.trim()) request.title = $("title").value.trim();
  if ($("length").value) request.length = $("length").value;
  const targets = [...document.querySelectorAll("#targets input:checked")].map((i) => i.value);
  if (targets.length) request.targetLanguages = targets;
  const headers = apiHeaders();

  $("submit").disabled = true;
  $("busy").hidden = false;
  try {
    const reply = await fetch(API, { method: "POST", headers, body: JSON.stringify(request) });
    let body = {};
    try { body = await reply.json(); } catch (_) { body = {}; }
    if (reply.ok) {
      render(body);
    } else {
      $("result").hidden = true;
      showError(plainError(reply.status, body, reply.headers.get("retry-after")));
    }
  } catch (_) {
    $("result").hidden = true;
    showError("Cannot reach the newsbrief server. Is it running?");
  } finally {
    $("submit").disabled = false;
    $("busy").hidden = true;
  }
}

function loadFile(file) {
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => {
    $("article").value = reader.result;
    $("kind").value = /\.html?$/i.test(file.name) ? "html" : /\.txt$/i.test(file.name) ? "text" : "auto";
  };
  reader.readAsText(file);
}

$("form").addEventListener("submit", submit);
$("file").addEventListener("change", (e) => loadFile(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  loadFile(e.dataTransfer.files[0]);
});
$("copy").addEventListener("click", copyBrief);
$("apikey").addEventListener("change", loadCapabilities);
loadCapabilities();
