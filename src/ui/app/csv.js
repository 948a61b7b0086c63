// A query result as CSV (RFC 4180): fields with a comma, quote, line break or surrounding blanks
// are quoted; NULL is an empty field; nested values are JSON.
export function toCsv(columns, rows) {
  const field = (v) => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  return [columns.map((c) => field(c.name)).join(','), ...rows.map((r) => r.map(field).join(','))].join('\r\n') + '\r\n';
}
