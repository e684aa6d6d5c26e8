#!/usr/bin/env bash
# check_cli_grammar.sh - the one command-line grammar, subcommand by
# subcommand (docs/cli.md): --opt=value and --opt value give the same
# result, numbers take units, `-` is standard input or output, `--` ends
# options, unknown options are refused by name, an option of another
# subcommand is refused naming its owner, exit statuses are 0/1/2; and every
# numeric option and a sample of --param refuse hostile numbers (negative,
# blank, empty, 2^64, huge with a unit, a fraction where a whole number is
# needed, a duration without a unit) with "allocsim CMD: --OPT 'VALUE': must
# be ...", exit 2, and no output file.
# Args: build dir, allocsim binary, source dir.
set -u
. "$(dirname "$0")/checklib.sh"
cd "$T" || exit 1

# expect NAME RC PATTERN -- command...: exit status RC, PATTERN (grep -E)
# in stdout+stderr (empty: not checked).
expect() {
  local name=$1 want=$2 pat=$3; shift 4
  "$@" >out.txt 2>err.txt </dev/null; local rc=$?
  if [ "$rc" != "$want" ]; then bad "$name: exit $rc, wanted $want"; cat err.txt; return; fi
  if [ -n "$pat" ] && ! grep -qE -e "$pat" out.txt err.txt; then
    bad "$name: output lacks /$pat/"; cat out.txt err.txt; return; fi
  echo "ok   $name"
}
# refused NAME PATTERN OUTFILE -- command...: exit 2, message, no OUTFILE
# (a run directory may exist, but must hold no file).
refused() {
  local name=$1 pat=$2 outf=$3; shift 4
  rm -rf "$outf" "$outf.tmp"
  expect "$name" 2 "$pat" -- "$@"
  if [ -d "$outf" ] && [ -z "$(ls -A "$outf")" ]; then rmdir "$outf"; fi
  if [ -e "$outf" ] || [ -e "$outf.tmp" ]; then bad "$name: $outf was created"; fi
}
# esc TEXT: TEXT as a literal inside an extended regular expression.
esc() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }
TAB=$'\t'

"$A" gen server-mix --events 20K --seed 2 -o t.ast || { echo "FAIL gen"; exit 1; }

# ---- allocsim itself
expect "--version" 0 "^allocsim [0-9]+\.[0-9]+\.[0-9]+ \(revision [A-Za-z0-9._+-]+\)$" -- "$A" --version
expect "--help" 0 "Exit status: 0 ok, 1 the work failed, 2 bad usage" -- "$A" --help
expect "no command" 2 "usage: allocsim" -- "$A"
expect "unknown command" 2 "unknown command 'frobnicate'" -- "$A" frobnicate

# ---- every subcommand: --help (exit 0, the shared footer), an unknown
# option by name, a misplaced option naming its owner, a flag given a value.
for c in record import gen info cat convert run demo; do
  expect "$c --help" 0 "Exit status: 0 ok, 1 the work failed, 2 bad usage or bad input" -- "$A" $c --help
  expect "$c -h" 0 "^usage: allocsim $c" -- "$A" $c -h
  expect "$c unknown option" 2 "^allocsim $c: unknown option '--no-such-option' \(see allocsim $c --help\)$" -- "$A" $c --no-such-option t.ast
  expect "$c unknown letter" 2 "^allocsim $c: unknown option '-Z'" -- "$A" $c -Z t.ast
done
# one meaning per short letter: every "-x, --name" in every --help is one of
# these pairs (docs/cli.md's table).
letters=" -h,--help -o,--output -q,--quiet -p,--policy -P,--param -n,--events -f,--format "
for c in record import gen info cat convert run demo; do
  "$A" $c --help | grep -oE '^  -[A-Za-z], --[a-z-]+' | tr -d ' ' | while read -r pair; do
    case "$letters" in *" $pair "*) ;; *) echo "FAIL $c: short option $pair is not in the shared table";; esac
  done
done | grep FAIL && fail=1 || echo "ok   short letters mean the same in every subcommand"
expect "info misplaced --policy" 2 "^allocsim info: option '--policy' belongs to run, not info" -- "$A" info --policy bestfit t.ast
expect "run misplaced --trace" 2 "^allocsim run: option '--trace' belongs to demo, not run" -- "$A" run -p bestfit --trace t.ast t.ast -o r
expect "gen misplaced -p" 2 "^allocsim gen: option '-p' \(--policy\) belongs to run, not gen" -- "$A" gen server-mix -p x=1 -o g.ast
expect "cat misplaced --json" 2 "^allocsim cat: option '--json' belongs to info, train, eval, not cat" -- "$A" cat --json t.ast
expect "import misplaced --events" 2 "^allocsim import: option '--events' belongs to gen, not import" -- "$A" import -f text --events 5 x.txt -o i.ast
expect "record misplaced --policy" 2 "^allocsim record: option '--policy' belongs to run, not record" -- "$A" record --policy x -o rec.ast -- true
expect "demo misplaced --policy" 2 "^allocsim demo: option '--policy' belongs to run, not demo" -- "$A" demo --policy bestfit t.ast
expect "flag with a value" 2 "^allocsim info: --json takes no value \(found '--json=yes'\)" -- "$A" info --json=yes t.ast
expect "missing value" 2 "^allocsim gen: --events needs a value \(N\)" -- "$A" gen server-mix -o g.ast --events
expect "no abbreviations" 2 "unknown option '--pol'" -- "$A" run --pol bestfit t.ast

# ---- gen: = form and units give byte-identical traces; - is stdout
"$A" gen server-mix --events=1K --seed=7 --output=g1.ast || bad "gen = form"
"$A" gen server-mix --events=1K --seed=7 -o=g0.ast || bad "gen -o=PATH"
"$A" gen server-mix --events 1000 --seed 7 --output g2.ast || bad "gen space form"
"$A" gen server-mix -n1K --seed 0x7 -o g3.ast || bad "gen -nVALUE, hex seed"
"$A" gen server-mix -qn 1K --seed 7 -o - >g4.ast || bad "gen -o -"
"$A" gen server-mix --seed 7 -n 1K -P server_mix.workers=32 -o g5.ast 2>/dev/null && bad "gen: unknown prefix accepted"
for f in g0 g2 g3 g4; do cmp -s g1.ast $f.ast || bad "gen: $f.ast differs from the = form"; done
"$A" info g1.ast | grep -q "^events            1000 " && echo "ok   gen --events=1K is 1000 events" || bad "gen 1K events"
"$A" gen server-mix -n 1.5K -o g6.ast && "$A" info g6.ast | grep -q "^events            1500 " \
  && echo "ok   gen -n 1.5K is 1500 events" || bad "gen 1.5K"
expect "gen -- ends options" 2 "unknown workload '--events'" -- "$A" gen -o g8.ast -- --events

# ---- info, cat: - is standard input, = form
expect "info -" 0 "^events            20000 " -- sh -c "'$A' info - <t.ast"
expect "info - from a pipe" 0 "^events            20000 " -- sh -c "cat t.ast | '$A' info -"
expect "info --json -" 0 '"events": 20000,' -- sh -c "cat t.ast | '$A' info --json -"
"$A" cat t.ast >t.txt
expect "cat - from a pipe" 0 "" -- sh -c "cat t.ast | '$A' cat - | cmp -s - t.txt"
expect "cat corrupt stdin names <stdin>" 2 "^allocsim cat: <stdin>: offset 0: " -- sh -c "echo garbage | '$A' cat -"
expect "cat -- -" 0 "" -- sh -c "'$A' cat -- - <t.ast | cmp -s - t.txt"
expect "info two traces" 2 "^allocsim info: expected one TRACE, found 't.ast' too" -- "$A" info t.ast t.ast

# ---- import: - for input and output, = form, --match enum
expect "import - -o -" 0 "" -- sh -c "'$A' import --format=text - -o - <t.txt >i1.ast && '$A' cat i1.ast | cmp -s - t.txt"
expect "import -f text, pipe" 0 "" -- sh -c "cat t.txt | '$A' import -f text --chunk-events=1K - -o i2.ast && '$A' cat i2.ast | cmp -s - t.txt"
expect "import bad stdin names <stdin>:LINE" 2 "^allocsim import: <stdin>:2: expected" -- sh -c "printf 'a 1 0 0 0 8 0 0\nf 2 0 0 5\n' | '$A' import -f text - -o i3.ast"
[ -e i3.ast ] && bad "import: i3.ast left behind"
refused "import --match" "^allocsim import: --match 'both': must be one of fifo, lifo$" i4.ast -- "$A" import -f text --match both t.txt -o i4.ast
expect "import --max-events=10" 0 "" -- "$A" import -f text --max-events=10 t.txt -o i5.ast
"$A" info i5.ast | grep -q "^events            10 " && echo "ok   import --max-events=10" || bad "import max-events"

# ---- run: = form equals space form; options after the trace; - as trace
expect "run = form" 0 "peak live" -- "$A" run --policy=bestfit --sample-interval=10ms --thp=never t.ast --output=r1
expect "run space form" 0 "peak live" -- "$A" run -p bestfit --sample-interval 10ms --thp never -o r2 t.ast
expect "run - from a pipe" 0 "peak live" -- sh -c "cat t.ast | '$A' run -qp bestfit --sample-interval 10ms --thp never - -o r3"
for r in r2 r3; do
  if diff <(sed '/"timing"/,$d' r1/summary.json | grep -v '"path"') \
          <(sed '/"timing"/,$d' $r/summary.json | grep -v '"path"') >/dev/null; then
    echo "ok   run: $r/summary.json equals r1's"
  else bad "run: $r/summary.json differs from r1's"; fi
done
grep -q '"allocsim_revision":' r1/summary.json && echo "ok   summary has allocsim_revision" || bad "no allocsim_revision"
expect "run bare ns is refused" 2 "^allocsim run: --sample-interval '1000000': must be a duration with a unit" -- "$A" run -p bestfit --sample-interval 1000000 t.ast -o r4
expect "run --classes bare ns" 2 "^allocsim run: --classes '10,1s': must be an ascending list" -- "$A" run -p bestfit --classes 10,1s t.ast -o r4
expect "run --classes units" 0 "" -- "$A" run -qp bestfit --classes 10ms,1.5s,2h --predictor oracle t.ast -o r5
expect "run -o - is refused" 2 "^allocsim run: -o -: the output is a directory" -- "$A" run -p bestfit t.ast -o -
expect "run --predictor cached alone" 2 "^allocsim run: --predictor cached: cached wraps another predictor; name it as cached:INNER" -- "$A" run -p bestfit --predictor cached t.ast -o r6
expect "run --shadow-predictor cached alone" 2 "^allocsim run: --shadow-predictor cached: cached wraps" -- "$A" run -p bestfit --shadow-predictor cached t.ast -o r6
[ -e r6 ] && bad "run: r6 created by a refused run"
expect "run llama.block_size=3000" 2 "^allocsim run: parameter 'llama.block_size=3000': llama.block_size must be a power of two in bytes \(K, M, G, T: x1024\) from 4K to 64K$" -- "$A" run -p llama -P llama.block_size=3000 t.ast -o r7

# ---- demo: --predictor none is none; positional trace; = form
expect "demo --predictor none" 0 "predictor none" -- "$A" demo --predictor=none t.ast -o d1
grep -A1 '"predictor":' d1/bestfit/summary.json | grep -q "\"name\":$TAB\"none\"" && echo "ok   demo ran predictor none" || bad "demo --predictor none ran another predictor"
expect "demo default oracle" 0 "predictor oracle" -- "$A" demo --trace=t.ast -q -o d2
expect "demo two traces" 2 "^allocsim demo: expected at most one TRACE" -- "$A" demo --trace t.ast t.ast -o d3

# ---- record: = form, units, options end at CMD, -o - refused
if [ -e "$1/traces/record/liballocsim_record.so" ]; then
  expect "record = form and units" 0 "" -- "$A" record --output=rec1.ast --time-resolution=1us --sample-bytes=0 --max-depth=8 --unwind=fp -q -- true
  "$A" info rec1.ast | grep -q "clock_resolution_ns = 1000" && echo "ok   record --time-resolution=1us is 1000 ns" || bad "record resolution"
  expect "record: options end at CMD" 0 "" -- "$A" record -qo rec2.ast sh -c 'exit 0' --no-such-option
  refused "record -o -" "^allocsim record: -o -: not for record" rec3.ast -- "$A" record -o - -- true
  refused "record bare resolution" "^allocsim record: --time-resolution '1000': must be a duration with a unit" rec4.ast -- "$A" record --time-resolution 1000 -o rec4.ast -- true
  expect "record keeps CMD's exit status" 3 "" -- "$A" record -qo rec5.ast -- sh -c 'exit 3'
else
  echo "ok   (recorder not built: record checks skipped)"
fi

# ---- hostile numbers for every numeric option: exit 2, the option named,
# nothing written.
hostile_counts=("-1" " 5" "5 " "" "+5" "18446744073709551616" "99999999999999T" "1.5" "0x" "1e3")
for v in "${hostile_counts[@]}"; do
  refused "gen --events '$(esc "$v")'" "^allocsim gen: --events '$(esc "$v")': must be a whole number" h.ast -- "$A" gen server-mix --events "$v" -o h.ast
  refused "gen --seed '$(esc "$v")'" "^allocsim gen: --seed '$(esc "$v")': must be a whole number" h.ast -- "$A" gen server-mix --seed "$v" -o h.ast
  refused "import --chunk-events '$(esc "$v")'" "^allocsim import: --chunk-events '$(esc "$v")': must be" h.ast -- "$A" import -f text --chunk-events "$v" t.txt -o h.ast
  refused "import --max-events '$(esc "$v")'" "^allocsim import: --max-events '$(esc "$v")': must be" h.ast -- "$A" import -f text --max-events "$v" t.txt -o h.ast
  refused "record --max-depth '$(esc "$v")'" "^allocsim record: --max-depth '$(esc "$v")': must be" h.ast -- "$A" record --max-depth "$v" -o h.ast -- true
done
refused "gen --events 0" "must be a whole number .* from 1 to" h.ast -- "$A" gen server-mix --events 0 -o h.ast
refused "import --chunk-events 4G" "from 1 to 4294967295" h.ast -- "$A" import -f text --chunk-events 4295M t.txt -o h.ast
refused "record --max-depth 129" "from 0 to 128" h.ast -- "$A" record --max-depth 129 -o h.ast -- true
for v in "-1K" " 4K" "" "18446744073709551616" "16777216T" "1.1" "1X"; do
  refused "record --sample-bytes '$(esc "$v")'" "^allocsim record: --sample-bytes '$(esc "$v")': must be a size in bytes" h.ast -- "$A" record --sample-bytes "$v" -o h.ast -- true
done
for v in "-1s" " 1s" "" "1000" "1.5ns" "18446744073709551616ns" "99999999999h" "1m"; do
  refused "record --time-resolution '$(esc "$v")'" "^allocsim record: --time-resolution '$(esc "$v")': must be a duration" h.ast -- "$A" record --time-resolution "$v" -o h.ast -- true
  refused "run --sample-interval '$(esc "$v")'" "^allocsim run: --sample-interval '$(esc "$v")': must be a duration" hd -- "$A" run -p bestfit --sample-interval "$v" t.ast -o hd
  refused "demo --sample-interval '$(esc "$v")'" "^allocsim demo: --sample-interval '$(esc "$v")': must be a duration" hd -- "$A" demo --sample-interval "$v" t.ast -o hd
done
refused "run --thp ''" "^allocsim run: --thp '': must be one of never, madvise, always" hd -- "$A" run -p bestfit --thp "" t.ast -o hd

# ---- a sample of --param: the parameter named with what it accepts.
for v in "-4K" " 8K" "8K " "" "18446744073709551616" "99999999T" "1.5" "3000"; do
  refused "run llama.block_size='$(esc "$v")'" "^allocsim run: parameter 'llama.block_size=$(esc "$v")': llama.block_size must be a power of two" hd -- "$A" run -p llama -P "llama.block_size=$v" t.ast -o hd
done
for v in "-1" " 8" "" "18446744073709551616" "1T" "1.5"; do
  refused "run os.max_ptes_none='$(esc "$v")'" "^allocsim run: parameter 'os.max_ptes_none=$(esc "$v")': os.max_ptes_none must be a whole number .* from 0 to 511" hd -- "$A" run -p bestfit -P "os.max_ptes_none=$v" t.ast -o hd
  refused "gen server-mix.workers='$(esc "$v")'" "^allocsim gen: --param 'server-mix.workers=$(esc "$v")': server-mix.workers must be a whole number" h.ast -- "$A" gen server-mix -P "server-mix.workers=$v" -o h.ast
done
for v in "10" "-1s" "1.5ns" "99999999999h"; do
  refused "run os.scan_interval='$(esc "$v")'" "^allocsim run: parameter 'os.scan_interval=$(esc "$v")': os.scan_interval must be a duration with a unit" hd -- "$A" run -p bestfit -P "os.scan_interval=$v" t.ast -o hd
done
refused "run hoard.growth=nan" "^allocsim run: parameter 'hoard.growth=nan': hoard.growth must be a number from 1.01 to 4$" hd -- "$A" run -p hoard -P hoard.growth=nan t.ast -o hd

# issue 16 reproducer 08: a leading blank and a minus were 2^64 - 5 events.
refused "repro 08: gen --events ' -5'" "^allocsim gen: --events ' -5': must be" h.ast -- "$A" gen server-mix --events ' -5' -o h.ast
exit $fail
