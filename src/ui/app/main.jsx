// lakemesh's web UI: the shell (header, instant search, sign-in) and the pages by path.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import './style.css';
import { api, session, signIn, signOut } from './api.js';
import { Link, match, navigate, useLocation } from './router.js';
import { Badge, ErrorView, NotFoundPage, useReady } from './components.jsx';
import { HomePage } from './pages/home.jsx';
import { SearchPage, resultHref } from './pages/search.jsx';
import { ProductPage } from './pages/product.jsx';
import { ReposPage, RepoPage, CommitPage, FilePage, ComparePage } from './pages/repo.jsx';
import { SqlPage } from './pages/sql.jsx';

// Pages by path (src/ui/ui.cc lists their first segments for the server).
const ROUTES = [
  ['/', HomePage],
  ['/search', SearchPage],
  ['/products/:domain/:name', ProductPage],
  ['/repos', ReposPage],
  ['/repos/:repo', RepoPage],
  ['/repos/:repo/file', FilePage],
  ['/repos/:repo/compare', ComparePage],
  ['/repos/:repo/:tab', RepoPage],
  ['/repos/:repo/commits/:id', CommitPage],
  ['/sql', SqlPage],
];

function InstantSearch() {
  const [q, setQ] = useState('');
  const [results, setResults] = useState([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const seq = useRef(0);
  useEffect(() => {
    if (!q.trim()) {
      setResults([]);
      return undefined;
    }
    const mine = ++seq.current;
    const t = setTimeout(() => {
      api('/api/v1/search', { query: { q, limit: 8 } }).then(
        (r) => mine === seq.current && (setResults(r.results), setActive(-1)),
        () => mine === seq.current && setResults([]),
      );
    }, 120);
    return () => clearTimeout(t);
  }, [q]);
  const go = (href) => {
    setOpen(false);
    setQ('');
    navigate(href);
  };
  const onKey = (e) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((a) => Math.min(a + 1, results.length - 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, -1));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      go(active >= 0 && results[active] ? resultHref(results[active]) : '/search?q=' + encodeURIComponent(q));
    } else if (e.key === 'Escape') {
      setOpen(false);
      e.target.blur();
    }
  };
  return (
    <div class="instant-search" onFocusOut={(e) => !e.currentTarget.contains(e.relatedTarget) && setOpen(false)}>
      <input
        type="search"
        placeholder="Search products, tables, columns, owners…"
        aria-label="Search"
        value={q}
        onInput={(e) => {
          setQ(e.target.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onKeyDown={onKey}
      />
      {open && q.trim() && (
        <ul class="suggestions" role="listbox">
          {results.length === 0 && <li class="empty">No matches for “{q}”</li>}
          {results.map((r, i) => (
            <li role="option" aria-selected={i === active} class={i === active ? 'active' : ''}>
              <a href={resultHref(r)} onMouseDown={(e) => (e.preventDefault(), go(resultHref(r)))}>
                <Badge kind="info">{r.kind}</Badge> <strong>{r.id}</strong>
                {r.description && <span class="desc">{r.description}</span>}
              </a>
            </li>
          ))}
          <li class="all">
            <a href={'/search?q=' + encodeURIComponent(q)} onMouseDown={(e) => (e.preventDefault(), go('/search?q=' + encodeURIComponent(q)))}>
              All results for “{q}” ↵
            </a>
          </li>
        </ul>
      )}
    </div>
  );
}

function Header({ who, path }) {
  const nav = [['/', 'Products'], ['/repos', 'Domains'], ['/sql', 'SQL']];
  const current = (href) => (href === '/' ? path === '/' || path.startsWith('/products') : path.startsWith(href));
  return (
    <header class="topbar">
      <Link href="/" class="brand">
        <img src="/ui/favicon.svg" alt="" width="24" height="24" /> lakemesh
      </Link>
      <nav>
        {nav.map(([href, label]) => (
          <Link href={href} class={current(href) ? 'active' : ''}>{label}</Link>
        ))}
      </nav>
      <InstantSearch />
      <div class="who">
        <span title={who.accessKeyId}>{who.name}</span>
        <button
          class="link"
          onClick={() => {
            signOut();
            navigate('/signin');
          }}
        >
          Sign out
        </button>
      </div>
    </header>
  );
}

function SignInPage({ next }) {
  const [keyId, setKeyId] = useState('');
  const [secret, setSecret] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useReady(true);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(keyId.trim(), secret.trim(), remember);
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    } catch (err) {
      setError(err.status === 401 || err.status === 403 ? 'That access key id and secret do not match a key of this server.' : err.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="signin">
      <form onSubmit={submit} class="card">
        <h1>
          <img src="/ui/favicon.svg" alt="" width="32" height="32" /> Sign in to lakemesh
        </h1>
        <p class="muted">Use an access key of this server: the one printed when it first started, or one from <code>lakemesh keys create</code>.</p>
        <label>
          Access key id
          <input name="access_key_id" autocomplete="username" required value={keyId} onInput={(e) => setKeyId(e.target.value)} autofocus />
        </label>
        <label>
          Secret access key
          <input name="secret" type="password" autocomplete="current-password" required value={secret} onInput={(e) => setSecret(e.target.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} /> Keep me signed in on this computer for 7 days
        </label>
        {error && <p class="form-error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </div>
  );
}

function App() {
  const { path, query } = useLocation();
  const who = session();
  useEffect(() => {
    if (!who && path !== '/signin') {
      navigate('/signin' + (path === '/' ? '' : '?next=' + encodeURIComponent(path + location.search)), { replace: true });
    }
  });
  if (path === '/signin') return <SignInPage next={query.get('next')} />;
  if (!who) return null;
  let page = null;
  for (const [pattern, Page] of ROUTES) {
    const params = match(pattern, path);
    if (params) {
      page = <Page {...params} query={query} who={who} key={pattern + JSON.stringify(params)} />;
      break;
    }
  }
  return (
    <div class="app">
      <Header who={who} path={path} />
      <main>{page || <NotFoundPage path={path} />}</main>
    </div>
  );
}

// An error while rendering shows as a page, not as a blank screen.
addEventListener('error', (e) => {
  const root = document.getElementById('app');
  if (root && !root.firstChild) render(<ErrorView error={e.error || new Error(e.message)} />, root);
});

render(<App />, document.getElementById('app'));
