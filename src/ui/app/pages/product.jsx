// A data product: what it is, its contract, whether it keeps it (quality runs and freshness),
// sample rows, lineage, its versions on branches, and how to query it.
import { useState } from 'preact/hooks';
import { api, enc, repoPath, runSql, session } from '../api.js';
import { Link, navigate } from '../router.js';
import {
  Badge, CopyBlock, DataGrid, ErrorView, RefPicker, Spinner, Tabs, Tag, Time, loadRefs, shortId, useData, useReady,
} from '../components.jsx';
import { LineageGraph } from '../graph.jsx';

const productPath = (d, n) => `/api/v1/products/${enc(d)}/${enc(n)}`;

function duration(s) {
  if (s % 86400 === 0) return s / 86400 + ' d';
  if (s % 3600 === 0) return s / 3600 + ' h';
  if (s % 60 === 0) return s / 60 + ' min';
  return s + ' s';
}

// A table's SQL name at a ref, as the engine reads it.
export function sqlName(domain, table, ref) {
  const quote = (s) => (/^[a-z_][a-z0-9_]*$/.test(s) ? s : '"' + s.replace(/"/g, '""') + '"');
  return ref && ref !== 'main' ? `${quote(domain)}."${(table + '@' + ref).replace(/"/g, '""')}"` : `${quote(domain)}.${quote(table)}`;
}

function hostPort(addr) {
  const i = addr ? addr.lastIndexOf(':') : -1;
  let host = i > 0 ? addr.slice(0, i) : location.hostname;
  if (host === '0.0.0.0' || host === '[::]' || host === '::') host = location.hostname;
  return [host, i > 0 ? addr.slice(i + 1) : ''];
}

function Contract({ port }) {
  return (
    <section class="port">
      <h3>
        {port.name} <span class="muted small">table <code>{port.table}</code></span>
      </h3>
      {port.description && <p>{port.description}</p>}
      <table class="list contract">
        <thead>
          <tr><th>column</th><th>type</th><th>constraints</th><th>classification</th><th>description</th></tr>
        </thead>
        <tbody>
          {port.columns.map((c) => (
            <tr>
              <td><code>{c.name}</code></td>
              <td>
                {c.logicalType}
                {c.physicalType && <span class="coltype">{c.physicalType}</span>}
              </td>
              <td>
                {c.primaryKey && <Badge kind="info">primary key</Badge>}
                {c.required && <Badge kind="info">required</Badge>}
                {c.unique && <Badge kind="info">unique</Badge>}
              </td>
              <td>{c.classification && <Badge kind="warn">{c.classification}</Badge>}</td>
              <td>{c.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Quality rules</h4>
      {port.quality.length === 0 ? (
        <p class="muted">No quality rules.</p>
      ) : (
        <ul class="rules">
          {port.quality.map((q) => (
            <li>
              <Badge kind={q.severity === 'error' ? 'bad' : 'warn'}>{q.severity}</Badge> <code>{q.rule}</code>
              {q.name && q.name !== q.rule && <span class="muted"> {q.name}</span>}
            </li>
          ))}
        </ul>
      )}
      {port.freshness && (
        <p>
          Freshness SLO: the newest <code>{port.freshness.column}</code> is at most {duration(port.freshness.maxAgeSeconds)} old.
        </p>
      )}
    </section>
  );
}

const STATUS_ORDER = { fail: 0, warn: 1 };

function RunChecks({ run }) {
  // What failed first, then warnings, then the rest in the order they ran.
  const checks = [...run.checks].sort((a, b) => (STATUS_ORDER[a.status] ?? 2) - (STATUS_ORDER[b.status] ?? 2));
  return (
    <table class="list checks">
      <thead>
        <tr><th>status</th><th>kind</th><th>port</th><th>check</th><th>result</th></tr>
      </thead>
      <tbody>
        {checks.map((c) => (
          <tr class={'check-' + c.status}>
            <td><Badge kind={c.status} /></td>
            <td>{c.kind}</td>
            <td>{c.port}</td>
            <td>{c.name}</td>
            <td>{c.detail}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Quality({ product, runs, refName, reloadRuns }) {
  const [selected, setSelected] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const check = async () => {
    setBusy(true);
    setError(null);
    try {
      await api(productPath(product.domain, product.name) + '/check', { method: 'POST', body: { ref: refName } });
      setSelected(0);
      reloadRuns();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const run = runs[selected];
  return (
    <div>
      <div class="toolbar">
        <button class="primary" onClick={check} disabled={busy}>{busy ? 'Checking…' : `Run the checks at ${refName}`}</button>
        <span class="muted small">Checks compare the contract with the table, run every quality rule and measure freshness; each run is kept.</span>
      </div>
      {error && <ErrorView error={error} />}
      {runs.length === 0 ? (
        <p class="muted">No checks have run yet. Publishing runs them, and so does the button above.</p>
      ) : (
        <div class="quality">
          <div class="history" aria-label="quality history">
            {runs.map((r, i) => (
              <button class={'run ' + (r.passed ? 'ok' : 'bad') + (i === selected ? ' selected' : '')} onClick={() => setSelected(i)} title={`${r.action} at ${r.ref}: ${r.passed ? 'passed' : 'failed'}`}>
                <span class="run-status">{r.passed ? '✓' : '✗'}</span>
                <span class="run-what">{r.action} · {r.ref} · v{r.version}</span>
                <span class="run-when"><Time at={r.at} /> by {r.user}</span>
              </button>
            ))}
          </div>
          {run && (
            <div class="run-detail">
              <h3>
                {run.action} of v{run.version} at <code>{run.ref}</code> <Badge kind={run.passed ? 'passed' : 'failed'} />
              </h3>
              <p class="muted small">
                commit <Link href={`/repos/${enc(product.domain)}/commits/${run.commit}`}><code>{shortId(run.commit)}</code></Link> · {new Date(run.at).toLocaleString()} · {run.user}
              </p>
              <RunChecks run={run} />
            </div>
          )}
        </div>
      )}
    </div>
  );
}

function SampleRows({ product, refName }) {
  const [port, setPort] = useState(product.outputPorts[0]?.name);
  const p = product.outputPorts.find((o) => o.name === port);
  const { data, error, loading } = useData(
    () => (p ? runSql(`SELECT * FROM ${sqlName(product.domain, p.table)} LIMIT 50`, { ref: refName, maxRows: 50 }) : Promise.resolve(null)),
    [port, refName],
  );
  useReady(!loading);
  if (!p) return <p class="muted">This product has no output ports.</p>;
  const classified = new Map(p.columns.map((c) => [c.name, c.classification]));
  return (
    <div>
      {product.outputPorts.length > 1 && (
        <div class="toolbar">
          {product.outputPorts.map((o) => (
            <button class={o.name === port ? 'active' : ''} onClick={() => setPort(o.name)}>{o.name}</button>
          ))}
        </div>
      )}
      {loading && <Spinner label="Reading rows" />}
      {error && <ErrorView error={error} />}
      {data && (
        <DataGrid
          columns={data.columns.map((c) => ({ ...c, badge: classified.get(c.name) ? <Badge kind="warn">{classified.get(c.name)}</Badge> : null }))}
          rows={data.rows}
          pageSize={50}
          note={`the first ${data.rows.length} rows of ${sqlName(product.domain, p.table)} at ${refName}`}
        />
      )}
    </div>
  );
}

function Versions({ product, refs, refName }) {
  const { domain, name } = product;
  const { data, error, loading } = useData(async () => {
    const branches = refs.branches.slice(0, 20);
    const at = await Promise.all(
      branches.map(async (b) => {
        try {
          const p = await api(productPath(domain, name), { query: { ref: b } });
          const changes = b === 'main' ? null : await api(productPath(domain, name) + '/changes', { query: { to: b } });
          return { ref: b, p, changes };
        } catch (e) {
          return { ref: b, error: e };
        }
      }),
    );
    const log = await api(repoPath(domain) + '/refs/main/commits', { query: { path: product.path, limit: 20 } });
    // The commits that changed each output table or view at the ref: appends, SQL writes, dbt builds.
    const tables = await Promise.all(
      product.outputPorts.map(async (o) => {
        for (const suffix of ['.metadata.json', '.view.json']) {
          const r = await api(repoPath(domain) + '/refs/' + enc(refName) + '/commits', {
            query: { path: '_catalog/' + o.table + suffix, limit: 10 },
          });
          if (r.results.length) return { port: o, commits: r.results };
        }
        return { port: o, commits: [] };
      }),
    );
    return { at, log: log.results, tables };
  }, [domain, name, refs, refName]);
  useReady(!loading);
  if (loading) return <Spinner />;
  if (error) return <ErrorView error={error} />;
  return (
    <div>
      <h3>On each branch</h3>
      <table class="list">
        <thead>
          <tr><th>branch</th><th>version</th><th>status</th><th>contract changes from main</th><th /></tr>
        </thead>
        <tbody>
          {data.at.map(({ ref, p, changes, error: e }) => (
            <tr>
              <td><code>{ref}</code></td>
              {e ? (
                <td colSpan="3" class="muted">{e.status === 404 ? 'not on this branch' : e.message}</td>
              ) : (
                <>
                  <td>v{p.version}</td>
                  <td><Badge kind={p.status} /></td>
                  <td>
                    {!changes ? '—' : changes.new ? 'new product' : changes.changes.length === 0 ? 'none' : (
                      <ul class="changes">
                        {changes.changes.map((c) => (
                          <li>
                            <Badge kind={c.breaking ? 'bad' : 'ok'}>{c.breaking ? 'breaking' : 'compatible'}</Badge> {c.port}
                            {c.column && '.' + c.column}: {c.change}
                          </li>
                        ))}
                        {changes.needsMajorVersion && <li class="form-error">a breaking change needs a new major version</li>}
                      </ul>
                    )}
                  </td>
                </>
              )}
              <td>
                {ref !== 'main' && <Link href={`/repos/${enc(domain)}/compare?left=main&right=${enc(ref)}`}>compare</Link>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>History of {product.path} on main</h3>
      <ul class="feed">
        {data.log.map((c) => (
          <li>
            <Link href={`/repos/${enc(domain)}/commits/${c.id}`}>{c.message.split('\n')[0]}</Link>
            <span class="muted small"><code>{shortId(c.id)}</code> · {c.author} · <Time at={c.created} /></span>
          </li>
        ))}
      </ul>
      {data.tables.map(({ port, commits }) => (
        <>
          <h3>
            Changes to <code>{domain}.{port.table}</code> at {refName}
          </h3>
          {commits.length === 0 ? (
            <p class="muted">No commit changed it at this ref.</p>
          ) : (
            <ul class="feed">
              {commits.map((c) => (
                <li>
                  <Link href={`/repos/${enc(domain)}/commits/${c.id}`}>{c.message.split('\n')[0]}</Link>
                  <span class="muted small"><code>{shortId(c.id)}</code> · {c.author} · <Time at={c.created} /></span>
                </li>
              ))}
            </ul>
          )}
        </>
      ))}
      {refs.tags.length > 0 && (
        <p class="muted">Tags of {domain}: {refs.tags.map((t) => <code>{t} </code>)}</p>
      )}
    </div>
  );
}

function QueryIt({ product, refName }) {
  const s = session();
  const [pgHost, pgPort] = hostPort(s.listeners.pg);
  const httpAddr = s.listeners.http || location.host;
  const port = product.outputPorts[0];
  if (!port) return <p class="muted">This product has no output ports.</p>;
  const table = sqlName(product.domain, port.table, refName);
  const sql = `SELECT *\nFROM ${table}\nLIMIT 100;`;
  const oneLine = sql.replace(/\n/g, ' ');
  return (
    <div class="snippets">
      <p>
        Sign in with your access key id as the user and its secret as the password. <Link href={'/sql?ref=' + enc(refName) + '&q=' + encodeURIComponent(sql)} class="button">Open in the SQL editor</Link>
      </p>
      <CopyBlock label="SQL" text={sql} />
      <CopyBlock label="psql" text={`PGPASSWORD="$LAKEMESH_SECRET_ACCESS_KEY" psql "host=${pgHost} port=${pgPort} user=${s.accessKeyId} dbname=lakemesh" \\\n  -c '${oneLine.replace(/'/g, "'\\''")}'`} />
      <CopyBlock
        label="Python (psycopg2 and pandas)"
        text={`import os\nimport pandas as pd\nimport psycopg2\n\nconn = psycopg2.connect(host="${pgHost}", port=${pgPort}, dbname="lakemesh",\n                        user="${s.accessKeyId}", password=os.environ["LAKEMESH_SECRET_ACCESS_KEY"])\ndf = pd.read_sql(${JSON.stringify(oneLine.replace(/;$/, ''))}, conn)`}
      />
      <CopyBlock label="lakemesh CLI" text={`LAKEMESH_URL=http://${httpAddr} lakemesh sql -c ${JSON.stringify(oneLine)}`} />
      <CopyBlock label="Trino clients (catalog lakemesh)" text={`trino --server http://${httpAddr} --catalog lakemesh --schema ${product.domain} --user ${s.accessKeyId} \\\n  --execute ${JSON.stringify(oneLine)}`} />
    </div>
  );
}

function Freshness({ product, latest }) {
  const ports = product.outputPorts;
  return (
    <div class="facts">
      {ports.map((o) => {
        const check = latest && latest.checks.find((c) => c.kind === 'freshness' && c.port === o.name);
        return (
          <div class="fact">
            <span class="label">{ports.length > 1 ? `${o.name} updated` : 'Updated'}</span>
            <span>{o.lastUpdatedMs ? <Time at={o.lastUpdatedMs} /> : '—'}</span>
            {o.freshness ? (
              <span class="small">
                SLO {duration(o.freshness.maxAgeSeconds)} {check ? <Badge kind={check.status} title={check.detail}>{check.status === 'pass' ? 'met' : 'missed'}</Badge> : <span class="muted">not measured yet</span>}
              </span>
            ) : (
              <span class="small muted">no freshness SLO</span>
            )}
          </div>
        );
      })}
    </div>
  );
}

export function ProductPage({ domain, name, query }) {
  const refName = query.get('ref') || 'main';
  const tab = query.get('tab') || 'contract';
  const main = useData(async () => {
    const [product, refs] = await Promise.all([api(productPath(domain, name), { query: { ref: refName } }), loadRefs(domain)]);
    return { product, refs };
  }, [domain, name, refName]);
  const runs = useData(() => api(productPath(domain, name) + '/runs', { query: { limit: 50 } }), [domain, name]);
  // The sample rows, lineage and versions tabs load data of their own and say when they are ready.
  useReady(!main.loading && !runs.loading && !['data', 'lineage', 'versions'].includes(tab));
  if (main.error) return <div class="page"><ErrorView error={main.error} retry={main.reload} /></div>;
  if (!main.data) return <div class="page"><Spinner label="Loading the product" /></div>;
  const { product, refs } = main.data;
  const allRuns = runs.data ? runs.data.runs : [];
  const atRef = allRuns.filter((r) => r.ref === refName);
  const latest = atRef[0];
  const go = (changes) => {
    const q = new URLSearchParams(query);
    for (const [k, v] of Object.entries(changes)) {
      if (v && !(k === 'ref' && v === 'main') && !(k === 'tab' && v === 'contract')) q.set(k, v);
      else q.delete(k);
    }
    const s = q.toString();
    navigate(`/products/${enc(domain)}/${enc(name)}` + (s ? '?' + s : ''), { replace: true });
  };
  const tabs = [
    ['contract', 'Contract'],
    ['quality', `Quality${allRuns.length ? ` (${allRuns.length})` : ''}`],
    ['data', 'Sample rows'],
    ['lineage', 'Lineage'],
    ['versions', 'Versions'],
    ['query', 'Query it'],
  ];
  return (
    <div class="page product">
      <p class="crumbs">
        <Link href="/">Products</Link> / <Link href={`/repos/${enc(domain)}`}>{domain}</Link> / {name}
      </p>
      <div class="product-head">
        <div>
          <h1>
            {product.domain}.<strong>{product.name}</strong> <Badge kind={product.status} /> <span class="version">v{product.version}</span>
          </h1>
          <p class="desc">{product.description || <span class="muted">No description.</span>}</p>
          <p class="meta">
            owner <strong>{product.owner || '—'}</strong>
            {product.tags.length > 0 && <> · {product.tags.map((t) => <Tag>{t}</Tag>)}</>}
          </p>
        </div>
        <div class="head-side">
          <RefPicker refs={refs} value={refName} onChange={(r) => go({ ref: r })} />
          <div class="fact">
            <span class="label">Quality at {refName}</span>
            {runs.loading ? <span class="muted">…</span> : latest ? (
              <span>
                <Badge kind={latest.passed ? 'passed' : 'failed'} /> <Time at={latest.at} />
              </span>
            ) : (
              <span class="muted">not checked</span>
            )}
          </div>
        </div>
      </div>
      <Freshness product={product} latest={latest} />
      {product.policyViolations.length > 0 && (
        <div class="notice warn">
          <strong>Breaks the organisation’s policies:</strong>
          <ul>{product.policyViolations.map((v) => <li>{typeof v === 'string' ? v : v.message || JSON.stringify(v)}</li>)}</ul>
        </div>
      )}
      {(product.inputPorts.length > 0 || product.downstream.length > 0) && (
        <p class="ports-line">
          {product.inputPorts.length > 0 && <>reads {product.inputPorts.map((i) => <ProductLink id={i} />)} </>}
          {product.downstream.length > 0 && <>· read by {product.downstream.map((i) => <ProductLink id={i} />)}</>}
        </p>
      )}
      <Tabs tabs={tabs} active={tab} onChange={(t) => go({ tab: t })} />
      <div class="tab-body">
        {tab === 'contract' && product.outputPorts.map((p) => <Contract port={p} />)}
        {tab === 'quality' && (runs.error ? <ErrorView error={runs.error} /> : <Quality product={product} runs={allRuns} refName={refName} reloadRuns={runs.reload} />)}
        {tab === 'data' && <SampleRows product={product} refName={refName} />}
        {tab === 'lineage' && <Lineage center={product.id} />}
        {tab === 'versions' && <Versions product={product} refs={refs} refName={refName} />}
        {tab === 'query' && <QueryIt product={product} refName={refName} />}
      </div>
    </div>
  );
}

// The lineage graph needs every product's input ports (the listing at main), read only when shown.
function Lineage({ center }) {
  const { data, error, loading } = useData(() => api('/api/v1/products'), []);
  useReady(!loading);
  if (loading) return <Spinner label="Reading the mesh" />;
  if (error) return <ErrorView error={error} />;
  return <LineageGraph center={center} products={data.products} />;
}

function ProductLink({ id }) {
  const [d, ...n] = id.split('.');
  return <Link class="pill" href={`/products/${enc(d)}/${enc(n.join('.'))}`}>{id}</Link>;
}
