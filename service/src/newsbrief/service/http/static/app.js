// The editor's page: one Summarize call over the HTTP/JSON API (Connect protocol, proto3 JSON),
// or several articles as one background job (JobService: CreateJob, then GetJob until done).
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
  const item = /^articles\[(\d+)\]\.(.+)$/.exec(field);  // CreateJob: articles[3].text
  if (item) {
    const i = Number(item[1]);
    return `${jobNames[i] || "article " + (i + 1)}, ${label(item[2])}`;
  }
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

  // Submitting as a job needs JobService (the "jobs" capability).
  const jobs = (info.capabilities || []).find((c) => c.name === "jobs");
  const reason = !jobs
    ? "this server does not say it runs background jobs"
    : (jobs.ready ? "" : (jobs.detail || "background jobs are off on this server"));
  for (const id of ["batchfiles", "submitjob"]) {
    $(id).disabled = Boolean(reason);
    $(id).title = reason;
  }
  $("jobs-note").textContent = reason ? `Submitting as a job is not available: ${reason}.` : "";
  $("jobs-note").hidden = !reason;
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

// ---- several articles as a background job (JobService) -------------------------------------

const JOBS = "/newsbrief.v1.JobService/";
const POLL_FIRST_MS = 1000;  // GetJob every second at first, slower (to 5 s) while nothing moves
const POLL_MAX_MS = 5000;
const POLL_MAX_FAILURES = 5;  // unanswered polls in a row before the page gives up watching
const FINISHED = new Set(["JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"]);
const ARTICLE_WORDS = {
  ARTICLE_STATE_QUEUED: "queued",
  ARTICLE_STATE_RUNNING: "running",
  ARTICLE_STATE_SUCCEEDED: "done",
  ARTICLE_STATE_FAILED: "failed",
  ARTICLE_STATE_CANCELLED: "cancelled",
};

let jobNames = [];   // the names of the articles of the job submitted last (files, or "article 2")
let watching = null; // the job being polled: { id, timer, delay, failures, progress }

function stateWord(state, prefix) {
  return (state || `${prefix}UNSPECIFIED`).slice(prefix.length).toLowerCase();
}

// The articles to submit: the files chosen, or else the Article box cut at lines of "---".
async function batchArticles() {
  const files = [...$("batchfiles").files];
  if (files.length) {
    return Promise.all(files.map(async (file) => ({
      name: file.name,
      content: await file.text(),
      kind: /\.html?$/i.test(file.name) ? "html" : /\.txt$/i.test(file.name) ? "text" : "auto",
    })));
  }
  return $("article").value.split(/^[ \t]*---[ \t]*$/m)
    .map((piece) => piece.trim())
    .filter(Boolean)
    .map((content, i) => ({ name: `article ${i + 1}`, content, kind: $("kind").value }));
}

async function callJobs(method, body) {
  const reply = await fetch(JOBS + method, {
    method: "POST", headers: apiHeaders(), body: JSON.stringify(body),
  });
  let answer = {};
  try { answer = await reply.json(); } catch (_) { answer = {}; }
  return { reply, answer };
}

async function submitJob() {
  $("error").hidden = true;
  const items = await batchArticles();
  if (!items.length) {
    showError("Choose .html / .txt files, or paste articles in the Article box " +
      "(a line holding only --- between two articles).");
    return;
  }
  const targets = [...document.querySelectorAll("#targets input:checked")].map((i) => i.value);
  const articles = items.map((item) => {
    const isHtml = item.kind === "html" || (item.kind === "auto" && looksLikeHtml(item.content));
    const article = isHtml ? { html: item.content } : { text: item.content };
    article.clientReference = item.name.slice(0, 200);
    if ($("length").value) article.length = $("length").value;
    if (targets.length) article.targetLanguages = targets;
    return article;
  });
  jobNames = items.map((item) => item.name);
  $("submitjob").disabled = true;
  $("busy").hidden = false;
  try {
    const { reply, answer } = await callJobs("CreateJob", { articles });
    if (!reply.ok) {
      showError(plainError(reply.status, answer, reply.headers.get("retry-after")));
      return;
    }
    $("jobarticles").replaceChildren();
    showJob(answer.job || {});
    watch(answer.job || {});
  } catch (_) {
    showError("Cannot reach the newsbrief server. Is it running?");
  } finally {
    $("submitjob").disabled = false;
    $("busy").hidden = true;
  }
}

// Poll GetJob until the job is finished, the page is left, or the server stops answering.
function watch(job) {
  stopWatching();
  if (!job.id || FINISHED.has(job.state)) return;
  watching = { id: job.id, timer: 0, delay: POLL_FIRST_MS, failures: 0, progress: progressOf(job) };
  schedule(watching);
}

function stopWatching() {
  if (watching) clearTimeout(watching.timer);
  watching = null;
}

function schedule(w, delay) {
  w.timer = setTimeout(() => poll(w), delay || w.delay);
}

function progressOf(job) {
  return (job.articles || []).map((a) => a.state).join() + job.state;
}

async function poll(w) {
  if (watching !== w) return;
  let reply;
  let answer;
  try {
    ({ reply, answer } = await callJobs("GetJob", { jobId: w.id }));
  } catch (_) {
    reply = null;
  }
  if (watching !== w) return;  // cancelled, another job submitted, or the page left meanwhile
  if (reply && reply.ok) {
    const job = answer.job || {};
    showJob(job);
    if (FINISHED.has(job.state)) {
      stopWatching();
      return;
    }
    w.failures = 0;
    const progress = progressOf(job);
    w.delay = progress === w.progress ? Math.min(POLL_MAX_MS, w.delay * 1.5) : POLL_FIRST_MS;
    w.progress = progress;
    schedule(w);
    return;
  }
  w.failures += 1;
  const gone = reply && reply.status === 404;
  if (gone || w.failures >= POLL_MAX_FAILURES) {
    stopWatching();
    showError(gone
      ? "The job is no longer on the server (deleted, or made with another API key)."
      : "Stopped following the job: the server did not answer. " +
        (reply ? plainError(reply.status, answer, reply.headers.get("retry-after")) : ""));
    return;
  }
  const wait = reply && Number(reply.headers.get("retry-after"));
  schedule(w, wait > 0 ? wait * 1000 : Math.min(POLL_MAX_MS, w.delay * 2));
}

async function cancelJob() {
  const id = $("jobid").textContent;
  if (!id) return;
  $("canceljob").disabled = true;
  try {
    const { reply, answer } = await callJobs("CancelJob", { jobId: id });
    if (!reply.ok) {
      showError(plainError(reply.status, answer, reply.headers.get("retry-after")));
      $("canceljob").disabled = false;
      return;
    }
    stopWatching();
    showJob(answer.job || {});
  } catch (_) {
    showError("Cannot reach the newsbrief server. Is it running?");
    $("canceljob").disabled = false;
  }
}

function showJob(job) {
  const state = stateWord(job.state, "JOB_STATE_");
  $("jobid").textContent = job.id || "";
  $("jobstate").textContent = state;
  $("jobstate").className = `state state-${state}`;
  const total = job.articleCount || 0;
  const failed = job.failedCount || 0;
  const finished = (job.succeededCount || 0) + failed;
  $("jobcounts").textContent = `${finished} of ${total} done` + (failed ? `, ${failed} failed` : "");
  $("canceljob").disabled = FINISHED.has(job.state);
  const list = $("jobarticles");
  for (const article of job.articles || []) {
    const index = article.index || 0;  // proto3 JSON leaves out a zero
    let item = list.querySelector(`li[data-index="${index}"]`);
    if (!item) {
      item = el("li", undefined, "jobarticle");
      item.dataset.index = String(index);
      list.appendChild(item);
    }
    if (item.dataset.state !== article.state) showJobArticle(item, article, index);
  }
  $("job").hidden = false;
}

// One article of the job: its name and state, and its brief (and translations) once done.
function showJobArticle(item, article, index) {
  item.dataset.state = article.state || "";
  const word = ARTICLE_WORDS[article.state] || stateWord(article.state, "ARTICLE_STATE_");
  const name = article.clientReference || jobNames[index] || `article ${index + 1}`;
  const head = el("div", undefined, "head");
  head.append(el("span", name, "name"), el("span", word, `state state-${word}`));
  if ((article.attempts || 0) > 1) head.appendChild(el("span", `attempt ${article.attempts}`, "note"));
  const parts = [head];
  const response = article.response;
  if (article.state === "ARTICLE_STATE_SUCCEEDED" && response) {
    const briefs = el("div", undefined, "briefs");
    const source = el("article", undefined, "brief");
    const code = (response.sourceLanguage || {}).code || "brief";
    fillBrief(source, plainBrief(response.brief), code);
    briefs.appendChild(source);
    for (const t of response.translations || []) {
      const box = el("article", undefined, "brief");
      box.dataset.language = t.language;
      fillBrief(box, plainBrief(t.brief), t.language);
      briefs.appendChild(box);
    }
    parts.push(briefs);
  } else if (article.state === "ARTICLE_STATE_FAILED" && article.status) {
    const status = article.status;
    const why = (status.fieldViolations || []).map((v) => `${label(v.field)}: ${v.description}`);
    parts.push(el("p", why.length ? why.join("\n") : status.message || "failed", "why"));
  }
  item.replaceChildren(...parts);
}

// A brief without its lines' sources: a job's article text is not on the page to point into.
function plainBrief(brief) {
  const b = brief || {};
  return { headline: b.headline, summary: b.summary, keyPoints: b.keyPoints };
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
$("submitjob").addEventListener("click", submitJob);
$("canceljob").addEventListener("click", cancelJob);
// polling stops when the page is left, and goes on if it is come back to (back/forward cache)
window.addEventListener("pagehide", () => {
  if (watching) clearTimeout(watching.timer);
});
window.addEventListener("pageshow", (e) => {
  if (e.persisted && watching) schedule(watching, 1);
});
$("apikey").addEventListener("change", loadCapabilities);
loadCapabilities();
