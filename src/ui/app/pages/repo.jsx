// The repository browser: domains, a repository's files at a ref, its commit log and branches,
// a commit and what it changed, and the comparison of two refs.
import { useState } from 'preact/hooks';
import { api, ApiError, download, enc, repoPath } from '../api.js';
import { Link, navigate } from '../router.js';
import {
  Badge, ErrorView, ProductCard, RefPicker, Spinner, Tabs, Time, formatBytes, loadRefs, shortId, useData, useReady,
} from '../components.jsx';
import { hunks, lineDiff } from '../diff.js';

const PREVIEW_BYTES = 256 * 1024;
const TEXT_EXT = /\.(csv|tsv|json|jsonl|ndjson|ya?ml|sql|md|txt|py|sh|toml|ini|xml|html|log)$/i;

function isText(path, contentType) {
  if (contentType && /^(text\/|application\/(json|x-yaml|yaml|xml|sql))/.test(contentType)) return true;
  return TEXT_EXT.test(path);
}

async function readText(repo, ref, path) {
  const r = await api(repoPath(repo) + '/refs/' + enc(ref) + '/objects', {
    query: { path },
    raw: true,
    extraHeaders: { Range: `bytes=0-${PREVIEW_BYTES - 1}` },
  });
  const text = await r.text();
  return { text, partial: r.status === 206 && Number((r.headers.get('Content-Range') || '').split('/')[1]) > PREVIEW_BYTES };
}

export function ReposPage() {
  const { data, error, loading, reload } = useData(() => api('/api/v1/repositories', { query: { limit: 1000 } }), []);
  useReady(!loading);
  return (
    <div class="page">
      <h1>Domains</h1>
      <p class="muted">Each domain is a versioned repository and a SQL schema: its raw files, tables, products and their history.</p>
      {error && <ErrorView error={error} retry={reload} />}
      {loading && <Spinner />}
      {data && (
        <table class="list">
          <thead>
            <tr><th>domain</th><th>default branch</th><th>created</th><th>by</th></tr>
          </thead>
          <tbody>
            {data.results.map((r) => (
              <tr>
                <td><Link href={`/repos/${enc(r.name)}`}><strong>{r.name}</strong></Link></td>
                <td><code>{r.default_branch}</code></td>
                <td><Time at={r.created} /></td>
                <td>{r.creator}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Files({ repo, refName, prefix }) {
  const { data, error, loading } = useData(
    () => api(repoPath(repo) + '/refs/' + enc(refName) + '/objects/ls', { query: { prefix, delimiter: '/', limit: 1000 } }),
    [repo, refName, prefix],
  );
  useReady(!loading);
  const parts = prefix.split('/').filter(Boolean);
  const at = (p) => `/repos/${enc(repo)}/files?ref=${enc(refName)}${p ? '&prefix=' + encodeURIComponent(p) : ''}`;
  return (
    <div>
      <p class="crumbs">
        <Link href={at('')}>{repo}</Link>
        {parts.map((p, i) => (
          <> / <Link href={at(parts.slice(0, i + 1).join('/') + '/')}>{p}</Link></>
        ))}
      </p>
      {error && <ErrorView error={error} />}
      {loading && <Spinner />}
      {data && (
        <table class="list files">
          <thead>
            <tr><th>name</th><th>size</th><th>modified</th><th /></tr>
          </thead>
          <tbody>
            {data.results.length === 0 && (
              <tr><td colSpan="4" class="muted">Nothing here at {refName}.</td></tr>
            )}
            {data.results.map((o) =>
              o.type === 'prefix' ? (
                <tr>
                  <td colSpan="4"><Link href={at(o.path)} class="folder">📁 {o.path.slice(prefix.length)}</Link></td>
                </tr>
              ) : (
                <tr>
                  <td>
                    <Link href={`/repos/${enc(repo)}/file?ref=${enc(refName)}&path=${encodeURIComponent(o.path)}`}>📄 {o.path.slice(prefix.length)}</Link>
                  </td>
                  <td class="num">{formatBytes(o.size)}</td>
                  <td><Time at={o.mtime} /></td>
                  <td><button class="small" onClick={() => download(repo, refName, o.path)}>Download</button></td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      )}
      {data && data.pagination.has_more && <p class="muted">Only the first 1,000 entries are shown.</p>}
    </div>
  );
}

function Commits({ repo, refName }) {
  const [pages, setPages] = useState([]);
  const { data, error, loading } = useData(async () => {
    const r = await api(repoPath(repo) + '/refs/' + enc(refName) + '/commits', { query: { limit: 30 } });
    setPages([]);
    return r;
  }, [repo, refName]);
  useReady(!loading);
  const more = async () => {
    const last = pages.length ? pages[pages.length - 1] : data;
    const r = await api(repoPath(repo) + '/refs/' + enc(refName) + '/commits', { query: { limit: 30, after: last.pagination.next_after } });
    setPages([...pages, r]);
  };
  if (error) return <ErrorView error={error} />;
  if (loading) return <Spinner />;
  const all = [data, ...pages];
  const hasMore = all[all.length - 1].pagination.has_more;
  return (
    <div>
      <ul class="commits">
        {all.flatMap((p) => p.results).map((c) => (
          <li>
            <Link href={`/repos/${enc(repo)}/commits/${c.id}`} class="title">{c.message.split('\n')[0] || '(no message)'}</Link>
            <span class="muted small">
              <code>{shortId(c.id)}</code> · {c.author} · <Time at={c.created} />
              {c.parents.length > 1 && <> · <Badge kind="info">merge</Badge></>}
            </span>
          </li>
        ))}
      </ul>
      {hasMore && <button onClick={more}>Older commits</button>}
    </div>
  );
}

function Branches({ repo }) {
  const { data, error, loading } = useData(async () => {
    const [b, t] = await Promise.all([
      api(repoPath(repo) + '/branches', { query: { limit: 1000 } }),
      api(repoPath(repo) + '/tags', { query: { limit: 1000 } }),
    ]);
    return { branches: b.results, tags: t.results };
  }, [repo]);
  useReady(!loading);
  if (error) return <ErrorView error={error} />;
  if (loading) return <Spinner />;
  return (
    <div class="two-col">
      <section>
        <h3>Branches</h3>
        <table class="list">
          <tbody>
            {data.branches.map((b) => (
              <tr>
                <td><Link href={`/repos/${enc(repo)}/files?ref=${enc(b.name)}`}><code>{b.name}</code></Link></td>
                <td><Link href={`/repos/${enc(repo)}/commits/${b.head}`}><code>{shortId(b.head)}</code></Link></td>
                <td>{b.name !== 'main' && <Link href={`/repos/${enc(repo)}/compare?left=main&right=${enc(b.name)}`}>compare with main</Link>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h3>Tags</h3>
        {data.tags.length === 0 ? <p class="muted">No tags.</p> : (
          <table class="list">
            <tbody>
              {data.tags.map((t) => (
                <tr>
                  <td><Link href={`/repos/${enc(repo)}/files?ref=${enc(t.name)}`}><code>{t.name}</code></Link></td>
                  <td><Link href={`/repos/${enc(repo)}/commits/${t.commit}`}><code>{shortId(t.commit)}</code></Link></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

// An Iceberg type as text: primitives as they are, nested types in short.
function typeText(t) {
  if (typeof t === 'string') return t;
  if (t.type === 'list') return `list<${typeText(t.element)}>`;
  if (t.type === 'map') return `map<${typeText(t.key)}, ${typeText(t.value)}>`;
  if (t.type === 'struct') return `struct<${t.fields.map((f) => f.name + ': ' + typeText(f.type)).join(', ')}>`;
  return JSON.stringify(t);
}

function TableDetail({ repo, refName, name, kind }) {
  const { data, error, loading } = useData(
    () => api(`/iceberg/v1/${enc(refName)}/namespaces/${enc(repo)}/${kind === 'view' ? 'views' : 'tables'}/${enc(name)}`),
    [repo, refName, name, kind],
  );
  if (loading) return <Spinner />;
  if (error) return <ErrorView error={error} />;
  const m = data.metadata;
  const schemaId = kind === 'view' ? m.versions.find((v) => v['version-id'] === m['current-version-id'])?.['schema-id'] : m['current-schema-id'];
  const schema = m.schemas.find((x) => x['schema-id'] === schemaId) || m.schemas[m.schemas.length - 1];
  const snapshot = kind === 'table' && m.snapshots ? m.snapshots.find((x) => x['snapshot-id'] === m['current-snapshot-id']) : null;
  const version = kind === 'view' ? m.versions.find((v) => v['version-id'] === m['current-version-id']) : null;
  const sql = version && version.representations.find((r) => r.type === 'sql');
  return (
    <div class="table-detail">
      {m.properties && m.properties.comment && <p>{m.properties.comment}</p>}
      {snapshot && (
        <p class="muted small">
          {Number(snapshot.summary['total-records'] || 0).toLocaleString()} rows in {snapshot.summary['total-data-files'] || 0} files ·
          last {snapshot.summary.operation} <Time at={snapshot['timestamp-ms']} />
        </p>
      )}
      <table class="list">
        <thead>
          <tr><th>column</th><th>type</th><th>required</th><th>description</th></tr>
        </thead>
        <tbody>
          {schema.fields.map((f) => (
            <tr>
              <td><code>{f.name}</code></td>
              <td><code>{typeText(f.type)}</code></td>
              <td>{f.required ? 'yes' : ''}</td>
              <td>{f.doc || ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {sql && (
        <>
          <h4>Definition ({sql.dialect})</h4>
          <pre class="file-preview">{sql.sql}</pre>
        </>
      )}
    </div>
  );
}

// A domain at a ref: its data products and every table and view, with their columns.
function Overview({ repo, refName }) {
  const { data, error, loading } = useData(async () => {
    const ns = `/iceberg/v1/${enc(refName)}/namespaces/${enc(repo)}`;
    const none = (e) => (e.status === 404 ? { identifiers: [] } : Promise.reject(e));
    const [products, tables, views] = await Promise.all([
      api('/api/v1/products', { query: { domain: repo, ref: refName } }),
      api(ns + '/tables').catch(none),
      api(ns + '/views').catch(none),
    ]);
    const all = [
      ...tables.identifiers.map((t) => ({ name: t.name, kind: 'table' })),
      ...views.identifiers.map((v) => ({ name: v.name, kind: 'view' })),
    ].sort((a, b) => a.name.localeCompare(b.name));
    return { products: products.products, all };
  }, [repo, refName]);
  const [open, setOpen] = useState(null);
  useReady(!loading);
  if (loading) return <Spinner />;
  if (error) return <ErrorView error={error} />;
  const productOf = new Map();
  for (const p of data.products) for (const o of p.outputPorts) productOf.set(o.table, p);
  return (
    <div>
      <h3>Data products</h3>
      {data.products.length === 0 ? (
        <p class="muted">{repo} publishes no data product at {refName}. A product is a file <code>products/NAME.yaml</code> (<code>lakemesh product init</code>).</p>
      ) : (
        <div class="cards">{data.products.map((p) => <ProductCard p={p} />)}</div>
      )}
      <h3>Tables and views</h3>
      {data.all.length === 0 ? (
        <p class="muted">No tables at {refName}.</p>
      ) : (
        <table class="list tables">
          <thead>
            <tr><th>name</th><th>kind</th><th>data product</th><th /></tr>
          </thead>
          <tbody>
            {data.all.map((t) => {
              const p = productOf.get(t.name);
              const key = t.kind + ':' + t.name;
              return (
                <>
                  <tr>
                    <td>
                      <button class="link" onClick={() => setOpen(open === key ? null : key)} aria-expanded={open === key}>
                        {open === key ? '▾' : '▸'} <code>{repo}.{t.name}</code>
                      </button>
                    </td>
                    <td>{t.kind}</td>
                    <td>{p && <Link href={`/products/${enc(p.domain)}/${enc(p.name)}`}>{p.id}</Link>}</td>
                    <td>
                      <Link href={'/sql?ref=' + enc(refName) + '&q=' + encodeURIComponent(`SELECT * FROM ${repo}.${t.name} LIMIT 100`)}>query</Link>
                    </td>
                  </tr>
                  {open === key && (
                    <tr class="detail-row">
                      <td colSpan="4"><TableDetail repo={repo} refName={refName} name={t.name} kind={t.kind} /></td>
                    </tr>
                  )}
                </>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function RepoPage({ repo, tab = 'overview', query }) {
  const refName = query.get('ref') || 'main';
  const refs = useData(() => loadRefs(repo), [repo]);
  if (refs.error) return <div class="page"><ErrorView error={refs.error} retry={refs.reload} /></div>;
  if (!['overview', 'files', 'commits', 'branches'].includes(tab)) {
    return <div class="page"><ErrorView error={new ApiError(404, 'NotFound', `a domain has no page '${tab}'`)} /></div>;
  }
  const to = (t, r = refName) => `/repos/${enc(repo)}${t === 'overview' ? '' : '/' + t}${r !== 'main' ? '?ref=' + enc(r) : ''}`;
  return (
    <div class="page">
      <p class="crumbs"><Link href="/repos">Domains</Link> / {repo}</p>
      <div class="page-head">
        <h1>{repo}</h1>
        {tab !== 'branches' && (
          <RefPicker refs={refs.data} value={refName} onChange={(r) => navigate(to(tab, r))} />
        )}
      </div>
      <Tabs tabs={[['overview', 'Products and tables'], ['files', 'Files'], ['commits', 'Commits'], ['branches', 'Branches and tags']]} active={tab} onChange={(t) => navigate(to(t))} />
      <div class="tab-body">
        {tab === 'overview' && <Overview repo={repo} refName={refName} />}
        {tab === 'files' && <Files repo={repo} refName={refName} prefix={query.get('prefix') || ''} />}
        {tab === 'commits' && <Commits repo={repo} refName={refName} />}
        {tab === 'branches' && <Branches repo={repo} />}
      </div>
    </div>
  );
}

export function FilePage({ repo, query }) {
  const refName = query.get('ref') || 'main';
  const path = query.get('path') || '';
  const { data, error, loading } = useData(async () => {
    const stat = await api(repoPath(repo) + '/refs/' + enc(refName) + '/objects/stat', { query: { path } });
    const preview = isText(path, stat.content_type) ? await readText(repo, refName, path) : null;
    return { stat, preview };
  }, [repo, refName, path]);
  useReady(!loading);
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
  return (
    <div class="page">
      <p class="crumbs">
        <Link href="/repos">Domains</Link> / <Link href={`/repos/${enc(repo)}/files?ref=${enc(refName)}`}>{repo}</Link> /{' '}
        <Link href={`/repos/${enc(repo)}/files?ref=${enc(refName)}&prefix=${encodeURIComponent(dir)}`}>{dir || '/'}</Link>
      </p>
      <div class="page-head">
        <h1 class="path">{path.slice(dir.length)}</h1>
        <button class="primary" onClick={() => download(repo, refName, path)}>Download</button>
      </div>
      {error && <ErrorView error={error} />}
      {loading && <Spinner />}
      {data && (
        <>
          <p class="muted small">
            at <code>{refName}</code> · {formatBytes(data.stat.size)} · {data.stat.content_type} · modified <Time at={data.stat.mtime} /> · ETag <code>{data.stat.etag}</code>
          </p>
          {data.preview ? (
            <>
              <pre class="file-preview">{data.preview.text}</pre>
              {data.preview.partial && <p class="muted">The first {formatBytes(PREVIEW_BYTES)} are shown; download the file for the rest.</p>}
            </>
          ) : (
            <p class="muted">No preview for this kind of file.</p>
          )}
        </>
      )}
    </div>
  );
}

function FileDiff({ repo, left, right, change }) {
  const { data, error, loading } = useData(async () => {
    const [a, b] = await Promise.all([
      change.type === 'added' ? { text: '' } : readText(repo, left, change.path),
      change.type === 'removed' ? { text: '' } : readText(repo, right, change.path),
    ]);
    const split = (t) => (t ? t.replace(/\n$/, '').split('\n') : []);
    const d = lineDiff(split(a.text), split(b.text));
    return { lines: d ? hunks(d) : null, partial: a.partial || b.partial };
  }, [repo, left, right, change.path]);
  if (loading) return <Spinner />;
  if (error) return <ErrorView error={error} />;
  if (!data.lines) return <p class="muted">The files differ too much to show line by line.</p>;
  return (
    <div>
      <pre class="diff">
        {data.lines.map((l) => (
          <div class={'line ' + { '+': 'add', '-': 'del', ' ': 'ctx', '…': 'gap' }[l.op]}>
            <span class="op">{l.op === '…' ? ' ' : l.op}</span>
            {l.text}
          </div>
        ))}
      </pre>
      {data.partial && <p class="muted small">Only the first {formatBytes(PREVIEW_BYTES)} of each side are compared.</p>}
    </div>
  );
}

function ChangeRow({ repo, left, right, change, open: initiallyOpen }) {
  const [open, setOpen] = useState(initiallyOpen);
  const e = change.right || change.left || {};
  const text = isText(change.path, e.content_type);
  const table = change.path.startsWith('_catalog/') && change.path.endsWith('.metadata.json');
  const at = change.type === 'removed' ? left : right;
  return (
    <li class="change">
      <div class="change-head">
        <Badge kind={change.type} />{' '}
        <Link href={`/repos/${enc(repo)}/file?ref=${enc(at)}&path=${encodeURIComponent(change.path)}`}><code>{change.path}</code></Link>
        {table && <span class="muted small"> Iceberg table {change.path.slice(9, -14)}</span>}
        <span class="muted small">
          {' '}
          {change.left && change.right ? `${formatBytes(change.left.size)} → ${formatBytes(change.right.size)}` : formatBytes(e.size)}
        </span>
        {text && (
          <button class="small link" onClick={() => setOpen(!open)}>{open ? 'hide changes' : 'show changes'}</button>
        )}
      </div>
      {open && text && <FileDiff repo={repo} left={left} right={right} change={change} />}
    </li>
  );
}

// What changed from `left` to `right`, with line diffs of text files.
function DiffList({ repo, left, right }) {
  const { data, error, loading } = useData(
    () => api(repoPath(repo) + '/refs/' + enc(left) + '/diff/' + enc(right), { query: { limit: 1000 } }),
    [repo, left, right],
  );
  useReady(!loading);
  if (loading) return <Spinner label="Comparing" />;
  if (error) return <ErrorView error={error} />;
  const changes = data.results;
  const texts = changes.filter((c) => isText(c.path, (c.right || c.left || {}).content_type) && !c.path.startsWith('_catalog/'));
  const count = (t) => changes.filter((c) => c.type === t).length;
  return (
    <div>
      <p class="muted">
        {changes.length === 0 ? 'No differences.' : `${changes.length} path${changes.length === 1 ? '' : 's'}: ${count('added')} added, ${count('changed')} changed, ${count('removed')} removed`}
        {data.pagination.has_more && ' (the first 1,000 are shown)'}
      </p>
      <ul class="changes-list">
        {changes.map((c) => (
          <ChangeRow repo={repo} left={left} right={right} change={c} open={texts.length <= 3 && texts.includes(c)} />
        ))}
      </ul>
    </div>
  );
}

export function CommitPage({ repo, id }) {
  const { data, error, loading } = useData(() => api(repoPath(repo) + '/refs/' + enc(id)), [repo, id]);
  const c = data && (data.commit || data);
  const waiting = loading || !c;
  useReady(!!error);
  if (error) return <div class="page"><ErrorView error={error} /></div>;
  return (
    <div class="page">
      <p class="crumbs">
        <Link href="/repos">Domains</Link> / <Link href={`/repos/${enc(repo)}`}>{repo}</Link> / <Link href={`/repos/${enc(repo)}/commits`}>commits</Link> / {shortId(id)}
      </p>
      {waiting ? <Spinner /> : (
        <>
          <h1 class="commit-title">{c.message.split('\n')[0] || '(no message)'}</h1>
          {c.message.includes('\n') && <pre class="commit-body">{c.message.slice(c.message.indexOf('\n') + 1)}</pre>}
          <dl class="facts-list">
            <dt>commit</dt><dd><code>{c.id}</code></dd>
            <dt>author</dt><dd>{c.author}</dd>
            <dt>when</dt><dd>{new Date(c.created).toLocaleString()} (<Time at={c.created} />)</dd>
            <dt>parents</dt>
            <dd>{c.parents.length === 0 ? 'none (the first commit)' : c.parents.map((p) => <Link href={`/repos/${enc(repo)}/commits/${p}`}><code>{shortId(p)} </code></Link>)}</dd>
            {Object.keys(c.metadata || {}).length > 0 && (
              <>
                <dt>metadata</dt>
                <dd>{Object.entries(c.metadata).map(([k, v]) => <div><code>{k}</code> = {v}</div>)}</dd>
              </>
            )}
          </dl>
          <h2>Changes{c.parents.length > 1 && ' from the first parent'}</h2>
          {c.parents.length === 0 ? (
            <FirstCommit repo={repo} id={c.id} />
          ) : (
            <DiffList repo={repo} left={c.parents[0]} right={c.id} />
          )}
        </>
      )}
    </div>
  );
}

function FirstCommit({ repo, id }) {
  const { data, loading } = useData(() => api(repoPath(repo) + '/refs/' + enc(id) + '/objects/ls', { query: { limit: 1000 } }), [repo, id]);
  useReady(!loading);
  if (loading) return <Spinner />;
  return (
    <ul class="changes-list">
      {(data ? data.results : []).map((o) => (
        <li class="change"><Badge kind="added" /> <code>{o.path}</code> <span class="muted small">{formatBytes(o.size)}</span></li>
      ))}
    </ul>
  );
}

export function ComparePage({ repo, query }) {
  const left = query.get('left') || 'main';
  const right = query.get('right') || 'main';
  const refs = useData(() => loadRefs(repo), [repo]);
  const set = (l, r) => navigate(`/repos/${enc(repo)}/compare?left=${enc(l)}&right=${enc(r)}`, { replace: true });
  return (
    <div class="page">
      <p class="crumbs"><Link href="/repos">Domains</Link> / <Link href={`/repos/${enc(repo)}`}>{repo}</Link> / compare</p>
      <div class="page-head">
        <h1>Compare</h1>
        <div class="toolbar">
          <RefPicker refs={refs.data} value={left} onChange={(v) => set(v, right)} label="from" />
          <RefPicker refs={refs.data} value={right} onChange={(v) => set(left, v)} label="to" />
        </div>
      </div>
      <DiffList repo={repo} left={left} right={right} />
    </div>
  );
}
