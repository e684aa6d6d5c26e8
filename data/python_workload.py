#!/usr/bin/env python3
"""data/python_workload.py - print the Python workload (a program for
`python3 FILE`) that every script running Python under the recorder or an
allocator uses: data/record.sh (data/python.ast), bench/fidelity/run.sh,
bench/record/run.sh and bench/alloc/programs.sh. One text, sized and
trimmed by options, so that the workloads stay alike and each caller's
stays exactly what it measured (the printed program is what runs, so its
text, not only its effect, is the recipe of a recorded trace).

  data/python_workload.py DOCS [OPTION...] >work.py

The program, in order: seeds the generator with 7; builds DOCS documents
{"id", "name", "tags" (8 random numbers as strings), "score"}; dumps them
to JSON text and parses it back; indexes the parsed documents by the first
4 characters of each tag; then, as the options say, sorts the set of the
names' words, drops the documents and the text, and keeps the documents
scoring over 50; prints a few lengths.

Options (the defaults are data/record.sh's, the workload of
data/python.ast):
  --list          build the documents in one list comprehension instead of
                  a loop appending them one by one
  --no-text       dump and parse in one expression: the text is never named
  --no-words      leave out the sorted set of words
  --drop          delete the documents and the text once parsed
  --keep filter   keep the documents scoring over 50 (default)
  --keep sorted   ... sorted by name
  --keep none     keep nothing
Exit 2 on a usage error.
"""
import sys


def usage(why):
    sys.stderr.write(
        "python_workload.py: %s\n"
        "usage: python_workload.py DOCS [--list] [--no-text] [--no-words]"
        " [--drop] [--keep filter|sorted|none]\n" % why)
    sys.exit(2)


def main(argv):
    if not argv:
        usage("DOCS is required")
    if not argv[0].isdigit() or int(argv[0]) < 1:
        usage("DOCS takes a positive whole number, not '%s'" % argv[0])
    docs, rest = int(argv[0]), argv[1:]
    text = words = True
    listed = drop = False
    keep = "filter"
    while rest:
        o = rest.pop(0)
        if o == "--list":
            listed = True
        elif o == "--no-text":
            text = False
        elif o == "--no-words":
            words = False
        elif o == "--drop":
            drop = True
        elif o == "--keep":
            if not rest or rest[0] not in ("filter", "sorted", "none"):
                usage("--keep takes filter, sorted or none")
            keep = rest.pop(0)
        else:
            usage("unknown option '%s'" % o)

    out = ["import json, random", "random.seed(7)"]
    if listed:
        out += ['docs = [{"id": i, "name": "user%d" % i,',
                '         "tags": [str(random.random()) for _ in range(8)],',
                '         "score": random.random() * 100}'
                ' for i in range(%d)]' % docs]
    else:
        out += ["docs = []",
                "for i in range(%d):" % docs,
                '    d = {"id": i, "name": "user%d" % i,'
                ' "tags": [str(random.random()) for _ in range(8)],',
                '         "score": random.random() * 100}',
                "    docs.append(d)"]
    if text:
        out += ["text = json.dumps(docs)", "back = json.loads(text)"]
    else:
        out += ["back = json.loads(json.dumps(docs))"]
    out += ["index = {}",
            "for d in back:",
            '    for t in d["tags"]:',
            '        index.setdefault(t[:4], []).append(d["id"])']
    if words:
        out += ['words = sorted(set(" ".join(d["name"] for d in back)'
                '.split()))']
    if drop:
        out += ["del docs, text" if text else "del docs"]
    if keep == "filter":
        out += ['keep = [d for d in back if d["score"] > 50]']
    elif keep == "sorted":
        out += ['keep = sorted((d for d in back if d["score"] > 50),'
                ' key=lambda d: d["name"])']
    shown = ["len(text)" if text and not drop else "len(back)", "len(index)"]
    if words:
        shown.append("len(words)")
    if keep != "none":
        shown.append("len(keep)")
    out += ["print(%s)" % ", ".join(shown)]
    sys.stdout.write("\n".join(out) + "\n")


main(sys.argv[1:])
