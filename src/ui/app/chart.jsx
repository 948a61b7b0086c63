// A bar or line chart of a query result: one label column on x, one or more numeric columns on y.
const COLORS = ['#0e7c86', '#e07a2f', '#5b6ee1', '#c2417a', '#4f9d45', '#8a6d3b'];

export function isNumericType(t) {
  return /^(tinyint|smallint|integer|bigint|real|double|decimal|hugeint|ubigint|uinteger|usmallint|utinyint|float)/i.test(t || '');
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(0) + 'k';
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

export function Chart({ kind, labels, series, width = 860, height = 320 }) {
  const pad = { l: 56, r: 16, t: 16, b: 64 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const values = series.flatMap((s) => s.values).filter(Number.isFinite);
  const lo = Math.min(0, ...values);
  const hi = niceMax(Math.max(0, ...values));
  const min = lo < 0 ? -niceMax(-lo) : 0;
  const y = (v) => pad.t + h - ((v - min) / (hi - min)) * h;
  const n = labels.length;
  const band = w / Math.max(n, 1);
  const x = (i) => pad.l + band * i + band / 2;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => min + f * (hi - min));
  const every = Math.max(1, Math.ceil(n / 24));
  const barW = Math.max(1, (band * 0.8) / series.length);
  return (
    <svg class="chart" viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={`${kind} chart`}>
      {ticks.map((t) => (
        <g>
          <line x1={pad.l} x2={width - pad.r} y1={y(t)} y2={y(t)} class="gridline" />
          <text x={pad.l - 6} y={y(t) + 4} text-anchor="end" class="axis">{fmt(t)}</text>
        </g>
      ))}
      {labels.map((l, i) =>
        i % every === 0 ? (
          <text x={x(i)} y={pad.t + h + 14} text-anchor="end" transform={`rotate(-35 ${x(i)} ${pad.t + h + 14})`} class="axis">
            {String(l).length > 14 ? String(l).slice(0, 13) + '…' : String(l)}
          </text>
        ) : null,
      )}
      {kind === 'bar'
        ? series.map((s, si) =>
            s.values.map((v, i) =>
              Number.isFinite(v) ? (
                <rect class="bar" x={x(i) - (band * 0.4) + si * barW} width={barW} y={Math.min(y(v), y(0))} height={Math.abs(y(v) - y(0))} fill={COLORS[si % COLORS.length]}>
                  <title>{`${labels[i]} · ${s.name}: ${v}`}</title>
                </rect>
              ) : null,
            ),
          )
        : series.map((s, si) => (
            <g>
              <polyline
                fill="none"
                stroke={COLORS[si % COLORS.length]}
                stroke-width="2"
                points={s.values.map((v, i) => (Number.isFinite(v) ? `${x(i)},${y(v)}` : '')).filter(Boolean).join(' ')}
              />
              {n <= 60 && s.values.map((v, i) => Number.isFinite(v) && <circle cx={x(i)} cy={y(v)} r="3" fill={COLORS[si % COLORS.length]}><title>{`${labels[i]} · ${s.name}: ${v}`}</title></circle>)}
            </g>
          ))}
      <line x1={pad.l} x2={width - pad.r} y1={y(0)} y2={y(0)} class="zeroline" />
      {series.length > 1 &&
        series.map((s, si) => (
          <g transform={`translate(${pad.l + si * 150}, ${height - 12})`}>
            <rect width="10" height="10" y="-9" fill={COLORS[si % COLORS.length]} />
            <text x="14" class="axis">{s.name}</text>
          </g>
        ))}
    </svg>
  );
}
