#!/usr/bin/env bash
# check_reports_html: the report of a compare on a bundled real trace
# (data/sqlite.ast) holds every figure kind in PNG, SVG and PDF with its
# .dat and .gp; its index.html, and a sweep's, opened in headless Chromium:
# every image loads (complete, non-zero natural width) and the page logs
# nothing to the console. The check proves it can fail first: a copy of the
# page with one missing image and one console error must be caught.
# Skipped (exit 77) only when Chromium is not installed (`make deps`
# installs Debian's chromium package).
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u
. "$(dirname "$0")/checklib.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
  echo "SKIP: chromium is not installed (apt-get install chromium, or make deps)"
  exit 77
fi
# A compare on a bundled real trace: every figure kind but the sweep's, in
# the three formats with their data and scripts; and a small sweep.
"$A" compare "$S/data/sqlite.ast" --policies tcmalloc,llama --predictor oracle \
  --no-check -o "$T/rep" -q >/dev/null || { echo "FAIL making the compare report"; exit 1; }
for stem in memory-sqlite.ast coverage-sqlite.ast fragmentation-sqlite.ast \
            confusion-sqlite.ast-oracle filler-sqlite.ast-tcmalloc \
            lifetime-sqlite.ast sizes-sqlite.ast; do
  for ext in png svg pdf dat gp; do
    [ -s "$T/rep/$stem.$ext" ] || { echo "FAIL compare report: $stem.$ext missing"; fail=1; }
  done
done
for f in compare.csv compare.md compare.json timing.csv index.html; do
  [ -s "$T/rep/$f" ] || { echo "FAIL compare report: $f missing"; fail=1; }
done
printf '{"traces": ["%s"], "policies": ["tcmalloc"], "params": {"tcmalloc.release_rate": [0, 1048576]}, "run_args": ["--no-check"]}' \
  "$S/data/sqlite.ast" > "$T/spec.json"
"$A" sweep "$T/spec.json" -o "$T/sw" -q >/dev/null || { echo "FAIL making the sweep report"; exit 1; }
for stem in sweep-tcmalloc.release_rate-jw1 frontier-tcmalloc.release_rate; do
  [ -s "$T/sw/$stem.png" ] || { echo "FAIL sweep report: $stem.png missing"; fail=1; }
done

# The probe page loads a page of the report in an iframe (same directory;
# file:// pages may read each other with --allow-file-access-from-files)
# and writes what it finds into its own DOM, which --dump-dom prints.
cat > "$T/rep/zz-probe.html" <<'HTML'
<!DOCTYPE html><html><body><pre id="r">PENDING</pre><iframe id="f" width="1200" height="900"></iframe>
<script>
var page = (location.search.match(/page=([^&]+)/) || [0, "index.html"])[1];
var f = document.getElementById("f");
f.addEventListener("load", function () {
  var d = f.contentDocument, out = [];
  if (!d) { document.getElementById("r").textContent = "RESULT no-access"; return; }
  var imgs = d.images, bad = 0;
  for (var i = 0; i < imgs.length; i++)
    if (!imgs[i].complete || imgs[i].naturalWidth === 0) { bad++; out.push("BROKEN " + imgs[i].getAttribute("src")); }
  out.push("RESULT images=" + imgs.length + " broken=" + bad);
  document.getElementById("r").textContent = out.join("\n");
});
f.src = page;
</script></body></html>
HTML
probe() { # probe PAGE [DIR] -> $T/dom, $T/console
  local dir=${2:-$T/rep}
  cp "$T/rep/zz-probe.html" "$dir/zz-probe.html" 2>/dev/null
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$T/profile" --allow-file-access-from-files \
    --virtual-time-budget=10000 --enable-logging=stderr --v=0 \
    --dump-dom "file://$dir/zz-probe.html?page=$1" >"$T/dom" 2>"$T/chromium.err"
  grep -F 'CONSOLE' "$T/chromium.err" | grep -v 'zz-probe.html' >"$T/console" || true
}

# Self-test: a missing image and a console error are both reported.
sed -e 's/src="memory-sqlite.ast.png"/src="missing.png"/' \
    -e 's|</body>|<script>console.error("planted")</script></body>|' \
    "$T/rep/index.html" >"$T/rep/zz-broken.html"
probe zz-broken.html
if grep -q "BROKEN missing.png" "$T/dom" && grep -q "planted" "$T/console"; then
  echo "ok   the probe catches a missing image and a console error"
else
  echo "FAIL the probe missed the planted faults"; cat "$T/dom" "$T/chromium.err"; fail=1
fi

for dir in rep sw; do
  probe index.html "$T/$dir"
  n=$(grep -c '<img ' "$T/$dir/index.html")
  if grep -q "RESULT images=$n broken=0" "$T/dom" && [ "$n" -ge 7 ]; then
    echo "ok   $dir: all $n images of index.html load"
  else
    echo "FAIL $dir: images of index.html:"; grep -E "RESULT|BROKEN|PENDING" "$T/dom"; fail=1
  fi
  if [ -s "$T/console" ]; then
    echo "FAIL $dir: console messages:"; cat "$T/console"; fail=1
  else
    echo "ok   $dir: no console messages"
  fi
  # Self-contained: nothing is fetched from the network.
  if grep -Eq '(src|href)="(https?:)?//' "$T/$dir/index.html"; then
    echo "FAIL $dir: index.html references the network"; fail=1
  else
    echo "ok   $dir: no network references"
  fi
done
exit $fail
