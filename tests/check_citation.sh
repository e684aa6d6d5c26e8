#!/usr/bin/env bash
# check_citation.sh BUILD ALLOCSIM SRC - CITATION.cff is valid Citation File
# Format 1.2.0 (the keys and types the 1.2.0 schema allows, its required
# keys, authors as persons or entities), cites the version CMake builds
# (project(VERSION), as `allocsim --version` prints it) under the license
# of LICENSE (MIT).
set -u
build=$1 allocsim=$2 src=$3
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
said=$("$allocsim" --version)
[[ -n $version && $said == *" $version"* ]] ||
  { echo "FAIL: allocsim --version says '$said', CMake's version is '$version'"; exit 1; }
grep -q '^MIT License$' "$src/LICENSE" && grep -q '^Copyright (c) 2026 allocsim developers$' "$src/LICENSE" ||
  { echo "FAIL: LICENSE is not the MIT license of the allocsim developers"; exit 1; }
echo "ok   LICENSE: MIT, allocsim developers"
python3 - "$src/CITATION.cff" "$version" <<'EOF'
import re, sys, yaml
path, version = sys.argv[1], sys.argv[2]
cff = yaml.safe_load(open(path))
errors = []
def need(cond, what):
    if not cond:
        errors.append(what)
top = {"abstract", "authors", "cff-version", "commit", "contact",
       "date-released", "doi", "identifiers", "keywords", "license",
       "license-url", "message", "preferred-citation", "references",
       "repository", "repository-artifact", "repository-code", "title",
       "type", "url", "version"}
person = {"address", "affiliation", "alias", "city", "country", "email",
          "family-names", "fax", "given-names", "name-particle",
          "name-suffix", "orcid", "post-code", "region", "tel", "website"}
entity = {"address", "alias", "city", "country", "date-end", "date-start",
          "email", "fax", "location", "name", "orcid", "post-code", "region",
          "tel", "website"}
need(isinstance(cff, dict), "not a mapping")
cff = cff or {}
need(not set(cff) - top, f"keys outside CFF 1.2.0: {sorted(set(cff) - top)}")
for key in ("cff-version", "message", "title", "authors"):
    need(key in cff, f"required key {key} missing")
need(cff.get("cff-version") == "1.2.0", f"cff-version {cff.get('cff-version')!r}, wanted '1.2.0'")
for key in ("message", "title", "abstract"):
    need(isinstance(cff.get(key), str) and cff.get(key).strip(), f"{key} is not a non-empty string")
need(cff.get("type", "software") in ("software", "dataset"), "type is not software or dataset")
authors = cff.get("authors")
need(isinstance(authors, list) and authors, "authors is not a non-empty list")
for a in authors or []:
    keys = set(a) if isinstance(a, dict) else set()
    ok = keys and ((keys <= entity and "name" in keys) or
                   (keys <= person and keys & {"family-names", "given-names"}))
    need(ok, f"author {a!r} is neither a person nor an entity")
need({"name": "allocsim developers"} in (authors or []), "authors lacks the entity 'allocsim developers'")
need(cff.get("license") == "MIT", f"license {cff.get('license')!r}, wanted 'MIT'")
need(str(cff.get("version")) == version, f"version {cff.get('version')!r}, the build is {version}")
kw = cff.get("keywords", [])
need(isinstance(kw, list) and all(isinstance(k, str) for k in kw), "keywords is not a list of strings")
if "date-released" in cff:
    need(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(cff["date-released"])), "date-released is not YYYY-MM-DD")
if errors:
    print("FAIL CITATION.cff: " + "; ".join(errors))
    sys.exit(1)
print(f"ok   CITATION.cff: CFF 1.2.0, version {version}, license MIT")
EOF
