"""The SQL logic tests of test/sql (format in test/sql/README.md) over the PostgreSQL protocol
with psycopg2: the same files the in-process runner (src/sql/tests/logic_test.cc) runs, each on a
fresh server with the domain `shop`. Values are compared in PostgreSQL's text format, as the
server sends them."""
import glob
import os

import psycopg2
import psycopg2.extensions
import pytest

from test_iceberg import Iceberg
from test_sql import dsn

HERE = os.path.dirname(__file__)
FILES = sorted(glob.glob(os.path.join(HERE, "..", "sql", "*.test")))

# Every type as the text the server sent.
TEXT = psycopg2.extensions.new_type(
    (16, 17, 20, 21, 23, 25, 114, 700, 701, 1043, 1082, 1083, 1114, 1184, 1186, 1700, 2950,
     # arrays of those
     1000, 1001, 1005, 1007, 1009, 1015, 1016, 1021, 1022, 1115, 1182, 1183, 1185, 1187, 1231,
     199, 2951),
    "AS_TEXT", lambda value, cursor: value)


def parse(path):
    records, cur, in_results = [], None, False
    with open(path) as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        if line.startswith("#"):
            continue
        if not line:
            if cur:
                records.append(cur)
            cur, in_results = None, False
            continue
        if cur is None:
            if line == "statement ok":
                cur = {"kind": "ok"}
            elif line.startswith("statement error"):
                cur = {"kind": "error", "state": line[16:]}
            elif line in ("query", "query rowsort"):
                cur = {"kind": "query", "rowsort": line != "query"}
            else:
                raise AssertionError("%s:%d: unknown record %r" % (path, n, line))
            cur.update(sql=[], expected=[], line=n)
            continue
        if cur["kind"] == "query" and line == "----":
            in_results = True
        elif in_results:
            cur["expected"].append(line)
        else:
            cur["sql"].append(line)
    if cur:
        records.append(cur)
    return records


@pytest.mark.parametrize("path", FILES, ids=[os.path.basename(f)[:-5] for f in FILES])
def test_logic_file_over_the_wire(server, path):
    assert Iceberg(server).call("POST", "/namespaces", {"namespace": ["shop"]}).status_code == 200
    conn = psycopg2.connect(dsn(server))
    conn.autocommit = True
    psycopg2.extensions.register_type(TEXT, conn)
    cur = conn.cursor()
    for r in parse(path):
        sql, where = "\n".join(r["sql"]), "%s:%d" % (os.path.basename(path), r["line"])
        if r["kind"] == "error":
            with pytest.raises(psycopg2.Error) as e:
                cur.execute(sql)
            assert e.value.pgcode == r["state"], (where, e.value.pgcode, str(e.value))
            continue
        cur.execute(sql)
        if r["kind"] == "query":
            rows = ["|".join("NULL" if v is None else v for v in row) for row in cur.fetchall()]
            if r["rowsort"]:
                assert sorted(rows) == sorted(r["expected"]), where
            else:
                assert rows == r["expected"], where
