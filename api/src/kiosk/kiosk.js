// The check-in kiosk: a tablet at the venue shows the shift's rotating check-in code as a QR
// image and a PIN, with the live count of people checked in. It holds a kiosk key that staff
// issued for the event (never a staff session): the key can show the event's codes and read its
// shifts, nothing else. The key comes in the link's fragment (`#key=…`, which the browser never
// sends to a server) or is typed in, and is kept in this tab only (sessionStorage).
'use strict';

const shiftId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const store = window.sessionStorage;
const $ = (id) => document.getElementById(id);

const CODE = `mutation($s: ID!) { issueCheckInCode(shiftId: $s) { qrPayload qrSvg pin refreshAt expiresAt } }`;
const SHIFT = `query($s: ID!) { shift(id: $s) { startsAt endsAt checkedInCount confirmedCount capacity event { title } } }`;

let codeTimer = null;
let countTimer = null;
let tick = null;
let refreshAt = 0;
// Bumped by start() and stop(): an answer that arrives for an older run schedules nothing.
let run = 0;

class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

async function gql(query, variables) {
  const headers = {
    'Content-Type': 'application/json',
    Accept: 'application/graphql-response+json, application/json',
  };
  const key = store.getItem('tx.kiosk');
  if (key) headers.Authorization = `Bearer ${key}`;
  const res = await fetch('/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors && body.errors.length) {
    const e = body.errors[0];
    throw new ApiError(e.message, e.extensions && e.extensions.code);
  }
  return body.data;
}

function saveKey(key) {
  store.setItem('tx.kiosk', key.trim());
}

function clearKey() {
  store.removeItem('tx.kiosk');
}

function stop() {
  run += 1;
  clearTimeout(codeTimer);
  clearTimeout(countTimer);
  clearInterval(tick);
}

function showLogin(message) {
  stop();
  $('kiosk').hidden = true;
  $('login').hidden = false;
  $('key-error').textContent = message || '';
}

function explain(e) {
  switch (e.code) {
    case 'UNAUTHENTICATED':
      return '密钥无效、已撤销或已过期。The kiosk key is unknown, revoked or expired.';
    case 'FORBIDDEN':
    case 'NOT_FOUND':
      return '此密钥不能用于这个班次。This key is not for this shift.';
    case 'RATE_LIMITED':
      return '尝试次数过多，请稍后再试。Too many attempts; try again shortly.';
    default:
      return e.message || String(e);
  }
}

function failed(e) {
  if (e.code === 'UNAUTHENTICATED' || e.code === 'FORBIDDEN' || e.code === 'NOT_FOUND') {
    clearKey();
    showLogin(explain(e));
    return true;
  }
  $('status').textContent = `网络异常，正在重试… ${explain(e)}`;
  return false;
}

async function showCode() {
  const mine = run;
  clearTimeout(codeTimer);
  try {
    const c = (await gql(CODE, { s: shiftId })).issueCheckInCode;
    if (mine !== run) return;
    const qr = $('qr');
    qr.innerHTML = c.qrSvg; // an SVG document the server drew from the code
    qr.dataset.payload = c.qrPayload;
    $('pin').textContent = c.pin;
    $('status').textContent = '';
    const rotation = Date.parse(c.expiresAt) - Date.parse(c.refreshAt);
    refreshAt = Date.parse(c.refreshAt);
    // The tablet's clock may differ from the server's: never wait longer than one rotation,
    // never poll faster than once a second.
    const wait = Math.min(Math.max(refreshAt - Date.now() + 200, 1000), rotation);
    codeTimer = setTimeout(showCode, wait);
  } catch (e) {
    if (mine === run && !failed(e)) codeTimer = setTimeout(showCode, 3000);
  }
}

async function showCount() {
  const mine = run;
  clearTimeout(countTimer);
  try {
    const s = (await gql(SHIFT, { s: shiftId })).shift;
    if (mine !== run) return;
    if (!s) throw new ApiError('no such shift', 'NOT_FOUND');
    $('event-title').textContent = s.event.title;
    const fmt = (t) => new Date(t).toLocaleString('zh-CN', { hour12: false });
    $('shift-time').textContent = `${fmt(s.startsAt)} – ${fmt(s.endsAt)}`;
    $('checked-in').textContent = String(s.checkedInCount);
    $('confirmed').textContent = String(s.confirmedCount);
    countTimer = setTimeout(showCount, 3000);
  } catch (e) {
    if (mine === run && !failed(e)) countTimer = setTimeout(showCount, 5000);
  }
}

function start() {
  stop();
  $('login').hidden = true;
  $('kiosk').hidden = false;
  showCode();
  showCount();
  tick = setInterval(() => {
    $('countdown').textContent = String(Math.max(0, Math.ceil((refreshAt - Date.now()) / 1000)));
  }, 500);
}

$('key-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  $('key-error').textContent = '';
  saveKey($('key').value);
  $('key').value = '';
  start();
});

$('logout').addEventListener('click', () => {
  clearKey();
  showLogin('');
});

// A link with the key in its fragment: keep the key, take it out of the address bar. Also when
// the link is opened in a tab already on this page (only the fragment changes).
function keyFromLink() {
  const key = new URLSearchParams(location.hash.slice(1)).get('key');
  if (!key) return false;
  saveKey(key);
  history.replaceState(null, '', location.pathname);
  return true;
}
window.addEventListener('hashchange', () => {
  if (keyFromLink()) start();
});
keyFromLink();
if (store.getItem('tx.kiosk')) start();
else showLogin('');
