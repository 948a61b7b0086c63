// The lineage of a data product among the mesh's products.

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
