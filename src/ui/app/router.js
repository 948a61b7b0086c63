// A small router over the History API: the server answers every page of the app with the same
// index.html, and the app picks the page from the path.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set();

// Counts navigations; a page is "ready" (components.jsx, useReady) once per navigation.
export let navSeq = 0;

function changed() {
  navSeq++;
  delete document.body.dataset.ready;
  for (const f of listeners) f();
}

export function navigate(to, { replace = false } = {}) {
  if (to === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', to);
  changed();
  if (!replace) window.scrollTo(0, 0);
}

addEventListener('popstate', changed);

// The current location; re-renders on every navigation.
export function useLocation() {
  const [, tick] = useState(0);
  useEffect(() => {
    const f = () => tick((n) => n + 1);
    listeners.add(f);
    return () => listeners.delete(f);
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

// Matches '/products/:domain/:name' against a path: the decoded parameters, or null.
export function match(pattern, path) {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return null;
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) {
      try {
        params[p[i].slice(1)] = decodeURIComponent(s[i]);
      } catch {
        return null;
      }
      if (!params[p[i].slice(1)]) return null;
    } else if (p[i] !== s[i]) {
      return null;
    }
  }
  return params;
}

// An in-app link: a plain <a> (so that opening in a new tab works) that navigates in place.
export function Link({ href, children, ...rest }) {
  const onClick = (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return h('a', { href, onClick, ...rest }, children);
}
