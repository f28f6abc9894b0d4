// The console's shell: hash routing between the four pages, and the read
// key — asked once when the gateway answers 401, kept in sessionStorage,
// checked against GET /api/v1/status before it is kept.

import './style.css';
import { getJson, storedKey, storeKey, AuthError } from './api.js';
import { overview } from './overview.js';
import { search } from './search.js';
import { liveTail } from './tail.js';
import { files } from './files.js';

const PAGES = { overview, search, tail: liveTail, files };
const main = document.getElementById('main');
const dialog = document.getElementById('login');
const form = document.getElementById('login-form');
const loginError = document.getElementById('login-error');
const who = document.getElementById('who');
const signout = document.getElementById('signout');
const shared = {};
let leave = null;
let needKey = false;

const ctx = {
  state: shared,
  /// Asks for a key when the error is a 401/403; true when it did.
  onAuthError(e) {
    if (!(e instanceof AuthError) || !needKey) return false;
    storeKey(null);
    showWho();
    askKey(`Key rejected (${e.message}); enter a read key.`);
    return true;
  },
};

function route() {
  const name = (location.hash.replace(/^#\/?/, '') || 'overview').split('?')[0];
  const page = PAGES[name] ? name : 'overview';
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (leave) leave();
  main.replaceChildren();
  document.title = `${page[0].toUpperCase()}${page.slice(1)} — LogOps console`;
  leave = PAGES[page](main, ctx);
}

function showWho() {
  const key = storedKey();
  who.textContent = key ? `key ${key.split(':')[0]}` : needKey ? '' : 'auth off';
  signout.hidden = !key;
}

function askKey(message) {
  loginError.textContent = message || '';
  if (!dialog.open) dialog.showModal();
  document.getElementById('key-id').focus();
}

dialog.addEventListener('cancel', (e) => e.preventDefault());
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const id = form.elements.id.value.trim();
  const secret = form.elements.secret.value;
  const key = `${id}:${secret}`;
  try {
    await getJson('/api/v1/status', { seconds: 1 }, key);
  } catch (err) {
    loginError.textContent = err instanceof AuthError ? `Key rejected (${err.message}).` : `Cannot check the key: ${err.message}`;
    form.elements.secret.select();
    return;
  }
  storeKey(key);
  form.reset();
  dialog.close();
  showWho();
  route();
});
signout.addEventListener('click', () => {
  storeKey(null);
  showWho();
  askKey('');
});

async function boot() {
  // A key is only ever kept when the gateway asked for one: try it first.
  const kept = storedKey();
  try {
    await getJson('/api/v1/status', { seconds: 1 }, kept || '');
    needKey = !!kept;
  } catch (e) {
    needKey = e instanceof AuthError;
    if (needKey) storeKey(null);
  }
  showWho();
  window.addEventListener('hashchange', route);
  if (needKey && !storedKey()) {
    askKey('');
    return;
  }
  route();
}

boot();
