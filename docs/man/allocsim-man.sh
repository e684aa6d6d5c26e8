#!/usr/bin/env bash
# allocsim-man.sh ALLOCSIM HELP2MAN OUT PREFIX - write the manual page
# allocsim.1 (PREFIX: where it is installed, named in FILES).
#
# help2man turns `allocsim --help` and `--version` into the page; this script
# adds one subsection per subcommand holding that subcommand's --help
# verbatim (the list of subcommands comes from `allocsim --list commands`),
# and the sections --help does not carry: exit status, environment, files.
# The build runs it (CMakeLists.txt) when help2man is installed.
set -euo pipefail
allocsim=$1 help2man=$2 out=$3 prefix=${4:-/usr/local}
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT

# roff: a backslash is \e; a line starting with . or ' would be a request.
roff_verbatim() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

{
  # help2man takes the synopsis from a line "Usage:"; allocsim prints
  # "usage:", so the synopsis is given here.
  cat <<'ROFF'
[SYNOPSIS]
.B allocsim
.I COMMAND
.RI [ OPTIONS ]
.br
.B allocsim
.I COMMAND
.B \-\-help
.br
.B allocsim
.RB \-\-help " | " \-\-version
ROFF
  echo '[COMMANDS]'
  for cmd in $("$allocsim" --list commands); do
    echo ".SS allocsim $cmd"
    echo '.nf'
    "$allocsim" "$cmd" --help | roff_verbatim
    echo '.fi'
  done
  cat <<ROFF
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
.I $prefix/lib/allocsim/liballocsim_record.so
the recorder.
.B allocsim record
takes the first of: \\-\\-preload LIB; \$ALLOCSIM_RECORD_LIB; relative to
the directory of the allocsim executable, ../lib/allocsim/, traces/record/
and that directory itself; $prefix/lib/allocsim/.
.TP
.I $prefix/share/doc/allocsim/
the README, install notes, the trace format, metric definitions, policies
and predictors.
[SEE ALSO]
.BR ld.so (8).
.PP
The full documentation is in
.IR $prefix/share/doc/allocsim/ .
ROFF
} >"$inc"

"$help2man" --no-info --section=1 \
  --name="trace-driven memory-allocator simulator" \
  --include="$inc" --output="$out.tmp" "$allocsim"
mv "$out.tmp" "$out"
