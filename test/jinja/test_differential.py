#!/usr/bin/python3
"""Differential test of lakemesh's Jinja engine against Python's Jinja2 (Debian
python3-jinja2): every case of corpus.json must render to the same text, byte for byte, or fail
in both. Usage: test_differential.py JINJA_RENDER_BINARY [CORPUS]"""
import json
import os
import subprocess
import sys

import jinja2


def environment(case):
    """Jinja2 set up as a corpus case asks (also used by bench/jinja_bench.py)."""
    opts = case.get("options", {})
    return jinja2.Environment(
        loader=jinja2.DictLoader(case.get("templates", {})),
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
        trim_blocks=opts.get("trim_blocks", False),
        lstrip_blocks=opts.get("lstrip_blocks", False),
        keep_trailing_newline=opts.get("keep_trailing_newline", False))


def render_python(case):
    env = environment(case)
    try:
        return {"out": env.from_string(case["template"]).render(**case.get("context", {}))}
    except Exception as e:  # noqa: BLE001
        return {"error": "%s: %s" % (type(e).__name__, e)}


def main():
    binary = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    corpus_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "corpus.json")
    corpus = json.load(open(corpus_path))
    ours = json.loads(subprocess.run([binary, corpus_path], capture_output=True, text=True,
                                     check=True).stdout)
    failures = 0
    for case in corpus:
        name = case["name"]
        want = render_python(case)
        got = ours.get(name)
        if "error" in want:
            ok = got is not None and "error" in got
        else:
            ok = got == want
        if not ok:
            failures += 1
            print("MISMATCH %s\n  template: %r\n  jinja2:   %r\n  lakemesh: %r"
                  % (name, case["template"], want, got))
    print("%d of %d cases match Jinja2 %s" % (len(corpus) - failures, len(corpus), jinja2.__version__))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
