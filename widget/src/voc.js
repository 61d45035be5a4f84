// vocsite widget: asks the survey the server decided on, keeps a Feedback tab within reach,
// and never loses an answer (failed sends wait in localStorage and retry, same submission_id).
// Everything renders inside a Shadow DOM; text is set with textContent only.

const script = document.currentScript || document.querySelector("script[data-key]");
const KEY = script && script.dataset.key;
const API = (script && (script.dataset.api || new URL(script.src, location.href).origin)) || "";
const VERSION = "1.0.0";

const store = {
  get(name, fallback) {
    try {
      const value = localStorage.getItem("voc_" + name);
      return value == null ? fallback : JSON.parse(value);
    } catch (e) {
      return fallback;
    }
  },
  set(name, value) {
    try {
      localStorage.setItem("voc_" + name, JSON.stringify(value));
    } catch (e) {
      /* private mode: keep going without persistence */
    }
  },
};

const uuid = () =>
  crypto.randomUUID
    ? crypto.randomUUID()
    : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
        (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16),
      );

let visitorId = store.get("vid") || uuid();
store.set("vid", visitorId);
let userId = store.get("uid", null);
let userHash = store.get("uhash", null); // HMAC of userId by the company's server
let attributes = store.get("attrs", {});
let config = { theme: {}, feedback_tab: { enabled: false } };
let open = null; // the survey on screen, if any
let heldBack = null; // why the server refuses this page (origin_not_allowed…), once known

// Fixed texts come from the server's catalogue: a survey brings its own (in its language),
// the Feedback tab takes the config's in the visitor's language if the project speaks it.
const primary = (locale) => String(locale || "").toLowerCase().split(/[-_]/)[0];
function tabLanguage() {
  const project = config.project || {};
  const wanted = primary(navigator.language);
  return (project.languages || []).find((lang) => primary(lang) === wanted) || project.default_language;
}

// ------------------------------------------------------------------ network and outbox

function post(path, body) {
  return fetch(API + "/api/widget/v1/" + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ key: KEY, ...body }),
    keepalive: true,
  });
}

let outbox = store.get("outbox", []);
let flushing = false;
let retryDelay = 2000;

// Answers and feedback go through the outbox: kept until the server accepts them (2xx) or
// refuses them for good (4xx other than 429). Retries reuse the same body, so the same id.
function send(path, body) {
  outbox.push({ path, body });
  store.set("outbox", outbox);
  return flush();
}

async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    while (outbox.length) {
      const item = outbox[0];
      let done = false;
      try {
        const response = await post(item.path, item.body);
        done = response.ok || (response.status >= 400 && response.status < 500 && response.status !== 429);
      } catch (e) {
        done = false;
      }
      if (!done) {
        setTimeout(flush, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 60000);
        break;
      }
      retryDelay = 2000;
      outbox = store.get("outbox", []).filter((x) => x.body.submission_id !== item.body.submission_id || x.path !== item.path);
      store.set("outbox", outbox);
    }
  } finally {
    flushing = false;
  }
}

// ------------------------------------------------------------------ rendering helpers

function el(tag, props, children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children || []) if (child) node.append(child);
  return node;
}

const CSS = `
:host{all:initial;--c:#2563eb;--t:#fff}
*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"PingFang SC","Microsoft YaHei",sans-serif}
.card{position:fixed;right:20px;bottom:20px;width:380px;max-width:calc(100vw - 24px);background:#fff;color:#111827;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.18);padding:20px;z-index:2147483646;animation:in .25s ease-out}
@keyframes in{from{transform:translateY(16px);opacity:0}}
.q{margin:0 28px 14px 0;font-size:16px;font-weight:600;line-height:1.4}
.x{position:absolute;top:10px;right:10px;border:0;background:none;font-size:22px;line-height:1;color:#6b7280;cursor:pointer;padding:6px;border-radius:6px}
.scale{display:grid;gap:5px;grid-template-columns:repeat(var(--n),1fr)}
.b{border:1px solid #d1d5db;background:#fff;color:#111827;border-radius:8px;min-height:40px;font-size:15px;cursor:pointer;padding:6px}
.b:hover,.b[aria-pressed=true]{background:var(--c);border-color:var(--c);color:var(--t)}
.b:focus-visible,.x:focus-visible,.go:focus-visible,textarea:focus-visible,select:focus-visible{outline:3px solid var(--c);outline-offset:2px}
.ends{display:flex;justify-content:space-between;font-size:12px;color:#6b7280;margin-top:6px}
.list{display:grid;gap:6px}
.list .b{text-align:left;padding:10px 12px}
textarea{width:100%;min-height:84px;border:1px solid #d1d5db;border-radius:8px;padding:10px;font-size:15px;resize:vertical}
select{width:100%;border:1px solid #d1d5db;border-radius:8px;padding:8px;font-size:15px;margin-bottom:8px;background:#fff}
.go{margin-top:12px;width:100%;border:0;border-radius:8px;background:var(--c);color:var(--t);font-size:15px;font-weight:600;min-height:42px;cursor:pointer}
.go:disabled{opacity:.45;cursor:default}
.foot{margin-top:12px;display:flex;justify-content:space-between;align-items:center;font-size:12px;color:#9ca3af}
.foot button{border:0;background:none;color:#6b7280;text-decoration:underline;font-size:12px;cursor:pointer;padding:4px 0}
.thanks{font-size:16px;font-weight:600;text-align:center;padding:18px 8px}
.tab{position:fixed;right:0;top:50%;transform:translateY(-50%) rotate(-90deg);transform-origin:bottom right;background:var(--c);color:var(--t);border:0;border-radius:8px 8px 0 0;padding:8px 14px;font-size:14px;font-weight:600;cursor:pointer;z-index:2147483645}
.tab.upright{transform:translateY(-50%);writing-mode:vertical-rl;text-orientation:upright;border-radius:8px 0 0 8px;padding:14px 8px;letter-spacing:2px}
@media (max-width:480px){.card{left:0;right:0;bottom:0;width:100%;max-width:100%;border-radius:16px 16px 0 0;padding:18px 14px 20px}.scale.nps{grid-template-columns:repeat(6,1fr)}}
`;

// The server's colours (surveys/tenancy/theme.py): the accent and the text that reads on it;
// the project's on the host (the Feedback tab), a survey's own on its card.
function paint(node, theme) {
  if (theme && theme.primary_color) node.style.setProperty("--c", theme.primary_color);
  if (theme && theme.text_color) node.style.setProperty("--t", theme.text_color);
}

let root = null;
function shadow() {
  if (!root) {
    const host = el("div", { id: "voc-widget-root" });
    document.body.append(host);
    root = host.attachShadow({ mode: "open" });
    root.append(el("style", { text: CSS }));
  }
  paint(root.host, config.theme);
  return root;
}

// ------------------------------------------------------------------ the survey

// surveys/design/show_if.py's rule (BOUNDS, PAYLOAD_TARGET), run as the person answers;
// tests/surveys/test_widget_script.py runs both over the same cases.
function visible(question, answers) {
  const rule = question.show_if;
  if (!rule) return true;
  const value = answers[rule.question_id];
  return typeof value === "number" && value >= rule.min && value <= rule.max;
}

// The counter's "2 / 3": the questions this person sees, as far as their answers tell. One
// whose show_if names a question not reached yet counts until that answer hides it.
function progress(questions, answers, at) {
  const place = new Map(questions.map((q, i) => [q.id, i]));
  const ahead = (rule) => place.has(rule.question_id) && place.get(rule.question_id) >= at;
  const counted = questions.map((q, i) => i === at || visible(q, answers) || (!!q.show_if && ahead(q.show_if)));
  return [counted.slice(0, at + 1).filter(Boolean).length, counted.filter(Boolean).length];
}

function render(displayId, survey, preview) {
  close(false);
  const T = survey.texts;
  const answers = {};
  const submissionId = uuid();
  const card = el("div", { class: "card voc-survey", role: "dialog", "aria-modal": "false", "aria-labelledby": "voc-q" });
  paint(card, survey.theme);
  const state = { displayId, card, answered: false, timer: null };
  open = state;
  const dismiss = () => {
    if (!preview && !state.finished) post(`displays/${displayId}/dismissed`, {}).catch(() => {});
    close(true);
  };
  state.dismiss = dismiss;
  const closeButton = el("button", { class: "x voc-close", "aria-label": T.close, text: "×", onclick: dismiss });
  const body = el("div");
  card.append(closeButton, body);
  card.addEventListener("keydown", (event) => event.key === "Escape" && dismiss());
  shadow().append(card);

  const questions = survey.questions;
  const nextIndex = (from) => {
    for (let i = from; i < questions.length; i++) if (visible(questions[i], answers)) return i;
    return -1;
  };
  const interacted = () => {
    state.answered = true;
    clearTimeout(state.timer);
  };

  const finish = () => {
    state.finished = true;
    if (!preview) {
      const list = Object.entries(answers).map(([id, value]) => ({ question_id: +id, value }));
      send("responses", { display_id: displayId, submission_id: submissionId, answers: list, finished: true });
    }
    body.replaceChildren(el("p", { class: "thanks voc-thanks", role: "status", "aria-live": "polite", text: survey.thank_you || T.thanks }));
    setTimeout(() => open === state && close(true), 3500);
  };

  const step = (index) => {
    const q = questions[index];
    const after = () => {
      const next = nextIndex(index + 1);
      if (next < 0) return finish();
      if (!preview) {
        const list = Object.entries(answers).map(([id, value]) => ({ question_id: +id, value }));
        post("responses", { display_id: displayId, submission_id: submissionId, answers: list, finished: false }).catch(() => {});
      }
      step(next);
    };
    const last = nextIndex(index + 1) < 0;
    const title = el("p", { class: "q voc-q", id: "voc-q", text: q.text });
    const parts = [title];
    const go = el("button", { class: "go voc-next", text: last ? T.submit : T.next, onclick: after });
    const pick = (value, auto) => {
      interacted();
      answers[q.id] = value;
      go.disabled = false;
      if (auto) after();
    };
    const scale = q.scale; // resolved by the server (surveys/design/payload.py): no default here
    if (q.type === "yes_no") {
      parts.push(el("div", { class: "scale", style: "--n:2", role: "group", "aria-labelledby": "voc-q" }, [
        el("button", { class: "b voc-scale-btn", text: T.yes, onclick: () => pick(1, true) }),
        el("button", { class: "b voc-scale-btn", text: T.no, onclick: () => pick(0, true) }),
      ]));
    } else if (scale) {
      const buttons = [];
      for (let v = scale.min; v <= scale.max; v++) {
        const label = q.style === "stars" ? "★".repeat(v) : String(v);
        buttons.push(el("button", { class: "b voc-scale-btn", "aria-label": `${v} / ${scale.max}`, text: q.style === "stars" ? "★" : label, onclick: () => pick(v, true) }));
      }
      parts.push(el("div", { class: "scale" + (q.type === "nps" ? " nps" : ""), style: `--n:${buttons.length}`, role: "group", "aria-labelledby": "voc-q" }, buttons));
      const labels = q.labels || {};
      parts.push(el("div", { class: "ends", "aria-hidden": "true" }, [
        el("span", { text: labels.min || (q.type === "nps" ? T.low : "") }),
        el("span", { text: labels.max || (q.type === "nps" ? T.high : "") }),
      ]));
    } else if (q.type === "single_choice" || q.type === "multi_choice") {
      const multi = q.type === "multi_choice";
      const chosen = new Set();
      const items = q.choices.map((choice) => {
        const button = el("button", { class: "b voc-choice", "aria-pressed": "false", text: choice.text });
        button.addEventListener("click", () => {
          if (!multi) return pick(choice.id, true);
          chosen.has(choice.id) ? chosen.delete(choice.id) : chosen.add(choice.id);
          button.setAttribute("aria-pressed", String(chosen.has(choice.id)));
          if (chosen.size) pick([...chosen], false);
          else {
            delete answers[q.id];
            go.disabled = q.required;
          }
        });
        return button;
      });
      parts.push(el("div", { class: "list", role: "group", "aria-labelledby": "voc-q" }, items));
      if (multi) parts.push(go);
    } else {
      const area = el("textarea", { class: "voc-text", maxlength: "5000", "aria-labelledby": "voc-q", placeholder: T.placeholder });
      area.addEventListener("input", () => {
        interacted();
        const text = area.value.trim();
        if (text) answers[q.id] = area.value;
        else delete answers[q.id];
        go.disabled = q.required && !text;
      });
      parts.push(area, go);
    }
    go.disabled = q.required && answers[q.id] == null;
    const [position, total] = progress(questions, answers, index);
    const foot = el("div", { class: "foot" }, [
      preview ? null : el("button", { class: "voc-optout", text: T.optout, onclick: () => { post("opt-out", who()).catch(() => {}); close(true); } }),
      el("span", { class: "voc-progress", text: total > 1 ? `${position} / ${total}` : "" }),
    ]);
    parts.push(foot);
    body.replaceChildren(...parts);
    const first = body.querySelector("button,textarea");
    if (first) first.focus({ preventScroll: true });
  };

  step(nextIndex(0));
  if (!preview) post(`displays/${displayId}/shown`, {}).catch(() => {});
  if (survey.auto_close_seconds) state.timer = setTimeout(() => !state.answered && dismiss(), survey.auto_close_seconds * 1000);
}

function close(animate) {
  if (!open) return;
  clearTimeout(open.timer);
  open.card.remove();
  open = null;
}

const who = () => ({ visitor_id: visitorId, ...(userId ? { user_id: userId, ...(userHash ? { user_hash: userHash } : {}) } : {}) });

// ------------------------------------------------------------------ the Feedback tab

function feedbackTab() {
  const tab = config.feedback_tab || {};
  if (!tab.enabled) return;
  const lang = tabLanguage();
  const label = typeof tab.label === "string" ? tab.label : (tab.label && (tab.label[lang] || tab.label.en)) || config.texts[lang].feedback;
  // Chinese, Japanese and Korean read top to bottom, upright; a Latin label is turned on its side.
  const upright = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]/.test(label);
  shadow().append(el("button", { class: "tab voc-feedback-tab" + (upright ? " upright" : ""), "aria-haspopup": "dialog", text: label, onclick: openFeedback }));
}

function openFeedback() {
  if (open && !open.feedback) return;
  close(false);
  const card = el("div", { class: "card voc-feedback-panel", role: "dialog", "aria-labelledby": "voc-fq" });
  const state = { card, feedback: true };
  open = state;
  const T = config.texts[tabLanguage()];
  const select = el("select", { "aria-label": T.feedback }, Object.entries(T.categories).map(([value, text]) => el("option", { value, text })));
  let rating = null;
  const stars = [1, 2, 3, 4, 5].map((v) =>
    el("button", { class: "b voc-rating", "aria-label": `${T.rating} ${v} / 5`, "aria-pressed": "false", text: "★", onclick: () => {
      rating = v;
      stars.forEach((s, i) => s.setAttribute("aria-pressed", String(i < v)));
    } }),
  );
  const area = el("textarea", { class: "voc-feedback-text", maxlength: "5000", "aria-labelledby": "voc-fq", placeholder: T.placeholder });
  const sendButton = el("button", { class: "go voc-feedback-send", text: T.send, disabled: "" });
  area.addEventListener("input", () => (sendButton.disabled = !area.value.trim()));
  sendButton.addEventListener("click", () => {
    send("feedback", { ...who(), submission_id: uuid(), category: select.value, rating, text: area.value, url: location.href });
    card.replaceChildren(el("p", { class: "thanks voc-thanks", role: "status", "aria-live": "polite", text: T.sent }));
    setTimeout(() => open === state && close(true), 2500);
  });
  const dismiss = () => close(true);
  card.addEventListener("keydown", (event) => event.key === "Escape" && dismiss());
  card.append(
    el("button", { class: "x voc-close", "aria-label": T.close, text: "×", onclick: dismiss }),
    el("p", { class: "q", id: "voc-fq", text: T.feedback }),
    select,
    el("div", { class: "scale", style: "--n:5", role: "group", "aria-label": T.rating }, stars),
    el("div", { style: "height:8px" }),
    area,
    sendButton,
  );
  shadow().append(card);
  select.focus();
}

// ------------------------------------------------------------------ public API

// Why the server refused a call (origin_not_allowed, identity_unverified…), told to the
// developer in the console; returns the error code.
async function refused(response) {
  const code = ((await response.json().catch(() => null)) || {}).error?.code || `http_${response.status}`;
  const hint = code === "origin_not_allowed" ? ` — add ${location.origin} to the project's allowed origins (Settings)` : "";
  console.warn(`vocsite: held back on ${location.origin}: ${code}${hint}`);
  return code;
}

const api = {
  version: VERSION,
  identify(id, attrs, hash) {
    userId = id == null ? null : String(id);
    userHash = userId && hash ? String(hash) : null;
    attributes = { ...attributes, ...(attrs || {}) };
    store.set("uid", userId);
    store.set("uhash", userHash);
    store.set("attrs", attributes);
  },
  async track(touchpoint) {
    if (!KEY) return;
    if (heldBack) return { show: false, reason: heldBack };
    const response = await post("decide", { ...who(), attributes, touchpoint, url: location.href, locale: navigator.language });
    if (!response.ok) return { show: false, reason: await refused(response) };
    const decision = await response.json();
    if (!decision.show) console.debug(`vocsite: nothing shown at ${touchpoint}: ${decision.reason}`);
    if (decision.show) setTimeout(() => render(decision.display_id, decision.survey, false), (decision.survey.delay_seconds || 0) * 1000);
    return decision;
  },
  reset() {
    userId = null;
    userHash = null;
    store.set("uhash", null);
    attributes = {};
    visitorId = uuid();
    store.set("uid", null);
    store.set("attrs", {});
    store.set("vid", visitorId);
  },
  openFeedback,
  preview(survey) {
    render("preview", survey, true);
  },
};

async function start() {
  const queued = (window.voc && window.voc.q) || [];
  window.voc = api;
  addEventListener("online", flush);
  flush();
  if (KEY) {
    try {
      const response = await fetch(`${API}/api/widget/v1/config?key=${encodeURIComponent(KEY)}`);
      if (response.ok) config = await response.json();
      else if (response.status >= 400 && response.status < 500 && response.status !== 429) heldBack = await refused(response);
    } catch (e) {
      /* offline: surveys still queue, the tab waits for the next page */
    }
  }
  feedbackTab();
  for (const args of queued) {
    const [method, ...rest] = Array.from(args);
    if (typeof api[method] === "function") api[method](...rest);
  }
}

document.readyState === "loading" ? document.addEventListener("DOMContentLoaded", start) : start();
