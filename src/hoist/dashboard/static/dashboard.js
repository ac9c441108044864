// The dashboard's few behaviours: reveal toggles, confirmations, live logs over
// EventSource, and refreshing the dynos and metrics fragments. No libraries.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

document.addEventListener("click", (e) => {
  const btn = e.target.closest("[data-reveal]");
  if (!btn) return;
  const row = btn.closest("tr");
  const value = row.querySelector(".value"), masked = row.querySelector(".masked");
  const show = value.hidden;
  value.hidden = !show;
  masked.hidden = show;
  btn.textContent = show ? "Hide" : "Reveal";
});

document.addEventListener("submit", (e) => {
  const msg = e.target.dataset.confirm;
  if (msg && !window.confirm(msg)) e.preventDefault();
});

function startLogs(pane) {
  const app = pane.dataset.app;
  const status = document.getElementById("log-status");
  const follow = document.getElementById("log-follow");
  const dyno = document.getElementById("log-dyno"), source = document.getElementById("log-source");
  let source_ = null, retry = null, first = true;

  function append(text) {
    const div = document.createElement("div");
    div.textContent = text;  // never innerHTML: log lines are untrusted
    const m = / (\w+)\[([^\]]+)\]:/.exec(text);
    if (m) div.className = m[2] === "router" ? "router" : m[1];
    pane.appendChild(div);
    while (pane.childNodes.length > 1000) pane.removeChild(pane.firstChild);
    if (follow.checked) pane.scrollTop = pane.scrollHeight;
  }

  async function connect() {
    if (source_) source_.close();
    clearTimeout(retry);
    status.textContent = "connecting…";
    const body = {tail: true, lines: first ? 100 : 0, dyno: dyno.value || null, source: source.value || null};
    try {
      const r = await fetch(`/dashboard/apps/${encodeURIComponent(app)}/log-session`, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()}, body: JSON.stringify(body)});
      if (!r.ok) { status.textContent = (await r.json()).message || "log stream refused"; return; }
      const {url} = await r.json();
      first = false;
      source_ = new EventSource(url);
      source_.onopen = () => { status.textContent = "live"; };
      source_.onmessage = (ev) => append(ev.data);
      source_.onerror = () => {  // the session URL is short-lived: ask for a new one
        source_.close();
        status.textContent = "reconnecting…";
        retry = setTimeout(connect, 2000);
      };
    } catch (err) {
      status.textContent = "reconnecting…";
      retry = setTimeout(connect, 3000);
    }
  }

  function restart() { pane.textContent = ""; first = true; connect(); }
  dyno.addEventListener("change", restart);
  source.addEventListener("change", restart);
  document.getElementById("log-clear").addEventListener("click", () => { pane.textContent = ""; });
  connect();
}

function refreshParts() {
  document.querySelectorAll("[data-refresh]").forEach(async (el) => {
    if (document.hidden) return;
    try {
      const r = await fetch(el.dataset.refresh, {credentials: "same-origin"});
      if (r.ok) el.innerHTML = await r.text();  // server-rendered, escaped HTML from this origin
    } catch (err) { /* the next tick tries again */ }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const pane = document.getElementById("log-lines");
  if (pane) startLogs(pane);
  if (document.querySelector("[data-refresh]")) setInterval(refreshParts, 3000);
});

// Copy a dataclip URL or formula: the clipboard when the browser allows it, else the text is selected.
document.addEventListener("click", async (e) => {
  const btn = e.target.closest("[data-copy]");
  if (!btn) return;
  const input = document.getElementById(btn.dataset.copy);
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    btn.textContent = "Copied";
  } catch (err) {
    btn.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => { btn.textContent = "Copy"; }, 2000);
});

// A running build's log: server-sent events until the build ends (then its status).
document.addEventListener("DOMContentLoaded", () => {
  const pane = document.getElementById("build-log");
  if (!pane || !pane.dataset.stream) return;
  const status = document.getElementById("build-status");
  const events = new EventSource(pane.dataset.stream);
  events.onmessage = (ev) => {
    pane.appendChild(document.createTextNode(ev.data + "\n"));  // text, never markup
    pane.scrollTop = pane.scrollHeight;
  };
  events.addEventListener("end", (ev) => {
    events.close();
    const [state, ...took] = ev.data.split(" ");
    status.textContent = took.length ? `${state} in ${took.join(" ")}` : state;
  });
  events.onerror = () => { events.close(); status.textContent += " (stream interrupted: reload the page)"; };
});
