#!/usr/bin/env bash
# data/sqlite_workload.sh - print the SQLite workload (SQL for `sqlite3 DB
# ".read FILE"`) that every script running sqlite3 under the recorder uses:
# data/record.sh (data/sqlite.ast), bench/fidelity/run.sh, bench/record/
# run.sh, tests/check_record_stacked.sh and (--bulk) bench/alloc/
# programs.sh. One text, sized and trimmed by options, so that the
# workloads stay alike and each caller's stays exactly what it measured.
#
#   data/sqlite_workload.sh ROWS [OPTION...] >work.sql
#
# The statements, in order: a table item(id, name, qty, note); ROWS rows
# (note: a random hex blob of 16 + i % 64 bytes); an index on qty; the TOP
# qty groups by note length; notes doubled where qty < 20 (UPDATE); a
# self-join count; every third row deleted; the names of the first N rows
# ordered by note, concatenated; VACUUM.
#
# Options (the defaults are data/record.sh's, the workload of
# data/sqlite.ast):
#   --plain-notes  notes of 'x's instead of random blobs, so that every
#                  run prints the same
#   --top N        groups in the group-by report (default 5)
#   --no-update    leave out the UPDATE
#   --no-join      leave out the self-join
#   --sort N       concatenate the first N names by note (default 2000)
#   --sort all     sort every row by note and print only their count
#   --sort none    no sort: print the row count and the sum of qty
#   --length       print the concatenation's length instead of it
#   --no-vacuum    leave out the VACUUM
#   --note-bytes N every note a random blob of N bytes (2N hex characters)
#                  instead of 16 + i % 64 (not with --plain-notes)
#   --bulk         a bulk load only: the table holds id and note (no name,
#                  no qty), ROWS rows, an index on note, then the count of
#                  rows and of note characters; no other statement (the
#                  options above but --plain-notes and --note-bytes do not
#                  apply and are refused)
# Exit 2 on a usage error.
set -euo pipefail
usage() {
  echo "sqlite_workload.sh: $*" >&2
  echo "usage: sqlite_workload.sh ROWS [--plain-notes] [--top N] [--no-update]" \
    "[--no-join] [--sort N|all|none] [--length] [--no-vacuum]" \
    "[--note-bytes N] [--bulk]" >&2
  exit 2
}
count() { [[ $1 =~ ^[1-9][0-9]*$ ]] || usage "$2 takes a positive whole number, not '$1'"; }
[[ $# -ge 1 ]] || usage "ROWS is required"
rows=$1
shift
count "$rows" ROWS
note="hex(randomblob(16 + i % 64))" top=5 update=1 join=1 sort=2000 length=0 vacuum=1
plain=0 bytes="" bulk=0 statements=""
while [[ $# -gt 0 ]]; do
  case $1 in
  --top | --no-update | --no-join | --sort | --length | --no-vacuum) statements+=" $1" ;;&
  --plain-notes) plain=1 note="printf('%.*c', 16 + i % 64, 'x')" ;;
  --note-bytes)
    [[ $# -ge 2 ]] || usage "--note-bytes takes a number"
    count "$2" --note-bytes
    bytes=$2 note="hex(randomblob($2))"
    shift ;;
  --bulk) bulk=1 ;;
  --top) [[ $# -ge 2 ]] || usage "--top takes a number"; count "$2" --top; top=$2; shift ;;
  --no-update) update=0 ;;
  --no-join) join=0 ;;
  --sort)
    [[ $# -ge 2 ]] || usage "--sort takes N, all or none"
    [[ $2 == all || $2 == none ]] || count "$2" --sort
    sort=$2
    shift ;;
  --length) length=1 ;;
  --no-vacuum) vacuum=0 ;;
  *) usage "unknown option '$1'" ;;
  esac
  shift
done
[[ $plain == 0 || -z $bytes ]] || usage "--note-bytes and --plain-notes exclude each other"
[[ $bulk == 0 || -z $statements ]] || usage "--bulk leaves out every statement that$statements changes"

if [[ $bulk == 1 ]]; then
  cat <<SQL
CREATE TABLE item(id INTEGER PRIMARY KEY, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO item SELECT i, $note FROM n;
CREATE INDEX item_note ON item(note);
SELECT count(*), sum(length(note)) FROM item;
SQL
  exit 0
fi

cat <<SQL
CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO item SELECT i, 'item-' || i, i % 97, $note FROM n;
CREATE INDEX item_qty ON item(qty);
SELECT qty, count(*), sum(length(note)) FROM item GROUP BY qty ORDER BY 3 DESC LIMIT $top;
SQL
[[ $update == 0 ]] || echo "UPDATE item SET note = note || note WHERE qty < 20;"
[[ $join == 0 ]] || echo "SELECT count(*) FROM item a JOIN item b ON a.qty = b.qty AND b.id = a.id + 97;"
echo "DELETE FROM item WHERE id % 3 = 0;"
case $sort in
all) echo "SELECT count(*) FROM (SELECT name FROM item ORDER BY note);" ;;
none) echo "SELECT count(*), sum(qty) FROM item;" ;;
*)
  names="group_concat(name, ',')"
  [[ $length == 0 ]] || names="length($names)"
  echo "SELECT $names FROM (SELECT name FROM item ORDER BY note LIMIT $sort);" ;;
esac
[[ $vacuum == 0 ]] || echo "VACUUM;"
