// The gateway's HTTP API as the console uses it: one place that adds the
// read key (Authorization: Bearer <id>:<secret>, never in a URL), turns
// error answers into messages, and reads Server-Sent Events through fetch()
// streaming (EventSource cannot send headers).

const KEY = 'logops.key';

export class AuthError extends Error {}

export function storedKey() {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

function headers(extra = {}) {
  const h = { ...extra };
  const key = storedKey();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function failure(resp) {
  let detail = `${resp.status} ${resp.statusText}`;
  try {
    const body = await resp.json();
    if (body && body.error) detail = `${body.error}${body.detail ? ': ' + body.detail : ''}`;
  } catch {
    // not JSON: keep the status line
  }
  if (resp.status === 401 || resp.status === 403) return new AuthError(detail);
  return new Error(detail);
}

export function url(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export async function getJson(path, params, key) {
  // key: undefined = the stored key, '' = none, else that key.
  const h = key === undefined ? headers() : key ? { Authorization: `Bearer ${key}` } : {};
  const resp = await fetch(url(path, params), { headers: h, cache: 'no-store' });
  if (!resp.ok) throw await failure(resp);
  return resp.json();
}

/// GET /v1/query: the lines (parsed) and the _stats line.
export async function query(params, signal) {
  const resp = await fetch(url('/v1/query', params), { headers: headers(), signal });
  if (!resp.ok) throw await failure(resp);
  const text = await resp.text();
  const rows = [];
  let stats = null;
  for (const line of text.split('\n')) {
    if (!line) continue;
    let rec;
    try {
      rec = JSON.parse(line);
    } catch {
      rec = { msg: line };
    }
    if (rec && rec._stats && Object.keys(rec).length === 1) stats = rec._stats;
    else rows.push({ rec, line });
  }
  return { rows, stats };
}

/// GET /v1/tail as a stream: onOpen() once the tail is registered, then
/// onLine(rec, line, id) per event until signal aborts; resolves when the
/// stream ends.
export async function tail(params, signal, onLine, onOpen) {
  const resp = await fetch(url('/v1/tail', params), {
    headers: headers({ Accept: 'text/event-stream' }),
    signal,
  });
  if (!resp.ok) throw await failure(resp);
  if (onOpen) onOpen();
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let id = '';
      const data = [];
      for (const l of event.split('\n')) {
        if (l.startsWith('data:')) data.push(l.slice(5).replace(/^ /, ''));
        else if (l.startsWith('id:')) id = l.slice(3).trim();
      }
      if (!data.length) continue;
      const line = data.join('\n');
      let rec;
      try {
        rec = JSON.parse(line);
      } catch {
        rec = { msg: line };
      }
      onLine(rec, line, id);
    }
  }
}
