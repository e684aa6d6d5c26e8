#!/usr/bin/env bash
# check_reports_html: a report's index.html opened in headless Chromium:
# every image loads (complete, non-zero natural width) and the page logs
# nothing to the console. The check proves it can fail first: a copy of the
# page with one missing image and one console error must be caught.
# Skipped (exit 77) only when Chromium is not installed (`make deps`
# installs Debian's chromium package).
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u
A=$2
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
  echo "SKIP: chromium is not installed (apt-get install chromium, or make deps)"
  exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
mkdir -p "$T/runs"
"$A" gen server-mix --events 20000 --seed 5 -o "$T/mix.ast" >/dev/null &&
"$A" run -q -p tcmalloc --predictor oracle "$T/mix.ast" -o "$T/runs/tc" >/dev/null &&
"$A" run -q -p llama --predictor oracle "$T/mix.ast" -o "$T/runs/ll" >/dev/null &&
"$A" plot "$T/runs" -o "$T/rep" >/dev/null || { echo "FAIL making the report"; exit 1; }

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
probe() { # probe PAGE -> $T/dom, $T/console
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$T/profile" --allow-file-access-from-files \
    --virtual-time-budget=10000 --enable-logging=stderr --v=0 \
    --dump-dom "file://$T/rep/zz-probe.html?page=$1" >"$T/dom" 2>"$T/chromium.err"
  grep -F 'CONSOLE' "$T/chromium.err" | grep -v 'zz-probe.html' >"$T/console" || true
}

# Self-test: a missing image and a console error are both reported.
sed -e 's/src="memory-mix.ast.png"/src="missing.png"/' \
    -e 's|</body>|<script>console.error("planted")</script></body>|' \
    "$T/rep/index.html" >"$T/rep/zz-broken.html"
probe zz-broken.html
if grep -q "BROKEN missing.png" "$T/dom" && grep -q "planted" "$T/console"; then
  echo "ok   the probe catches a missing image and a console error"
else
  echo "FAIL the probe missed the planted faults"; cat "$T/dom" "$T/chromium.err"; fail=1
fi

probe index.html
n=$(grep -c '<img ' "$T/rep/index.html")
if grep -q "RESULT images=$n broken=0" "$T/dom" && [ "$n" -ge 5 ]; then
  echo "ok   all $n images of index.html load"
else
  echo "FAIL images of index.html:"; grep -E "RESULT|BROKEN|PENDING" "$T/dom"; fail=1
fi
if [ -s "$T/console" ]; then
  echo "FAIL console messages:"; cat "$T/console"; fail=1
else
  echo "ok   no console messages"
fi
# Self-contained: nothing is fetched from the network.
if grep -Eq '(src|href)="(https?:)?//' "$T/rep/index.html"; then
  echo "FAIL index.html references the network"; fail=1
else
  echo "ok   no network references"
fi
exit $fail
