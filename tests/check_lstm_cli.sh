#!/usr/bin/env bash
# check_lstm_cli.sh - the LSTM pipeline from the command line: `allocsim
# train` writes the same model bytes twice from the same trace and seed (and
# other bytes with another seed); `allocsim eval` scores it next to oracle,
# site and none (text and JSON); `allocsim run --predictor cached:lstm
# --predictor-load MODEL` uses it; bad models are refused naming the file,
# the byte offset and the field (exit 2), as are bad usages.
# Args: build dir, allocsim binary, source dir.
set -u
. "$(dirname "$0")/checklib.sh"
cd "$T" || exit 1

TR=$S/data/demo.ast
SMALL=(--embed 4 --hidden 4 --max-tokens 8 --epochs 3)
check "train" 0 "^model +m1, [0-9]+ bytes" -- "$A" train --predictor lstm "${SMALL[@]}" -q "$TR" -o m1
check "train again" 0 "" -- "$A" train --predictor lstm "${SMALL[@]}" -q "$TR" -o m2
cmp -s m1 m2 && echo "ok   same seed, same bytes" || { echo "FAIL same seed gave other bytes"; fail=1; }
check "train, seed 2" 0 "" -- "$A" train --predictor lstm "${SMALL[@]}" --seed 2 -q "$TR" -o m3
cmp -s m1 m3 && { echo "FAIL seed 2 gave the same bytes"; fail=1; } || echo "ok   other seed, other bytes"
check "train --json" 0 '"epochs": 3, ' -- "$A" train --predictor lstm "${SMALL[@]}" -q --json "$TR" -o m4
check "magic" 0 "" -- cmp -n 8 m1 <(printf 'ASLSTM\0\n')
# the samples for a reference trainer: a header, then one line per context,
# as many held out ('v') as the header says; the same bytes twice
check "train --export-samples" 0 "" -- "$A" train --predictor lstm "${SMALL[@]}" -q "$TR" -o m5 --export-samples s1
check "samples header" 0 "^classes 7 vocab [0-9]+ max_tokens 8 contexts [0-9]+ valid [0-9]+$" -- sed -n 2p s1
read -r _ _ _ _ _ _ _ nctx _ nval < <(sed -n 2p s1)
[[ $(($(wc -l <s1) - 2)) == "$nctx" && $(grep -c '^v ' s1) == "$nval" && $nval -gt 0 ]] &&
  echo "ok   samples: $nctx contexts, $nval held out" || { echo "FAIL samples file lines"; fail=1; }
cmp -s m1 m5 && echo "ok   exporting does not change the model" || { echo "FAIL export changed the model"; fail=1; }
check "samples unwritable" 1 "^allocsim train: $T/no/s: cannot write the samples" -- "$A" train --predictor lstm "${SMALL[@]}" -q "$TR" -o m6 --export-samples "$T/no/s"

check "eval text" 0 "^accuracy \(allocations\) +[01]\.[0-9]{4} +[01]\.[0-9]{4} +1\.0000 +0\.0000" -- "$A" eval -q --model m1 "$TR"
check "eval json" 0 '"name": "oracle", "allocations": [0-9]+, "accuracy_allocations": 1\.000000' -- "$A" eval -q --json --model m1 "$TR"
check "eval with site" 0 '"name": "site"' -- "$A" eval -q --json --model m1 --train "$TR" "$TR"
check "eval trains" 0 "^training +[0-9]+ allocations" -- "$A" eval -q "${SMALL[@]}" --train "$TR" "$TR"
check "eval --cached" 0 "hit rate while scoring [01]\.[0-9]{4}" -- "$A" eval -q --model m1 --cached key=height --cached per_thread=1 --cached capacity=4096 "$TR"
check "eval --cached json" 0 '"cached_score_hit_rate": [01]\.[0-9]{6}' -- "$A" eval -q --json --model m1 --cached key=stack "$TR"
check "eval --cached bad" 2 "^allocsim eval: --cached key=nope: not a parameter of cached" -- "$A" eval -q --model m1 --cached key=nope "$TR"
check "eval without a model" 2 "^allocsim eval: lstm needs --model MODEL or --train TRACE" -- "$A" eval -q "$TR"

check "run cached:lstm" 0 "" -- "$A" run -q --policy llama --predictor cached:lstm --predictor-load m1 -o run1 "$TR"
check "run's statistics" 0 '"predictor.inner.lstm_model_file_bytes":.[1-9]' -- cat run1/summary.json
check "run --model" 0 "" -- "$A" run -q --policy llama --predictor cached:lstm --model m1 -P cached.key=height -P cached.per_thread=1 -o run6 "$TR"
check "per-thread tables" 0 '"predictor.cached_tables":.(1[0-9]|2[0-9]|3[0-2])[,}]' -- cat run6/summary.json

# hostile models: the file, the offset and the field
printf 'XSLSTM\0\n' >bad1; tail -c +9 m1 >>bad1
check "bad magic" 2 "^allocsim run: bad1: offset 0: not an allocsim LSTM model \(bad magic\)" -- "$A" run -q --policy llama --predictor lstm --predictor-load bad1 -o run2 "$TR"
head -c 30 m1 >bad2
check "truncated" 2 "bad2: offset 0: file shorter than the 40-byte header" -- "$A" run -q --policy llama --predictor lstm --predictor-load bad2 -o run3 "$TR"
cp m1 bad3; printf '\0\0\0\0' | dd of=bad3 bs=1 seek=24 conv=notrunc 2>/dev/null
check "hidden 0" 2 "bad3: offset 24: hidden width not in 1\.\.256" -- "$A" eval -q --model bad3 "$TR"
cp m1 bad4; printf 'x' >>bad4
check "trailing byte" 2 "bad4: offset $(stat -c %s m1): bytes after the checksum \(lstm model\)" -- "$A" run -q --policy llama --predictor cached:lstm --predictor-load bad4 -o run4 "$TR"
check "other classes" 2 "m1: offset 12: the model was trained for other lifetime classes" -- "$A" run -q --policy llama --classes 1ms,1s --predictor lstm --predictor-load m1 -o run5 "$TR"

# usage
check "no --predictor" 2 "^allocsim train: expected --predictor lstm" -- "$A" train "$TR" -o x
check "untrainable" 2 "^allocsim train: cannot train predictor 'site'; trainable: lstm" -- "$A" train --predictor site "$TR" -o x
check "no output" 2 "expected TRACE\.\.\. and -o MODEL" -- "$A" train --predictor lstm "$TR"
check "missing trace" 2 "^allocsim train: nope\.ast" -- "$A" train --predictor lstm nope.ast -o x
check "bad layers" 2 "^allocsim train: --layers '3'" -- "$A" train --predictor lstm --layers 3 "$TR" -o x
[ -e x ] && { echo "FAIL a refused train wrote its output"; fail=1; }
exit $fail
