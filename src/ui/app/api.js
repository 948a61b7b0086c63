// Talking to lakemesh: the JSON API (/api/v1) and the Trino protocol (/v1/statement), with the
// bearer token the sign-in page gets. Every error becomes an ApiError carrying the server's own
// code and message, so that pages can say exactly what went wrong.
import { navigate } from './router.js';

const KEY = 'lakemesh.session';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The signed-in session: {token, expires (ms since epoch), name, accessKeyId, listeners}. Kept in
// local storage, so that every tab of this origin shares it, until the token expires.
export function session() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY));
    if (s && s.token && s.expires > Date.now()) return s;
  } catch {
    /* a damaged entry is no session */
  }
  return null;
}

export function signOut() {
  localStorage.removeItem(KEY);
}

function needSignIn() {
  signOut();
  if (location.pathname !== '/signin') {
    navigate('/signin?next=' + encodeURIComponent(location.pathname + location.search), { replace: true });
  }
}

async function errorOf(r) {
  let code = 'HTTP ' + r.status;
  let message = r.statusText || 'the server answered ' + r.status;
  try {
    const j = await r.json();
    if (j && j.error) {
      code = j.error.code || code;
      message = j.error.message || message;
    } else if (j && j.message) {
      message = j.message;
    }
  } catch {
    /* not JSON: keep the status line */
  }
  return new ApiError(r.status, code, message);
}

async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'Unreachable', 'lakemesh did not answer (' + e.message + '). Is the server running?');
  }
}

function headers(extra) {
  const h = { 'X-Requested-With': 'lakemesh-ui', ...extra };
  const s = session();
  if (s) h.Authorization = 'Bearer ' + s.token;
  return h;
}

export function withQuery(path, query) {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? path + '?' + s : path;
}

// A JSON API call. `body` objects are sent as JSON; `raw` returns the Response itself.
export async function api(path, { method = 'GET', query, body, raw = false, signal, extraHeaders } = {}) {
  const h = headers(extraHeaders);
  if (body !== undefined && typeof body !== 'string') {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(body);
  }
  const r = await send(withQuery(path, query), { method, headers: h, body, signal });
  if (r.status === 401) {
    needSignIn();
    throw await errorOf(r);
  }
  if (!r.ok) throw await errorOf(r);
  if (raw) return r;
  if (r.status === 204) return null;
  return r.json();
}

// Path segments are percent-encoded, as the API wants them.
export const enc = encodeURIComponent;
export const repoPath = (repo) => '/api/v1/repositories/' + enc(repo);

// Signs in with an access key: a token for `ttlSeconds`, then who that is.
export async function signIn(accessKeyId, secret, remember) {
  if (!/^[\x20-\x7e]+$/.test(accessKeyId + secret)) {
    throw new ApiError(400, 'InvalidArgument', 'an access key id and secret are printable ASCII');
  }
  const ttl = remember ? 7 * 86400 : 12 * 3600;
  const r = await send('/api/v1/auth/tokens', {
    method: 'POST',
    headers: {
      Authorization: 'Basic ' + btoa(accessKeyId + ':' + secret),
      'Content-Type': 'application/json',
      'X-Requested-With': 'lakemesh-ui',
    },
    body: JSON.stringify({ ttl_seconds: ttl }),
  });
  if (!r.ok) throw await errorOf(r);
  const t = await r.json();
  const who = await (await send('/api/v1/auth/whoami', {
    headers: { Authorization: 'Bearer ' + t.token, 'X-Requested-With': 'lakemesh-ui' },
  })).json();
  const s = {
    token: t.token,
    expires: Date.now() + ttl * 1000 - 60000,
    name: who.name,
    accessKeyId: who.access_key_id || accessKeyId,
    listeners: who.listeners || {},
  };
  localStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

// Downloads a repository object at a ref as a file (the API needs the token, so a plain link
// cannot).
export async function download(repo, ref, path) {
  const r = await api(repoPath(repo) + '/refs/' + enc(ref) + '/objects', { query: { path }, raw: true });
  saveBlob(await r.blob(), path.split('/').pop());
}

export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Runs SQL through the Trino protocol at `ref`, collecting at most `maxRows` rows:
// {columns: [{name, type}], rows, truncated, updateType, updateCount, elapsedMs}.
// `onQueued` gets a function that cancels the query.
export async function runSql(sql, { ref = 'main', maxRows = 10000, onQueued } = {}) {
  const s = session();
  const h = headers({
    'X-Trino-User': s ? s.name : 'ui',
    'X-Trino-Source': 'lakemesh-ui',
    'X-Trino-Catalog': 'lakemesh',
    'X-Trino-Session': 'lakemesh.ref=' + encodeURIComponent(ref || 'main'),
    'Content-Type': 'text/plain',
  });
  const started = performance.now();
  let cancelled = false;
  let next = null;
  const cancel = () => {
    cancelled = true;
    if (next) fetch(next, { method: 'DELETE', headers: h }).catch(() => {});
  };
  if (onQueued) onQueued(cancel);
  let r = await send('/v1/statement', { method: 'POST', headers: h, body: sql });
  const out = { columns: [], rows: [], truncated: false, updateType: null, updateCount: null };
  for (;;) {
    if (r.status === 401) {
      needSignIn();
      throw await errorOf(r);
    }
    if (!r.ok) throw await errorOf(r);
    const j = await r.json();
    if (j.error) {
      const e = new ApiError(400, j.error.errorName || 'QUERY_FAILED', j.error.message);
      e.location = j.error.errorLocation;
      throw e;
    }
    if (j.columns && !out.columns.length) out.columns = j.columns.map((c) => ({ name: c.name, type: c.type }));
    if (j.data) {
      for (const row of j.data) {
        if (out.rows.length >= maxRows) {
          out.truncated = true;
          break;
        }
        out.rows.push(row);
      }
    }
    if (j.updateType) out.updateType = j.updateType;
    if (j.updateCount !== undefined) out.updateCount = j.updateCount;
    if (!j.nextUri) break;
    // Same origin whatever host name the server put in the URI.
    const u = new URL(j.nextUri);
    next = u.pathname + u.search;
    if (cancelled || out.truncated) {
      await fetch(next, { method: 'DELETE', headers: h }).catch(() => {});
      if (cancelled) throw new ApiError(499, 'USER_CANCELED', 'the query was cancelled');
      break;
    }
    r = await send(next, { headers: h });
  }
  out.elapsedMs = performance.now() - started;
  return out;
}
