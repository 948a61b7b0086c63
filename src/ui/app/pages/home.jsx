// Home: the mesh at a glance. Domains and their products, what was published and changed lately.
import { api, enc, repoPath } from '../api.js';
import { Link, navigate } from '../router.js';
import { ErrorView, ProductCard, Spinner, Time, shortId, useData, useReady } from '../components.jsx';

const RECENT_DOMAINS = 24;  // domains whose recent commits the home page reads
const CARDS_PER_DOMAIN = 9;  // the rest are a search away

async function loadHome() {
  const [products, repos] = await Promise.all([
    api('/api/v1/products'),
    api('/api/v1/repositories', { query: { limit: 1000 } }),
  ]);
  // The newest commits of each domain's default branch, and those that changed a product file.
  const some = repos.results.slice(0, RECENT_DOMAINS);
  const logs = await Promise.all(
    some.map((r) => {
      const log = repoPath(r.name) + '/refs/' + enc(r.default_branch) + '/commits';
      return Promise.all([
        api(log, { query: { limit: 5 } }),
        api(log, { query: { limit: 5, path: 'products/' } }),
      ]).then(([all, prod]) => ({ repo: r.name, all: all.results, products: prod.results }), () => ({ repo: r.name, all: [], products: [] }));
    }),
  );
  const flat = (key) =>
    logs
      .flatMap((l) => l[key].map((c) => ({ ...c, repo: l.repo })))
      .sort((a, b) => b.created.localeCompare(a.created));
  return { products: products.products, broken: products.broken, repos: repos.results, changes: flat('all').slice(0, 8), published: flat('products').slice(0, 6) };
}

export function HomePage() {
  const { data, error, loading, reload } = useData(loadHome, []);
  useReady(!loading);
  if (error) return <div class="page"><ErrorView error={error} retry={reload} /></div>;
  if (loading && !data) return <div class="page"><Spinner label="Loading the mesh" /></div>;
  const { products, broken, repos, changes, published } = data;
  const byDomain = new Map(repos.map((r) => [r.name, []]));
  for (const p of products) (byDomain.get(p.domain) || byDomain.set(p.domain, []).get(p.domain)).push(p);
  const count = (s) => products.filter((p) => p.status === s).length;
  return (
    <div class="page home">
      <section class="hero">
        <div>
          <h1>Data products</h1>
          <p class="muted">
            {repos.length} domain{repos.length === 1 ? '' : 's'} · {products.length} product{products.length === 1 ? '' : 's'} · {count('published')} published
            {count('draft') > 0 && ` · ${count('draft')} draft`}
            {count('deprecated') > 0 && ` · ${count('deprecated')} deprecated`}
          </p>
        </div>
        <form
          class="hero-search"
          onSubmit={(e) => {
            e.preventDefault();
            navigate('/search?q=' + encodeURIComponent(e.target.q.value));
          }}
        >
          <input name="q" type="search" placeholder="Find data: a product, table, column, owner or tag" aria-label="Find data" />
          <button class="primary">Search</button>
        </form>
      </section>
      {broken.length > 0 && (
        <div class="notice warn">
          {broken.length} product file{broken.length === 1 ? '' : 's'} could not be read:{' '}
          {broken.map((b) => (
            <span>
              <code>{b.domain}/{b.path}</code> ({b.error}){' '}
            </span>
          ))}
        </div>
      )}
      <div class="home-grid">
        <div>
          {[...byDomain.entries()].map(([domain, list]) => (
            <section class="domain-section">
              <h2>
                <Link href={`/repos/${enc(domain)}`}>{domain}</Link>
                <span class="muted small"> {list.length ? `${list.length} product${list.length === 1 ? '' : 's'}` : 'no products yet'}</span>
              </h2>
              {list.length > 0 && (
                <div class="cards">
                  {list.slice(0, CARDS_PER_DOMAIN).map((p) => <ProductCard p={p} />)}
                </div>
              )}
              {list.length > CARDS_PER_DOMAIN && (
                <p>
                  <Link href={`/search?kind=product&domain=${enc(domain)}`}>All {list.length} products of {domain} →</Link>
                </p>
              )}
            </section>
          ))}
        </div>
        <aside>
          <section>
            <h2>Recently published</h2>
            <ul class="feed">
              {published.length === 0 && <li class="muted">No product has been published yet.</li>}
              {published.map((c) => (
                <li>
                  <Link href={`/repos/${enc(c.repo)}/commits/${c.id}`}>{c.message.split('\n')[0]}</Link>
                  <span class="muted small">{c.repo} · {c.author} · <Time at={c.created} /></span>
                </li>
              ))}
            </ul>
          </section>
          <section>
            <h2>Recent changes</h2>
            <ul class="feed">
              {changes.map((c) => (
                <li>
                  <Link href={`/repos/${enc(c.repo)}/commits/${c.id}`}>{c.message.split('\n')[0]}</Link>
                  <span class="muted small">
                    {c.repo} · <code>{shortId(c.id)}</code> · {c.author} · <Time at={c.created} />
                  </span>
                </li>
              ))}
            </ul>
          </section>
        </aside>
      </div>
    </div>
  );
}
