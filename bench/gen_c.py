#!/usr/bin/env python3
"""gen_c.py OUT - write the C file the compile workloads build.

60 functions with loops, switches and string tables, each calling the one
before it: enough for cc1's obstacks and GC heap to grow to several MiB at
-O2 (about 3 s and 40 MiB peak for `gcc -O2 -c`). Used by
bench/fidelity/run.sh (cc1 recorded) and bench/alloc/programs.sh (gcc
under each allocator); the file is the same on every call.
"""
import sys

if len(sys.argv) != 2:
    sys.exit("usage: gen_c.py OUT")
with open(sys.argv[1], "w") as f:
    f.write("struct s { int a, b; double c; char n[16]; };\n")
    for i in range(60):
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
