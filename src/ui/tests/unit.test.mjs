// Unit tests of the web UI's logic that has no DOM: line diffs, CSV, lineage.
//   node --test src/ui/tests/   (ctest runs it as ui_unit)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toCsv } from '../app/csv.js';
import { hunks, lineDiff } from '../app/diff.js';
import { lineageOf } from '../app/lineage.js';

// Applies a diff to its left side: the right side must come out.
function apply(a, diff) {
  const out = [];
  let i = 0;
  for (const l of diff) {
    if (l.op === ' ') {
      assert.equal(a[i], l.text);
      out.push(a[i++]);
    } else if (l.op === '-') {
      assert.equal(a[i++], l.text);
    } else {
      out.push(l.text);
    }
  }
  assert.equal(i, a.length);
  return out;
}

test('a line diff turns the left lines into the right ones, with as few edits as possible', () => {
  assert.deepEqual(lineDiff(['a', 'b', 'c'], ['a', 'x', 'c']).map((l) => l.op + l.text), [' a', '-b', '+x', ' c']);
  assert.deepEqual(lineDiff([], ['1', '2']).map((l) => l.op + l.text), ['+1', '+2']);
  assert.deepEqual(lineDiff(['1'], []).map((l) => l.op + l.text), ['-1']);
  assert.deepEqual(lineDiff([], []), []);
  let seed = 7;
  const rnd = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  for (let round = 0; round < 300; round++) {
    const a = Array.from({ length: rnd(30) }, () => String(rnd(5)));
    const b = Array.from({ length: rnd(30) }, () => String(rnd(5)));
    const d = lineDiff(a, b);
    assert.deepEqual(apply(a, d), b);
    // Never more edits than replacing everything, and none for equal sides.
    const edits = d.filter((l) => l.op !== ' ').length;
    assert.ok(edits <= a.length + b.length);
    assert.equal(lineDiff(a, a).filter((l) => l.op !== ' ').length, 0);
  }
});

test('a diff too large to show is refused rather than computed', () => {
  const a = Array.from({ length: 3000 }, (_, i) => 'a' + i);
  const b = Array.from({ length: 3000 }, (_, i) => 'b' + i);
  assert.equal(lineDiff(a, b, 100), null);
});

test('hunks keep three lines around each change and count the rest', () => {
  const a = Array.from({ length: 20 }, (_, i) => 'l' + i);
  const b = [...a];
  b[10] = 'changed';
  const h = hunks(lineDiff(a, b));
  assert.deepEqual(h.map((l) => l.op), ['…', ' ', ' ', ' ', '-', '+', ' ', ' ', ' ', '…']);
  assert.equal(h[0].text, '7 unchanged lines');
  assert.equal(h[h.length - 1].text, '6 unchanged lines');
});

test('CSV quotes what needs quoting, leaves NULL empty and writes nested values as JSON', () => {
  const csv = toCsv(
    [{ name: 'id' }, { name: 'note, "quoted"' }, { name: 'v' }],
    [
      [1, 'plain', null],
      [2, 'a,b', { k: [1, 2] }],
      [3, 'say "hi"\nbye', ' padded '],
    ],
  );
  assert.equal(
    csv,
    'id,"note, ""quoted""",v\r\n' +
      '1,plain,\r\n' +
      '2,"a,b","{""k"":[1,2]}"\r\n' +
      '3,"say ""hi""\nbye"," padded "\r\n',
  );
});

test('lineage follows input ports upstream and consumers downstream, across several hops', () => {
  const p = (id, inputs = [], status = 'published') => ({ id, inputPorts: inputs, status });
  const products = [
    p('customers.customers'),
    p('sales.orders', ['customers.customers']),
    p('marketing.campaigns', ['sales.orders']),
    p('finance.revenue', ['sales.orders', 'ghost.gone']),
    p('other.unrelated'),
  ];
  const { nodes, edges } = lineageOf('sales.orders', products);
  const layer = Object.fromEntries(nodes.map((n) => [n.id, n.layer]));
  assert.deepEqual(layer, {
    'sales.orders': 0,
    'customers.customers': -1,
    'marketing.campaigns': 1,
    'finance.revenue': 1,
  });
  assert.deepEqual(edges.map((e) => e.join(' -> ')).sort(), [
    'customers.customers -> sales.orders',
    'sales.orders -> finance.revenue',
    'sales.orders -> marketing.campaigns',
  ]);
  // Upstream of a consumer: a product named as an input that the mesh does not have is kept,
  // marked missing (no product).
  const up = lineageOf('finance.revenue', products);
  const ghost = up.nodes.find((n) => n.id === 'ghost.gone');
  assert.equal(ghost.layer, -1);
  assert.equal(ghost.product, undefined);
  assert.equal(up.nodes.find((n) => n.id === 'customers.customers').layer, -2);
  // A cycle ends.
  const cyc = lineageOf('a.x', [p('a.x', ['b.y']), p('b.y', ['a.x'])]);
  assert.equal(cyc.nodes.length, 2);
});
