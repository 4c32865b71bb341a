// The check-in kiosk: a tablet at the venue shows the shift's rotating check-in code as a QR
// image and a PIN, with the live count of people checked in. Staff sign in once; the session is
// kept in this tab only (sessionStorage) and refreshed before it lapses.
'use strict';

const shiftId = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const store = window.sessionStorage;
const $ = (id) => document.getElementById(id);

const CODE = `mutation($s: ID!) { issueCheckInCode(shiftId: $s) { qrPayload qrSvg pin refreshAt expiresAt } }`;
const SHIFT = `query($s: ID!) { shift(id: $s) { startsAt endsAt checkedInCount confirmedCount capacity event { title } } }`;
const LOGIN = `mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`;
const LOGOUT = `mutation($t: String!) { logout(refreshToken: $t) }`;

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

async function gql(query, variables, withToken = true) {
  const headers = {
    'Content-Type': 'application/json',
    Accept: 'application/graphql-response+json, application/json',
  };
  const token = store.getItem('tx.access');
  if (withToken && token) headers.Authorization = `Bearer ${token}`;
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

function saveSession(s) {
  store.setItem('tx.access', s.accessToken);
  store.setItem('tx.refresh', s.refreshToken);
}

function clearSession() {
  store.removeItem('tx.access');
  store.removeItem('tx.refresh');
}

// One refresh at a time: the code and the count may both find the token expired.
let refreshing = null;
function refreshSession() {
  if (!refreshing) {
    refreshing = (async () => {
      const token = store.getItem('tx.refresh');
      if (!token) return false;
      try {
        saveSession((await gql(REFRESH, { t: token }, false)).refreshToken);
        return true;
      } catch (e) {
        // Only a refused refresh token ends the session; a network blip keeps it for a retry.
        if (e.code === 'UNAUTHENTICATED') clearSession();
        return false;
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function authed(query, variables) {
  try {
    return await gql(query, variables);
  } catch (e) {
    if (e.code !== 'UNAUTHENTICATED' || !(await refreshSession())) throw e;
    return gql(query, variables);
  }
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
  $('login-error').textContent = message || '';
}

function explain(e) {
  switch (e.code) {
    case 'FORBIDDEN':
      return '该账号不是本活动的工作人员。This account is not staff of this event.';
    case 'NOT_FOUND':
      return '找不到这个班次。No such shift.';
    case 'RATE_LIMITED':
      return '尝试次数过多，请稍后再试。Too many attempts; try again shortly.';
    default:
      return e.message || String(e);
  }
}

function failed(e) {
  if (e.code === 'UNAUTHENTICATED' || e.code === 'FORBIDDEN' || e.code === 'NOT_FOUND') {
    if (e.code === 'UNAUTHENTICATED') clearSession();
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
    const c = (await authed(CODE, { s: shiftId })).issueCheckInCode;
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
    const s = (await authed(SHIFT, { s: shiftId })).shift;
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

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('login-error').textContent = '';
  try {
    const input = { phone: $('phone').value, password: $('password').value };
    saveSession((await gql(LOGIN, { i: input }, false)).login);
    $('password').value = '';
    start();
  } catch (e) {
    $('login-error').textContent = explain(e);
  }
});

$('logout').addEventListener('click', async () => {
  const token = store.getItem('tx.refresh');
  clearSession();
  showLogin('');
  if (token) gql(LOGOUT, { t: token }, false).catch(() => {});
});

if (store.getItem('tx.access')) start();
else showLogin('');
