#!/usr/bin/env bash
# allocsim-man.sh ALLOCSIM HELP2MAN OUT - write the manual page allocsim.1.
#
# help2man turns `allocsim --help` and `--version` into the page; this script
# adds one subsection per subcommand holding that subcommand's --help
# verbatim (the list of subcommands comes from `allocsim --list commands`),
# and the sections --help does not carry: exit status, environment, files.
# The build runs it (CMakeLists.txt) when help2man is installed.
set -euo pipefail
allocsim=$1 help2man=$2 out=$3
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT

# roff: a backslash is \e; a line starting with . or ' would be a request.
roff_verbatim() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

{
  echo '[COMMANDS]'
  for cmd in $("$allocsim" --list commands); do
    echo ".SS allocsim $cmd"
    echo '.nf'
    "$allocsim" "$cmd" --help | roff_verbatim
    echo '.fi'
  done
  cat <<'ROFF'
[EXIT STATUS]
0 on success, 1 when the work failed, 2 on bad usage or bad input.
.B allocsim record
exits with the recorded program's status (128+N when it died by signal N).
[ENVIRONMENT]
.TP
.B ALLOCSIM_RECORD_LIB
the recorder library that
.B allocsim record
preloads, instead of the one it finds by itself (see FILES).
[FILES]
.TP
.I PREFIX/lib/allocsim/liballocsim_record.so
the recorder.
.B allocsim record
looks for it in this order: $ALLOCSIM_RECORD_LIB; ../lib/allocsim/,
traces/record/ and the directory of the allocsim executable itself; the
directory it was installed to.
.TP
.I PREFIX/share/doc/allocsim/
the README, the trace format, metric definitions, policies and predictors.
[SEE ALSO]
.BR ld.so (8)
The full documentation is in
.IR PREFIX/share/doc/allocsim/ .
ROFF
} >"$inc"

"$help2man" --no-info --section=1 \
  --name="trace-driven memory-allocator simulator" \
  --include="$inc" --output="$out.tmp" "$allocsim"
mv "$out.tmp" "$out"
