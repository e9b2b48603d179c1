// La Factoria studio: the public GraphQL API (/graphql), used by hand. No framework, no build.
// Text from the server is only ever inserted as text (textContent), never as HTML.

const API = "/graphql";
const TOKEN = "lafactoria.token";
const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

// ---- GraphQL over HTTP --------------------------------------------------------------------

async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json" };
  const token = sessionStorage.getItem(TOKEN);
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(API, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json().catch(() => null);
  if (!body) throw new ApiError(`The server answered HTTP ${response.status}.`, "HTTP_ERROR");
  if (body.errors?.length) {
    const [first] = body.errors;
    if (first.extensions?.code === "UNAUTHENTICATED") showLogin("Your session has ended: log in again.");
    throw new ApiError(first.message, first.extensions?.code);
  }
  return body.data;
}

function firstUserError(payload) {
  const [error] = payload.userErrors ?? [];
  return error ? new ApiError(error.message, error.code) : null;
}

// ---- GraphQL subscriptions over WebSocket (graphql-transport-ws) --------------------------

/** Runs one subscription on its own connection; returns a function that stops it. */
function subscribe(query, variables, { next, error, complete }) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${API}`, "graphql-transport-ws");
  const send = (message) => socket.send(JSON.stringify(message));
  let finished = false;
  const finish = (callback, value) => {
    if (finished) return;
    finished = true;
    socket.close(1000);
    callback?.(value);
  };
  socket.onopen = () => {
    const token = sessionStorage.getItem(TOKEN);
    send({ type: "connection_init", payload: token ? { Authorization: `Bearer ${token}` } : {} });
  };
  socket.onmessage = ({ data }) => {
    const message = JSON.parse(data);
    const errorOf = (errors) => new ApiError(errors?.[0]?.message ?? "refused", errors?.[0]?.extensions?.code);
    switch (message.type) {
      case "connection_ack":
        send({ id: "1", type: "subscribe", payload: { query, variables } });
        break;
      case "ping":
        send({ type: "pong" });
        break;
      case "next":
        if (message.payload.errors?.length) finish(error, errorOf(message.payload.errors));
        else next(message.payload.data);
        break;
      case "error":
        finish(error, errorOf(message.payload));
        break;
      case "complete":
        finish(complete);
        break;
    }
  };
  socket.onclose = (event) => {
    if (finished) return;
    finished = true;
    const refused = event.code === 4401 || event.code === 4403;
    error?.(new ApiError(`The connection closed (${event.code}).`, refused ? "UNAUTHENTICATED" : "CLOSED"));
  };
  return () => finish(null);
}

// ---- Accounts -----------------------------------------------------------------------------

const LOGIN = `mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken user { email } userErrors { message code } } }`;
const REGISTER = `mutation Register($input: RegisterInput!) {
  register(input: $input) { user { id } userErrors { message code } } }`;

async function logIn(form, { register = false } = {}) {
  const input = { email: form.email.value, password: form.password.value };
  if (register) {
    const error = firstUserError((await gql(REGISTER, { input })).register);
    if (error) throw error;
  }
  const payload = (await gql(LOGIN, { input })).login;
  const error = firstUserError(payload);
  if (error) throw error;
  sessionStorage.setItem(TOKEN, payload.accessToken);
  form.password.value = "";
  await showWorkspace(payload.user.email);
}

function showLogin(message = "") {
  sessionStorage.removeItem(TOKEN);
  stopFollowing?.();
  $("auth-panel").hidden = false;
  $("workspace").hidden = $("account").hidden = true;
  $("auth-error").textContent = message;
}

async function showWorkspace(email) {
  $("viewer-email").textContent = email;
  $("auth-panel").hidden = true;
  $("workspace").hidden = $("account").hidden = false;
  $("auth-error").textContent = "";
  await loadContents();
}

// ---- Generating and following a job --------------------------------------------------------

const GENERATE = `mutation Generate($input: GenerateContentInput!) {
  generateContent(input: $input) { job { id } userErrors { field message code } } }`;
const PROGRESS = `subscription Progress($jobId: ID!, $after: Int!) {
  generationProgress(jobId: $jobId, afterSequence: $after) {
    sequence kind progress message textDelta discardText error { code message } content { id title } } }`;

let stopFollowing = null;

async function generate(form) {
  const input = Object.fromEntries(new FormData(form));
  if (!input.additionalRequirements.trim()) delete input.additionalRequirements;
  const payload = (await gql(GENERATE, { input })).generateContent;
  const error = firstUserError(payload);
  if (error) throw error;
  $("job").hidden = false;
  $("job-progress").value = 0;
  $("job-text").textContent = "";
  setStatus("Queued…");
  follow(payload.job.id);
}

/** Follows a job's events; a dropped connection resumes after the last event seen. */
function follow(jobId, after = 0, retries = 3) {
  stopFollowing?.();
  let last = after;
  stopFollowing = subscribe(PROGRESS, { jobId, after }, {
    next: ({ generationProgress: event }) => {
      last = event.sequence;
      showEvent(event);
    },
    error: (error) => {
      if (error.code === "CLOSED" && retries > 0) setTimeout(() => follow(jobId, last, retries - 1), 1000);
      else setStatus(error.message, "failed");
    },
  });
}

function showEvent(event) {
  const bar = $("job-progress");
  bar.value = Math.max(bar.value, event.progress);
  $("job-percent").textContent = `${Math.round(bar.value * 100)}%`;
  const text = $("job-text");
  if (event.discardText) text.textContent = "";
  if (event.textDelta) {
    text.textContent += event.textDelta;
    text.scrollTop = text.scrollHeight;
  }
  if (event.kind === "SUCCEEDED") {
    setStatus(`Done: ${event.content.title}`, "succeeded");
    loadContents().then(() => openContent(event.content.id));
  } else if (event.kind === "FAILED" || event.kind === "CANCELLED") {
    setStatus(`${event.kind === "FAILED" ? "Failed" : "Cancelled"} (${event.error.code}): ${event.error.message}`, "failed");
  } else if (event.message) {
    setStatus(event.message);
  }
}

function setStatus(message, state = "running") {
  const status = $("job-status");
  status.textContent = message;
  status.dataset.state = state;
}

// ---- Browsing, reading, downloading and deleting --------------------------------------------

const CONTENTS = `query Contents { contents(first: 100) {
  totalCount edges { node { id title contentType audienceLevel createdAt } } } }`;
const CONTENT = `query Content($id: ID!) { content(id: $id) {
  id title contentType audienceLevel provider model createdAt markdown
  exports { format label fileName url } } }`;
const DELETE = `mutation Delete($id: ID!) { deleteContent(id: $id) { deletedId userErrors { message code } } }`;
const LABELS = {
  STUDY_GUIDE: "Study guide", FLASHCARDS: "Flashcards", QUIZ: "Quiz", PODCAST: "Podcast script",
  ELEMENTARY: "elementary", MIDDLE_SCHOOL: "middle school", HIGH_SCHOOL: "high school", COLLEGE: "college",
};
let openId = null;

async function loadContents() {
  const { contents } = await gql(CONTENTS);
  const list = $("content-list");
  list.replaceChildren(...contents.edges.map(({ node }) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "content-item";
    button.dataset.id = node.id;
    button.append(element("strong", node.title), element("span", describe(node)));
    button.addEventListener("click", () => openContent(node.id).catch(report));
    item.append(button);
    return item;
  }));
  $("content-count").textContent = `(${contents.totalCount})`;
  $("empty").hidden = contents.totalCount > 0;
  markOpen();
}

async function openContent(id) {
  const { content } = await gql(CONTENT, { id });
  if (!content) return closeReader();
  openId = id;
  $("reader-meta").textContent = `${describe(content)} · written by ${content.provider} (${content.model})`;
  $("downloads").replaceChildren(element("span", "Download"), ...content.exports.map((item) => {
    const button = element("button", item.label);
    button.type = "button";
    button.className = "secondary small";
    button.title = item.fileName;
    button.addEventListener("click", () => download(item).catch(report));
    return button;
  }));
  $("reader-body").replaceChildren(renderMarkdown(content.markdown));
  $("reader").hidden = false;
  markOpen();
}

function closeReader() {
  openId = null;
  $("reader").hidden = true;
  markOpen();
}

/** Exports need the bearer header, which a plain link cannot send: fetch, then save. */
async function download({ url, fileName }) {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${sessionStorage.getItem(TOKEN)}` } });
  if (!response.ok) throw new ApiError(`The download failed (HTTP ${response.status}).`);
  const link = element("a", "");
  link.href = URL.createObjectURL(await response.blob());
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

async function deleteOpen() {
  if (!openId) return;
  const error = firstUserError((await gql(DELETE, { id: openId })).deleteContent);
  if (error) throw error;
  closeReader();
  await loadContents();
}

function markOpen() {
  for (const button of document.querySelectorAll(".content-item")) {
    button.classList.toggle("open", button.dataset.id === openId);
  }
}

function describe(content) {
  const created = new Date(content.createdAt).toLocaleString();
  return `${LABELS[content.contentType]} · ${LABELS[content.audienceLevel]} · ${created}`;
}

function element(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}

// ---- A small, safe Markdown renderer (headings, lists, tables, paragraphs, emphasis) ---------

function renderMarkdown(markdown) {
  const root = document.createDocumentFragment();
  let block = null; // the open list or table
  let paragraph = [];
  const flush = () => {
    if (paragraph.length) root.append(inline(paragraph.join(" "), document.createElement("p")));
    paragraph = [];
  };
  const open = (tag) => {
    if (block?.tagName !== tag.toUpperCase()) root.append((block = document.createElement(tag)));
    return block;
  };
  for (const line of markdown.split("\n")) {
    let match;
    if ((match = line.match(/^(#{1,6})\s+(.*)$/))) {
      flush();
      block = null;
      root.append(inline(match[2], document.createElement(`h${Math.min(match[1].length + 1, 6)}`)));
    } else if ((match = line.match(/^\s*[-*+]\s+(.*)$/)) || (match = line.match(/^\s*\d+[.)]\s+(.*)$/))) {
      flush();
      open(/^\s*\d/.test(line) ? "ol" : "ul").append(inline(match[1], document.createElement("li")));
    } else if (line.startsWith("|")) {
      flush();
      if (/^\|[\s:|-]+\|\s*$/.test(line)) continue; // the header's delimiter row
      const row = document.createElement("tr");
      const header = block?.tagName !== "TABLE";
      for (const cell of line.trim().slice(1, -1).split(/(?<!\\)\|/)) {
        row.append(inline(cell.trim(), document.createElement(header ? "th" : "td")));
      }
      open("table").append(row);
    } else if (!line.trim()) {
      flush();
      block = null;
    } else {
      block = null;
      paragraph.push(line.trim());
    }
  }
  flush();
  return root;
}

/** Appends text with **strong**, *emphasis* and `code` to ``parent``; backslash escapes drop. */
function inline(text, parent) {
  const pattern = /\\([\\`*_{}[\]()#+\-.!|>~<])|\*\*(.+?)\*\*|`([^`]+)`|\*(.+?)\*|_(.+?)_/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    parent.append(text.slice(last, match.index));
    const [, escaped, strong, code, em, em2] = match;
    if (escaped) parent.append(escaped);
    else if (strong) parent.append(inline(strong, document.createElement("strong")));
    else if (code) parent.append(element("code", code));
    else parent.append(inline(em ?? em2, document.createElement("em")));
    last = match.index + match[0].length;
  }
  parent.append(text.slice(last));
  return parent;
}

// ---- Wiring ------------------------------------------------------------------------------

function report(error) {
  const target = $("workspace").hidden ? $("auth-error") : $("generate-error");
  target.textContent = error.message;
}

function handle(form, action, errorTarget) {
  return async (event) => {
    event?.preventDefault();
    errorTarget.textContent = "";
    const buttons = form.querySelectorAll("button");
    buttons.forEach((button) => (button.disabled = true));
    try {
      await action();
    } catch (error) {
      errorTarget.textContent = error.message;
    } finally {
      buttons.forEach((button) => (button.disabled = false));
    }
  };
}

const authForm = $("auth-form");
authForm.addEventListener("submit", handle(authForm, () => logIn(authForm), $("auth-error")));
$("register").addEventListener("click", () => {
  if (authForm.reportValidity()) handle(authForm, () => logIn(authForm, { register: true }), $("auth-error"))();
});
const generateForm = $("generate-form");
generateForm.addEventListener("submit", handle(generateForm, () => generate(generateForm), $("generate-error")));
$("logout").addEventListener("click", () => showLogin());
$("refresh").addEventListener("click", () => loadContents().catch(report));
$("delete").addEventListener("click", () => deleteOpen().catch(report));

if (sessionStorage.getItem(TOKEN)) {
  gql("query Viewer { viewer { email } }")
    .then(({ viewer }) => showWorkspace(viewer.email))
    .catch(() => showLogin());
} else {
  showLogin();
}
