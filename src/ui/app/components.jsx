// Pieces every page uses: loading data, readiness, badges, errors, tabs, tables, code to copy.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, enc, repoPath } from './api.js';
import { Link, navSeq } from './router.js';

// Loads data with `load()` whenever `deps` change: {data, error, loading, reload}.
export function useData(load, deps) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const seq = useRef(0);
  const run = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => mine === seq.current && setState({ data, error: null, loading: false }),
      (error) => mine === seq.current && setState({ data: undefined, error, loading: false }),
    );
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

// Marks the page as fully rendered once `done` (for the browser tests and the render benchmark):
// a performance mark `lakemesh-ready` and data-ready on <body>.
// A navigation (router.js) clears it; the first component of the new page to be done sets it.
export function useReady(done) {
  const seq = navSeq;
  useEffect(() => {
    if (!done) return;
    requestAnimationFrame(() => {
      if (seq !== navSeq || document.body.dataset.ready) return;
      document.body.dataset.ready = '1';
      performance.mark('lakemesh-ready');
    });
  }, [done, seq]);
}

export function Spinner({ label = 'Loading' }) {
  return (
    <div class="spinner" role="status">
      <span class="dot" /> {label}…
    </div>
  );
}

const STATUS_CLASS = {
  published: 'ok', pass: 'ok', passed: 'ok', added: 'ok',
  draft: 'muted', changed: 'info', info: 'info',
  deprecated: 'warn', warn: 'warn', warning: 'warn',
  fail: 'bad', failed: 'bad', error: 'bad', removed: 'bad',
};

export function Badge({ kind, children, title }) {
  const text = children ?? kind;
  return (
    <span class={'badge ' + (STATUS_CLASS[String(kind).toLowerCase()] || 'muted')} title={title}>
      {text}
    </span>
  );
}

export function Tag({ children }) {
  return <Link class="tag" href={'/search?tag=' + enc(children)}>{children}</Link>;
}

// What went wrong, in words, with a way on.
export function ErrorView({ error, retry }) {
  useReady(!!error);  // an error is what the page ends with
  if (!error) return null;
  let title = 'Something went wrong';
  let hint = null;
  const status = error instanceof ApiError ? error.status : -1;
  if (status === 0) {
    title = 'lakemesh is unreachable';
    hint = 'Check that the server is running and that this address points at its HTTP port.';
  } else if (status === 404) {
    title = 'Not found';
  } else if (status === 403) {
    title = 'Not allowed';
    hint = 'Your access key may not read this. Ask the domain’s owner for a grant.';
  } else if (status === 401) {
    title = 'Please sign in again';
  } else if (status >= 500) {
    title = 'The server failed';
    hint = 'The server’s log has the details of this request.';
  } else if (status >= 400) {
    title = 'The request was refused';
  }
  return (
    <div class="error-box" role="alert">
      <h2>{title}</h2>
      <p class="message">{error.message}</p>
      {error.code && status > 0 && <p class="code">{error.code} (HTTP {status})</p>}
      {hint && <p>{hint}</p>}
      <p class="actions">
        {retry && <button onClick={retry}>Try again</button>} <Link href="/">Go to the home page</Link>
      </p>
    </div>
  );
}

export function NotFoundPage({ path }) {
  useReady(true);
  return (
    <div class="page narrow">
      <div class="error-box">
        <h2>Page not found</h2>
        <p class="message">There is no page at <code>{path}</code>.</p>
        <p class="actions">
          <Link href="/">Home</Link> · <Link href="/search">Search</Link> · <Link href="/repos">Domains</Link> ·{' '}
          <Link href="/sql">SQL</Link>
        </p>
      </div>
    </div>
  );
}

export function Tabs({ tabs, active, onChange }) {
  return (
    <nav class="tabs" role="tablist">
      {tabs.map(([id, label]) => (
        <button role="tab" aria-selected={id === active} class={id === active ? 'active' : ''} onClick={() => onChange(id)}>
          {label}
        </button>
      ))}
    </nav>
  );
}

export function formatBytes(n) {
  if (n === undefined || n === null) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i ? v.toFixed(1) : String(v)) + ' ' + units[i];
}

export function timeAgo(when) {
  const t = typeof when === 'number' ? when : Date.parse(when);
  if (!Number.isFinite(t)) return '';
  const s = Math.round((Date.now() - t) / 1000);
  if (s < 45) return 'just now';
  const steps = [[60, 'minute'], [3600, 'hour'], [86400, 'day'], [2592000, 'month'], [31536000, 'year']];
  let unit = 'minute';
  let size = 60;
  for (const [sz, u] of steps) {
    if (Math.abs(s) >= sz) {
      size = sz;
      unit = u;
    }
  }
  const n = Math.round(s / size);
  return n + ' ' + unit + (n === 1 ? '' : 's') + ' ago';
}

export function Time({ at }) {
  const t = typeof at === 'number' ? new Date(at) : new Date(at);
  if (isNaN(t)) return null;
  return <time datetime={t.toISOString()} title={t.toISOString()}>{timeAgo(at)}</time>;
}

export function shortId(id) {
  return id ? id.slice(0, 10) : '';
}

export function CopyBlock({ label, text }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    const done = () => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text) && done());
    } else if (fallbackCopy(text)) {
      done();
    }
  };
  return (
    <div class="copy-block">
      <div class="copy-head">
        <span>{label}</span>
        <button class="small" onClick={copy}>{copied ? 'Copied' : 'Copy'}</button>
      </div>
      <pre><code>{text}</code></pre>
    </div>
  );
}

function fallbackCopy(text) {
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

export function cell(v) {
  if (v === null || v === undefined) return <span class="null">NULL</span>;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// A table of rows with paging. `columns` are {name, type?, badge?}.
export function DataGrid({ columns, rows, pageSize = 100, note }) {
  const [page, setPage] = useState(0);
  useEffect(() => setPage(0), [rows]);
  const pages = Math.max(1, Math.ceil(rows.length / pageSize));
  const first = page * pageSize;
  const shown = rows.slice(first, first + pageSize);
  return (
    <div class="grid-wrap">
      <div class="grid-scroll">
        <table class="grid">
          <thead>
            <tr>
              <th class="rownum">#</th>
              {columns.map((c) => (
                <th title={c.type}>
                  {c.name} {c.badge}
                  {c.type && <span class="coltype">{c.type}</span>}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((r, i) => (
              <tr>
                <td class="rownum">{first + i + 1}</td>
                {r.map((v) => (
                  <td class={typeof v === 'number' ? 'num' : ''}>{cell(v)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="grid-foot">
        <span>
          {rows.length ? `rows ${first + 1}–${first + shown.length} of ${rows.length.toLocaleString()}` : 'no rows'}
          {note && ' · ' + note}
        </span>
        {pages > 1 && (
          <span class="pager">
            <button class="small" disabled={page === 0} onClick={() => setPage(0)}>« first</button>
            <button class="small" disabled={page === 0} onClick={() => setPage(page - 1)}>‹ prev</button>
            <span>page {page + 1} of {pages}</span>
            <button class="small" disabled={page >= pages - 1} onClick={() => setPage(page + 1)}>next ›</button>
            <button class="small" disabled={page >= pages - 1} onClick={() => setPage(pages - 1)}>last »</button>
          </span>
        )}
      </div>
    </div>
  );
}

// The branches and tags of a repository, for ref pickers: {branches: [..], tags: [..]}.
export async function loadRefs(repo) {
  const [b, t] = await Promise.all([
    api(repoPath(repo) + '/branches', { query: { limit: 1000 } }),
    api(repoPath(repo) + '/tags', { query: { limit: 1000 } }),
  ]);
  return { branches: b.results.map((x) => x.name), tags: t.results.map((x) => x.name) };
}

export function RefPicker({ refs, value, onChange, label = 'ref' }) {
  const known = refs && (refs.branches.includes(value) || refs.tags.includes(value));
  return (
    <label class="ref-picker">
      <span>{label}</span>
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {!known && <option value={value}>{value}</option>}
        {refs && refs.branches.length > 0 && (
          <optgroup label="branches">
            {refs.branches.map((b) => <option value={b}>{b}</option>)}
          </optgroup>
        )}
        {refs && refs.tags.length > 0 && (
          <optgroup label="tags">
            {refs.tags.map((t) => <option value={t}>{t}</option>)}
          </optgroup>
        )}
      </select>
    </label>
  );
}

// A data product in a grid of cards.
export function ProductCard({ p }) {
  return (
    <Link class="card product-card" href={`/products/${enc(p.domain)}/${enc(p.name)}`}>
      <div class="card-head">
        <span class="domain">{p.domain}</span>
        <Badge kind={p.status} />
      </div>
      <h3>{p.name}</h3>
      <p class="desc">{p.description || <span class="muted">No description</span>}</p>
      <div class="meta">
        <span title="version">v{p.version}</span>
        <span title="owner">{p.owner || 'no owner'}</span>
        <span>{p.outputPorts.length} output{p.outputPorts.length === 1 ? '' : 's'}</span>
        {p.inputPorts.length > 0 && <span>{p.inputPorts.length} input{p.inputPorts.length === 1 ? '' : 's'}</span>}
      </div>
      {p.tags.length > 0 && (
        <div class="tags">
          {p.tags.map((t) => <span class="tag">{t}</span>)}
        </div>
      )}
    </Link>
  );
}
