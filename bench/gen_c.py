#!/usr/bin/env python3
"""gen_c.py [--functions N] OUT - write the C file the compile workloads build.

N functions (default 60) with loops, switches and string tables, each
calling the one before it, 15 lines each (N * 15 + 1 lines in all). At 60,
enough for cc1's obstacks and GC heap to grow to several MiB at -O2 (about
3 s and 40 MiB peak for `gcc -O2 -c`): used so by bench/fidelity/run.sh
(cc1 recorded) and bench/alloc/programs.sh (gcc under each allocator).
bench/record/run.sh compiles a 1500-function file (22,501 lines) with cc1
-O1, the recorder's cost on a "generated 20k-line file". The file depends
on N only: the same on every call.
"""
import sys

args = sys.argv[1:]
n = 60
if len(args) == 3 and args[0] == "--functions" and args[1].isdigit() \
        and int(args[1]) > 0:
    n = int(args[1])
    args = args[2:]
if len(args) != 1:
    sys.exit("usage: gen_c.py [--functions N] OUT")
with open(args[0], "w") as f:
    f.write("struct s { int a, b; double c; char n[16]; };\n")
    for i in range(n):
        f.write(f"""
static const char *names{i}[] = {{ {", ".join('"n%d_%d"' % (i, k) for k in range(12))} }};
int f{i}(struct s *p, int n) {{
    int acc = {i};
    for (int k = 0; k < n; k++) {{
        switch ((k + acc) % 7) {{
        case 0: acc += p[k].a * {i % 13 + 1}; break;
        case 1: acc ^= p[k].b << {i % 5}; break;
        case 2: acc -= (int)(p[k].c * {i}.5); break;
        case 3: acc += names{i}[k % 12][0]; break;
        default: acc = acc * 31 + k;
        }}
    }}
    return acc{" + f%d(p, n - 1)" % (i - 1) if i else ""};
}}
""")
