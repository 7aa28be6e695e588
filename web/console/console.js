// The dbgrelay web console: one page, three views (targets, sessions, audit) over
// /console/api/. Everything is drawn with textContent (never innerHTML): names,
// labels and audit values come from agents and clients and are shown as text only.
'use strict';

const refreshMs = 2000;
let me = null;
let timer = null;
// Each draw takes a number; an answer that arrives after a newer draw started is dropped,
// so that a slow unfiltered audit page never overwrites the filtered one asked for next.
let drawing = 0;
// Sessions with an action (resume, end) sent and not yet answered: their buttons wait.
const acting = new Set();
// The targets view follows the relay's pages (500 targets each) up to this many.
const maxTargetPages = 20;

const $ = (id) => document.getElementById(id);

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text === undefined || text === null ? '' : String(text);
  if (className) td.className = className;
  return td;
}

function row(...cells) {
  const tr = document.createElement('tr');
  for (const c of cells) tr.append(c);
  return tr;
}

function emptyRow(columns, text) {
  const td = cell(text, 'empty');
  td.colSpan = columns;
  return row(td);
}

function since(ms, now) {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function showMessage(text, ok) {
  const message = $('message');
  message.textContent = text;
  message.className = ok ? 'ok' : '';
  message.hidden = !text;
}

async function call(path, options = {}) {
  const headers = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.method === 'POST' && me && me.csrfToken) headers['X-Dbgrelay-Csrf'] = me.csrfToken;
  const response = await fetch(path, {
    method: options.method || 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error((body.error && body.error.message) || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function currentView() {
  const view = location.hash.slice(1);
  return ['targets', 'sessions', 'audit'].includes(view) ? view : 'targets';
}

function showOnly(id) {
  for (const section of document.querySelectorAll('main > section')) section.hidden = section.id !== id;
  for (const link of document.querySelectorAll('nav a')) link.classList.toggle('current', link.dataset.view === id);
}

async function drawTargets(generation) {
  const targets = [];
  let now = Date.now();
  let next;
  for (let page = 0; page < maxTargetPages; page++) {
    const answer = await call(`/console/api/targets${next === undefined ? '' : `?after=${encodeURIComponent(next)}`}`);
    if (generation !== drawing) return;
    targets.push(...answer.targets);
    now = answer.now;
    next = answer.next;
    if (next === undefined) break;
  }
  const rows = targets.map((t) => {
    const labels = document.createElement('td');
    for (const [key, value] of Object.entries(t.labels || {})) {
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = `${key}=${value}`;
      labels.append(label);
    }
    return row(
      cell(t.name, 'mono'),
      cell(t.group || ''),
      cell(t.kind || 'agent'),
      cell(t.pid === undefined ? t.host : `${t.host} (pid ${t.pid})`),
      labels,
      cell(t.root || t.cwd || '', 'mono'),
      cell(t.debugger || (t.reachable === false ? 'unreachable' : '')),
      cell(t.sessions),
      cell(`${since(Date.parse(t.connectedAt), now)} ago`),
    );
  });
  $('targets-rows').replaceChildren(...(rows.length ? rows : [emptyRow(9, 'No target is connected.')]));
  $('targets-more').hidden = next === undefined;
}

function actionButton(text, className, onClick, disabled) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = text;
  if (className) button.className = className;
  button.disabled = Boolean(disabled);
  button.addEventListener('click', () => onClick(button));
  return button;
}

async function act(session, action, button) {
  // One action per session at a time: a second click waits for the relay's answer to the first.
  if (acting.has(session.id)) return;
  acting.add(session.id);
  button.disabled = true;
  try {
    await call(`/console/api/sessions/${encodeURIComponent(session.id)}/${action}`, { method: 'POST', body: {} });
    showMessage(action === 'end' ? `Ended session ${session.id}; the program keeps running.` : `Resumed the program of session ${session.id}.`, true);
  } catch (error) {
    showMessage(error.message);
  } finally {
    acting.delete(session.id);
  }
  await draw();
}

function showTakeover(session) {
  const hint = $('takeover-hint');
  hint.textContent = `To debug ${session.target} yourself, run: dbgrelay attach --takeover ${session.target} (with your admin credential); ${session.principal}'s session is ended first and the takeover is audited.`;
  hint.hidden = false;
}

async function drawSessions(generation) {
  const { sessions, now } = await call('/console/api/sessions');
  if (generation !== drawing) return;
  const rows = sessions.map((s) => {
    const paused = s.pausedSince !== undefined;
    const program = s.state !== 'running' ? cell(s.state) : cell(paused ? `paused for ${since(s.pausedSince, now)}` : 'running', paused ? 'paused' : 'running');
    const cells = [
      cell(s.id, 'mono'),
      cell(s.principal),
      cell(s.target, 'mono'),
      cell(s.policy || ''),
      cell(s.openedAt === undefined ? '' : `${since(s.openedAt, now)} ago`),
      program,
    ];
    if (me.admin) {
      const actions = document.createElement('td');
      actions.className = 'admin-only';
      actions.append(
        actionButton('Resume', '', (button) => act(s, 'resume', button), !paused || acting.has(s.id)),
        ' ',
        actionButton('End session', 'danger', (button) => act(s, 'end', button), s.state !== 'running' || acting.has(s.id)),
        ' ',
        actionButton('Take over', '', () => showTakeover(s)),
      );
      cells.push(actions);
    }
    return row(...cells);
  });
  $('sessions-rows').replaceChildren(...(rows.length ? rows : [emptyRow(me.admin ? 7 : 6, 'No session is open.')]));
}

async function drawAudit(generation) {
  const query = new URLSearchParams();
  for (const [key, value] of new FormData($('audit-form'))) if (String(value).trim()) query.set(key, String(value).trim());
  const { records, more, bounded, enabled } = await call(`/console/api/audit?${query}`);
  if (generation !== drawing) return;
  const rows = records.map((r) => {
    const { time, event, principal, target, session, ...rest } = r;
    const details = Object.entries(rest)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    return row(cell(time, 'mono nowrap'), cell(event), cell(principal), cell(target, 'mono'), cell(session, 'mono'), cell(details, 'mono details'));
  });
  const none = enabled ? 'No audit record matches.' : 'The audit log is off on this relay (audit.enabled).';
  $('audit-rows').replaceChildren(...(rows.length ? rows : [emptyRow(6, none)]));
  $('audit-more').hidden = !more;
  $('audit-more').textContent = bounded
    ? 'The relay stopped reading at its bound for one page (console.auditScanMaxBytes): older records may match too; dbgrelay audit on the relay host reads them all.'
    : 'Older records match too: narrow the filters to see them.';
}

async function draw() {
  const view = currentView();
  showOnly(view);
  try {
    const generation = ++drawing;
    if (view === 'targets') await drawTargets(generation);
    else if (view === 'sessions') await drawSessions(generation);
    else await drawAudit(generation);
  } catch (error) {
    if (error.status === 401) return showLogin();
    // The relay reads one audit page at a time: ask again shortly.
    if (error.status === 429 && view === 'audit') return setTimeout(() => currentView() === 'audit' && draw(), 1000);
    showMessage(error.message);
  }
}

function schedule() {
  clearInterval(timer);
  // The audit view is redrawn on demand (its filters), the others follow the relay.
  timer = setInterval(() => currentView() !== 'audit' && draw(), refreshMs);
}

function showLogin() {
  clearInterval(timer);
  me = null;
  document.body.classList.remove('is-admin');
  $('nav').hidden = true;
  $('who').hidden = true;
  showOnly('login');
  $('credential').focus();
}

async function start() {
  try {
    me = await call('/console/api/me');
  } catch (error) {
    if (error.status === 401) return showLogin();
    return showMessage(error.message);
  }
  document.body.classList.toggle('is-admin', me.admin);
  $('principal').textContent = me.principal;
  $('role').textContent = me.admin ? 'admin' : 'read-only';
  $('role').className = me.admin ? 'badge admin' : 'badge';
  $('nav').hidden = false;
  $('who').hidden = false;
  $('logout').hidden = !me.csrfToken;
  await draw();
  schedule();
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const field = $('credential');
  try {
    await call('/console/api/login', { method: 'POST', body: { credential: field.value } });
    field.value = '';
    showMessage('');
    await start();
  } catch (error) {
    field.value = '';
    showMessage(error.status === 401 ? 'The relay refused this secret or token.' : error.message);
  }
});

$('logout').addEventListener('click', async () => {
  await call('/console/api/logout', { method: 'POST', body: {} }).catch(() => undefined);
  showMessage('');
  showLogin();
});

$('audit-form').addEventListener('submit', (event) => {
  event.preventDefault();
  draw();
});

window.addEventListener('hashchange', () => draw());
start();
