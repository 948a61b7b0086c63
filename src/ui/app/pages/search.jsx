// Search across domains, products, tables, views and columns, with filters.
import { api, enc } from '../api.js';
import { Link, navigate } from '../router.js';
import { Badge, ErrorView, Spinner, useData, useReady } from '../components.jsx';

// Where a search result leads: its product when it belongs to one, else its domain or a query.
export function resultHref(r) {
  const [domain] = r.id.split('.');
  if (r.kind === 'product') return `/products/${enc(domain)}/${enc(r.name)}`;
  if (r.product) {
    const [d, n] = r.product.split('.');
    return `/products/${enc(d)}/${enc(n)}`;
  }
  if (r.kind === 'domain') return `/repos/${enc(r.name)}`;
  const table = r.kind === 'column' ? r.table : r.name;
  return '/sql?q=' + encodeURIComponent(`SELECT * FROM ${domain}.${table} LIMIT 100`);
}

const FILTERS = [
  ['kind', 'Kind', ['product', 'table', 'view', 'column', 'domain']],
  ['status', 'Status', ['published', 'draft', 'deprecated']],
  ['classification', 'Classification', null],
  ['domain', 'Domain', null],
  ['tag', 'Tag', null],
];

export function SearchPage({ query }) {
  const params = Object.fromEntries(['q', 'kind', 'status', 'classification', 'domain', 'tag'].map((k) => [k, query.get(k) || '']));
  const any = Object.values(params).some(Boolean);
  const { data, error, loading } = useData(
    () => (any ? api('/api/v1/search', { query: { ...params, limit: 50 } }) : Promise.resolve({ results: [] })),
    [query.toString()],
  );
  useReady(!loading);
  const set = (k, v) => {
    const q = new URLSearchParams(query);
    if (v) q.set(k, v);
    else q.delete(k);
    navigate('/search?' + q.toString(), { replace: true });
  };
  return (
    <div class="page">
      <h1>Search</h1>
      <form
        class="search-form"
        onSubmit={(e) => {
          e.preventDefault();
          set('q', e.target.q.value.trim());
        }}
      >
        <input name="q" type="search" defaultValue={params.q} placeholder="orders, email, sales-team, personal-data…" aria-label="Search" />
        <button class="primary">Search</button>
      </form>
      <div class="filters">
        {FILTERS.map(([k, label, options]) =>
          options ? (
            <label>
              {label}
              <select value={params[k]} onChange={(e) => set(k, e.target.value)}>
                <option value="">any</option>
                {options.map((o) => <option value={o}>{o}</option>)}
              </select>
            </label>
          ) : (
            <label>
              {label}
              <input
                value={params[k]}
                placeholder="any"
                onChange={(e) => set(k, e.target.value.trim())}
                size="10"
              />
            </label>
          ),
        )}
      </div>
      {error && <ErrorView error={error} />}
      {loading && <Spinner label="Searching" />}
      {!loading && data && any && (
        <p class="muted">
          {data.results.length === 0 ? 'Nothing matches.' : `${data.results.length} result${data.results.length === 1 ? '' : 's'}`}
        </p>
      )}
      {!any && <p class="muted">Type words to find; filters narrow the results. Tags and classifications match exactly.</p>}
      <ul class="results">
        {data &&
          data.results.map((r) => (
            <li>
              <div>
                <Badge kind="info">{r.kind}</Badge> <Link href={resultHref(r)} class="title">{r.id}</Link>
                {r.type && <span class="coltype">{r.type}</span>}
                {r.classification && <Badge kind="warn">{r.classification}</Badge>}
                {r.status && <Badge kind={r.status} />}
              </div>
              {r.description && <p class="desc">{r.description}</p>}
              <p class="muted small">
                {r.owner && <>owner {r.owner} · </>}domain {r.domain}
                {r.product && r.kind !== 'product' && <> · product {r.product}</>}
                {r.tags && r.tags.length > 0 && <> · {r.tags.join(', ')}</>}
              </p>
            </li>
          ))}
      </ul>
    </div>
  );
}
