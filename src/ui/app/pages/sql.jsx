// The SQL editor: a query at a chosen ref, results in pages, a chart, CSV, and the history of
// the queries run from this browser.
import { useEffect, useRef, useState } from 'preact/hooks';
import { runSql, saveBlob } from '../api.js';
import { navigate } from '../router.js';
import { Badge, DataGrid, ErrorView, Tabs, Time, useReady } from '../components.jsx';
import { Chart, isNumericType } from '../chart.jsx';
import { toCsv } from '../csv.js';

const HISTORY = 'lakemesh.sqlHistory';
const MAX_HISTORY = 50;
const MAX_ROWS = 10000;

function loadHistory() {
  try {
    return JSON.parse(localStorage.getItem(HISTORY)) || [];
  } catch {
    return [];
  }
}

function remember(entry) {
  const h = loadHistory().filter((e) => !(e.sql === entry.sql && e.ref === entry.ref));
  h.unshift(entry);
  localStorage.setItem(HISTORY, JSON.stringify(h.slice(0, MAX_HISTORY)));
}

function ChartView({ result }) {
  const numeric = result.columns.map((c, i) => [c, i]).filter(([c]) => isNumericType(c.type));
  const firstLabel = result.columns.findIndex((c) => !isNumericType(c.type));
  const [kind, setKind] = useState('bar');
  const [xi, setX] = useState(firstLabel >= 0 ? firstLabel : 0);
  const [ys, setYs] = useState(numeric.filter(([, i]) => i !== xi).slice(0, 1).map(([, i]) => i));
  if (numeric.length === 0) return <p class="muted">A chart needs at least one numeric column in the result.</p>;
  const rows = result.rows.slice(0, 500);
  const labels = rows.map((r) => (r[xi] === null ? 'NULL' : r[xi]));
  const series = ys.map((i) => ({ name: result.columns[i].name, values: rows.map((r) => (r[i] === null ? NaN : Number(r[i]))) }));
  return (
    <div>
      <div class="toolbar chart-controls">
        <label>
          chart
          <select value={kind} onChange={(e) => setKind(e.target.value)} aria-label="chart kind">
            <option value="bar">bar</option>
            <option value="line">line</option>
          </select>
        </label>
        <label>
          x
          <select value={xi} onChange={(e) => setX(Number(e.target.value))} aria-label="x column">
            {result.columns.map((c, i) => <option value={i}>{c.name}</option>)}
          </select>
        </label>
        <span>y</span>
        {numeric.map(([c, i]) => (
          <label class="check">
            <input type="checkbox" checked={ys.includes(i)} onChange={(e) => setYs(e.target.checked ? [...ys, i] : ys.filter((y) => y !== i))} /> {c.name}
          </label>
        ))}
      </div>
      {ys.length === 0 ? <p class="muted">Pick a column for y.</p> : <Chart kind={kind} labels={labels} series={series} />}
      {result.rows.length > rows.length && <p class="muted small">The chart shows the first {rows.length} rows.</p>}
    </div>
  );
}

export function SqlPage({ query }) {
  const [sql, setSql] = useState(query.get('q') || 'SELECT 1');
  const [refName, setRef] = useState(query.get('ref') || 'main');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [running, setRunning] = useState(false);
  const [view, setView] = useState('grid');
  const [history, setHistory] = useState(loadHistory);
  const cancel = useRef(null);
  useReady(true);
  useEffect(() => {
    if (query.get('q')) setSql(query.get('q'));
    if (query.get('ref')) setRef(query.get('ref'));
  }, [query.toString()]);

  const run = async (text = sql) => {
    if (running || !text.trim()) return;
    setRunning(true);
    setError(null);
    const at = new Date().toISOString();
    try {
      const r = await runSql(text, { ref: refName, maxRows: MAX_ROWS, onQueued: (c) => (cancel.current = c) });
      setResult(r);
      remember({ sql: text, ref: refName, at, rows: r.rows.length, ms: Math.round(r.elapsedMs), ok: true });
    } catch (e) {
      setResult(null);
      setError(e);
      remember({ sql: text, ref: refName, at, ok: false, error: e.message });
    } finally {
      cancel.current = null;
      setRunning(false);
      setHistory(loadHistory());
    }
  };
  const onKey = (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
      e.preventDefault();
      run();
    }
  };
  const csv = () => saveBlob(new Blob([toCsv(result.columns, result.rows)], { type: 'text/csv' }), 'result.csv');
  return (
    <div class="page sql">
      <div class="sql-main">
        <h1>SQL</h1>
        <div class="editor">
          <textarea value={sql} onInput={(e) => setSql(e.target.value)} onKeyDown={onKey} spellcheck={false} aria-label="SQL query" rows="8" />
          <div class="toolbar">
            <button class="primary" onClick={() => run()} disabled={running}>{running ? 'Running…' : 'Run'}</button>
            {running && <button onClick={() => cancel.current && cancel.current()}>Cancel</button>}
            <label class="ref-picker">
              <span>at ref</span>
              <input value={refName} onChange={(e) => setRef(e.target.value.trim() || 'main')} size="14" aria-label="ref" />
            </label>
            <span class="muted small">Ctrl+Enter runs. Tables are <code>domain.table</code>; the ref applies to every domain (<code>domain."table@ref"</code> picks one).</span>
          </div>
        </div>
        {error && <ErrorView error={error} />}
        {result && (
          <div class="result">
            <div class="toolbar">
              <Tabs tabs={[['grid', 'Results'], ['chart', 'Chart']]} active={view} onChange={setView} />
              <span class="muted small">
                {result.updateType && !result.columns.length ? `${result.updateType}${result.updateCount != null ? ': ' + result.updateCount + ' rows' : ''}` : `${result.rows.length.toLocaleString()} row${result.rows.length === 1 ? '' : 's'}`}
                {' '}in {(result.elapsedMs / 1000).toFixed(2)} s
              </span>
              {result.columns.length > 0 && <button class="small" onClick={csv}>Download CSV</button>}
            </div>
            {result.columns.length > 0 &&
              (view === 'grid' ? (
                <DataGrid columns={result.columns} rows={result.rows} note={result.truncated ? `the first ${MAX_ROWS.toLocaleString()} rows; add a LIMIT or use psql for all` : null} />
              ) : (
                <ChartView result={result} key={result.columns.map((c) => c.name).join()} />
              ))}
          </div>
        )}
      </div>
      <aside class="history">
        <h2>History</h2>
        {history.length === 0 && <p class="muted small">Queries you run are kept here, in this browser.</p>}
        <ul>
          {history.map((h) => (
            <li>
              <button
                class="history-item"
                title={h.sql}
                onClick={() => {
                  setSql(h.sql);
                  setRef(h.ref);
                  navigate('/sql', { replace: true });
                }}
              >
                <code>{h.sql.length > 90 ? h.sql.slice(0, 90) + '…' : h.sql}</code>
                <span class="muted small">
                  {h.ok ? <Badge kind="ok">{h.rows} rows</Badge> : <Badge kind="bad">error</Badge>} {h.ref} · <Time at={h.at} />
                </span>
              </button>
            </li>
          ))}
        </ul>
        {history.length > 0 && (
          <button
            class="small link"
            onClick={() => {
              localStorage.removeItem(HISTORY);
              setHistory([]);
            }}
          >
            Clear history
          </button>
        )}
      </aside>
    </div>
  );
}
