// The lineage of a product: its upstream products (input ports, followed back) and downstream
// products (those whose input ports name it, followed on), drawn left to right as layers.
import { enc } from './api.js';
import { lineageOf } from './lineage.js';
import { navigate } from './router.js';

const W = 190;
const H = 50;
const GAP_X = 70;
const GAP_Y = 18;

export function LineageGraph({ center, products }) {
  const { nodes, edges } = lineageOf(center, products);
  const layers = [...new Set(nodes.map((n) => n.layer))].sort((a, b) => a - b);
  const pos = new Map();
  let height = 0;
  layers.forEach((l, col) => {
    const here = nodes.filter((n) => n.layer === l).sort((a, b) => a.id.localeCompare(b.id));
    here.forEach((n, row) => pos.set(n.id, { x: 10 + col * (W + GAP_X), y: 10 + row * (H + GAP_Y), n }));
    height = Math.max(height, here.length * (H + GAP_Y));
  });
  const width = 20 + layers.length * W + (layers.length - 1) * GAP_X;
  const open = (id) => {
    const [d, ...rest] = id.split('.');
    navigate(`/products/${enc(d)}/${enc(rest.join('.'))}`);
  };
  return (
    <div class="lineage">
      <svg width={width} height={height + 10} viewBox={`0 0 ${width} ${height + 10}`} role="img" aria-label={`lineage of ${center}`}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
          </marker>
        </defs>
        {edges.map(([from, to]) => {
          const a = pos.get(from);
          const b = pos.get(to);
          if (!a || !b) return null;
          const x1 = a.x + W;
          const y1 = a.y + H / 2;
          const x2 = b.x;
          const y2 = b.y + H / 2;
          const mx = (x1 + x2) / 2;
          return <path class="edge" d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`} marker-end="url(#arrow)" />;
        })}
        {[...pos.values()].map(({ x, y, n }) => {
          const missing = !n.product;
          const cls = 'node' + (n.id === center ? ' center' : '') + (missing ? ' missing' : '') + (n.product ? ' ' + n.product.status : '');
          return (
            <g class={cls} transform={`translate(${x},${y})`} onClick={() => !missing && n.id !== center && open(n.id)} data-product={n.id}>
              <title>{missing ? `${n.id}: no such product at main` : n.id}</title>
              <rect width={W} height={H} rx="8" />
              <text x="12" y="20" class="node-domain">{n.id.split('.')[0]}</text>
              <text x="12" y="38" class="node-name">{n.id.split('.').slice(1).join('.')}</text>
              <text x={W - 10} y="20" text-anchor="end" class="node-status">
                {missing ? 'missing' : n.product.status}
              </text>
            </g>
          );
        })}
      </svg>
      {nodes.length === 1 && <p class="muted">No product reads this one and it reads no other product.</p>}
    </div>
  );
}
