// The lineage of a product: its upstream products (input ports, followed back) and downstream
// products (those whose input ports name it, followed on), drawn left to right as layers.
import { enc } from './api.js';
import { navigate } from './router.js';

const W = 190;
const H = 50;
const GAP_X = 70;
const GAP_Y = 18;

// Layers by distance from `center`: negative upstream, positive downstream. `products` are the
// listing's summaries ({id, status, inputPorts}).
export function lineageOf(center, products) {
  const byId = new Map(products.map((p) => [p.id, p]));
  const users = new Map();
  for (const p of products) {
    for (const i of p.inputPorts) {
      if (!users.has(i)) users.set(i, []);
      users.get(i).push(p.id);
    }
  }
  const layer = new Map([[center, 0]]);
  const edges = new Set();
  const walk = (start, next, dir) => {
    const queue = [start];
    while (queue.length) {
      const id = queue.shift();
      for (const n of next(id)) {
        edges.add(dir < 0 ? n + '\u0000' + id : id + '\u0000' + n);
        if (!layer.has(n)) {
          layer.set(n, layer.get(id) + dir);
          queue.push(n);
        }
      }
    }
  };
  walk(center, (id) => (byId.get(id) ? byId.get(id).inputPorts : []), -1);
  walk(center, (id) => users.get(id) || [], +1);
  const nodes = [...layer.entries()].map(([id, l]) => ({ id, layer: l, product: byId.get(id) }));
  return { nodes, edges: [...edges].map((e) => e.split('\u0000')) };
}

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
