// A line diff (Myers' O(ND) algorithm) for showing what a commit changed in a text file.
// Returns [{op: ' ' | '-' | '+', text}], or null when the files are too different to show.
export function lineDiff(a, b, maxEdits = 4000) {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const off = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x;
      if (k === -d || (k !== d && v[off + k - 1] < v[off + k + 1])) x = v[off + k + 1];
      else x = v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(trace, v, a, b, d, off);
    }
  }
  return null;
}

function backtrack(trace, last, a, b, d, off) {
  const out = [];
  let x = a.length;
  let y = b.length;
  for (let e = d; e > 0; e--) {
    const v = trace[e];
    const k = x - y;
    const prevK = k === -e || (k !== e && v[off + k - 1] < v[off + k + 1]) ? k + 1 : k - 1;
    const px = v[off + prevK];
    const py = px - prevK;
    while (x > px && y > py) out.push({ op: ' ', text: a[--x] }), y--;
    if (x === px) out.push({ op: '+', text: b[--y] });
    else out.push({ op: '-', text: a[--x] });
  }
  while (x > 0) out.push({ op: ' ', text: a[--x] }), y--;
  return out.reverse();
}

// Keeps `context` unchanged lines around each change; longer unchanged runs become a gap marker.
export function hunks(diff, context = 3) {
  const keep = new Array(diff.length).fill(false);
  diff.forEach((l, i) => {
    if (l.op !== ' ') for (let j = Math.max(0, i - context); j <= Math.min(diff.length - 1, i + context); j++) keep[j] = true;
  });
  const out = [];
  let gap = 0;
  diff.forEach((l, i) => {
    if (keep[i]) {
      if (gap) out.push({ op: '…', text: `${gap} unchanged line${gap === 1 ? '' : 's'}` });
      gap = 0;
      out.push(l);
    } else {
      gap++;
    }
  });
  if (gap) out.push({ op: '…', text: `${gap} unchanged line${gap === 1 ? '' : 's'}` });
  return out;
}
