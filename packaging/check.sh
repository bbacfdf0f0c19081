#!/usr/bin/env bash
# Packaging / compatibility check for nestjs-messente-dlr.
#
#   bash packaging/check.sh          (from the repo root; CI calls it the same way)
#
# 1. npm run build + npm pack (into a temp dir); checks every package.json `exports` target is in the tarball.
# 2. A fresh ESM app on Nest 12 installs the tarball, imports 'nestjs-messente-dlr', '/testing' and '/board',
#    boots, and gets a signed report through to an @OnDlrStatus('*') handler; then
#    `npx messente-dlr trigger` (the bin from the tarball) gets two more through, and
#    `npx messente-dlr --version` prints the package's version.
# 3. The same from a CommonJS app on Nest 11 with require() (require(esm), Node >= 20.19), which
#    also requires '/health' with @nestjs/terminus 11 and gets an "up" from the indicator.
# Both apps are installed WITHOUT ioredis, pg, @nestjs/cqrs, @nestjs/event-emitter and
# @opentelemetry/api (so the import also proves the package loads without the OTel API).
# Needs the npm registry. Env: KEEP_TMP=1 keeps the temp dir for inspection.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
APP_SRC="$HERE/app"
NPM_QUIET=(--no-audit --no-fund --loglevel=error)

TMP="$(mktemp -d "${TMPDIR:-/tmp}/messente-dlr-pack.XXXXXX")"
cleanup() {
  if [[ "${KEEP_TMP:-}" == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

FAILED=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILED=1; }

# ---------------------------------------------------------------- 1. build + pack
cd "$ROOT"
echo "== build and pack ($(node -v), npm $(npm -v))"
if ! npm run build --silent >"$TMP/build.log" 2>&1; then
  cat "$TMP/build.log"
  fail "npm run build"
  exit 1
fi
pass "npm run build"

mkdir -p "$TMP/pack"
if ! npm pack --pack-destination "$TMP/pack" --json "${NPM_QUIET[@]}" >"$TMP/pack.json" 2>"$TMP/pack.err"; then
  cat "$TMP/pack.err"
  fail "npm pack"
  exit 1
fi
TARBALL="$(ls "$TMP"/pack/*.tgz)"
pass "npm pack -> $(basename "$TARBALL") ($(du -k "$TARBALL" | cut -f1) KiB)"

# Every file named in `exports` (and main/types) must be in the tarball.
if node - "$ROOT/package.json" "$TMP/pack.json" <<'JS'
const [pkgPath, packPath] = process.argv.slice(2);
const pkg = require(pkgPath);
const files = new Set(require(packPath)[0].files.map((f) => f.path.replace(/^\.\//, '')));
const targets = new Set([pkg.main, pkg.types].filter(Boolean));
const walk = (v) => (typeof v === 'string' ? targets.add(v) : v && Object.values(v).forEach(walk));
walk(pkg.exports);
walk(pkg.bin);
const missing = [...targets].map((t) => t.replace(/^\.\//, '')).filter((t) => !files.has(t));
const junk = [...files].filter((f) => /(^|\/)(test|sample|bench|lib)\/|\.tsbuildinfo$|\.spec\.|\.test\./.test(f));
if (missing.length) console.error(`  missing from tarball: ${missing.join(', ')}`);
if (junk.length) console.error(`  unexpected in tarball: ${junk.slice(0, 10).join(', ')}`);
console.log(`  ${files.size} files, ${targets.size} export targets`);
process.exit(missing.length || junk.length ? 1 : 0);
JS
then pass "tarball contains every exports target and no sources/tests"
else fail "tarball contents"
fi

# ---------------------------------------------------------------- apps
# make_app <dir> <type> <nest major> <@nestjs/axios range> [extra dependency lines]
make_app() {
  local dir="$1" type="$2" nest="$3" axios="$4" extra="${5:-}"
  mkdir -p "$dir"
  cp "$APP_SRC/smoke.cjs" "$dir/"
  cat >"$dir/package.json" <<JSON
{
  "name": "messente-dlr-smoke-$type-nest$nest",
  "private": true,
  "type": "$type",
  "dependencies": {
    "@nestjs/common": "^$nest.0.0",
    "@nestjs/core": "^$nest.0.0",
    "@nestjs/platform-express": "^$nest.0.0",
    "@nestjs/axios": "$axios",
    "axios": "^1.3.1",
    "rxjs": "^7.8.0",
    "reflect-metadata": "^0.2.0",
    "class-validator": "^0.14.0 || ^0.15.0",
    "class-transformer": "^0.5.1",$extra
    "nestjs-messente-dlr": "file:$TARBALL"
  }
}
JSON
}

# run_app <label> <dir> <entry file>
run_app() {
  local label="$1" dir="$2" entry="$3"
  echo
  echo "== $label"
  if ! (cd "$dir" && npm install "${NPM_QUIET[@]}" >"$dir/install.log" 2>&1); then
    sed 's/^/  /' "$dir/install.log"
    fail "$label: npm install"
    return
  fi
  (cd "$dir" && node -e '
    const v = (n) => JSON.parse(require("fs").readFileSync("node_modules/" + n + "/package.json", "utf8")).version;
    console.log("  installed: " + ["@nestjs/common", "@nestjs/core", "@nestjs/platform-express", "@nestjs/axios", "nestjs-messente-dlr"].map((n) => n + "@" + v(n)).join(" "));')
  pass "$label: npm install (peers resolved)"

  # The optional peers must really be absent for the import below to mean anything.
  local present
  # (looked up on disk, anywhere in the tree: require.resolve("x/package.json") is not reliable
  # since some packages do not export ./package.json)
  present="$(cd "$dir" && find node_modules -type d \( -path "*/node_modules/ioredis" -o -path "*/node_modules/@nestjs/cqrs" \
    -o -path "*/node_modules/@nestjs/event-emitter" -o -path "*/node_modules/@nestjs/platform-fastify" \
    -o -path "*/node_modules/@opentelemetry/api" \) -prune -print | tr '\n' ' ')"
  if [[ -z "$present" ]]; then
    pass "$label: ioredis, @nestjs/cqrs, @nestjs/event-emitter, @nestjs/platform-fastify, @opentelemetry/api not installed"
  else
    fail "$label: optional peers got installed: $present"
  fi

  if (cd "$dir" && node "$entry"); then
    pass "$label: import of nestjs-messente-dlr + /testing, boot, signed report -> 200, handler called once; npx messente-dlr trigger -> 200s"
  else
    fail "$label: smoke app ($entry)"
  fi

  # The bin, from the tarball, as `npx` finds it in the app (--no: never from the registry).
  local version
  version="$(cd "$dir" && npx --no -- messente-dlr --version 2>&1)" || true
  if [[ "$version" == "$(node -p 'require(process.argv[1]).version' "$ROOT/package.json")" ]]; then
    pass "$label: npx messente-dlr --version -> $version"
  else
    fail "$label: npx messente-dlr --version printed: $version"
  fi

  # Without ioredis, the /redis entry must fail on ioredis itself (and nothing else).
  if (cd "$dir" && node --input-type=module -e '
    try { await import("nestjs-messente-dlr/redis"); console.error("  /redis loaded without ioredis?"); process.exit(1); }
    catch (e) {
      if (e.code === "ERR_MODULE_NOT_FOUND" && /ioredis/.test(e.message)) process.exit(0);
      console.error("  " + e); process.exit(1);
    }'); then
    pass "$label: nestjs-messente-dlr/redis without ioredis fails only on the missing ioredis"
  else
    fail "$label: nestjs-messente-dlr/redis without ioredis"
  fi

  # Likewise, without pg the /postgres entry must fail on pg itself.
  if (cd "$dir" && test ! -d node_modules/pg && node --input-type=module -e '
    try { await import("nestjs-messente-dlr/postgres"); console.error("  /postgres loaded without pg?"); process.exit(1); }
    catch (e) {
      if (e.code === "ERR_MODULE_NOT_FOUND" && /\bpg\b/.test(e.message)) process.exit(0);
      console.error("  " + e); process.exit(1);
    }'); then
    pass "$label: nestjs-messente-dlr/postgres without pg fails only on the missing pg"
  else
    fail "$label: nestjs-messente-dlr/postgres without pg"
  fi
}

# ---------------------------------------------------------------- 2. ESM, Nest 12
make_app "$TMP/esm-nest12" module 12 "^12.0.0"
cp "$APP_SRC/esm-app.js" "$TMP/esm-nest12/app.js"
run_app "ESM app, Nest 12" "$TMP/esm-nest12" app.js

# ---------------------------------------------------------------- 3. CommonJS, Nest 11
make_app "$TMP/cjs-nest11" commonjs 11 "^4.0.0" '
    "@nestjs/terminus": "^11.0.0",'
cp "$APP_SRC/cjs-app.js" "$TMP/cjs-nest11/app.js"
cp "$APP_SRC/cjs-health.js" "$TMP/cjs-nest11/health.js"
echo "  node $(node -v), process.features.require_module=$(node -p 'process.features.require_module')"
run_app "CommonJS app, Nest 11 (require(esm))" "$TMP/cjs-nest11" app.js
if (cd "$TMP/cjs-nest11" && node health.js); then
  pass "CommonJS app, Nest 11: nestjs-messente-dlr/health on @nestjs/terminus $(cd "$TMP/cjs-nest11" && node -p 'require("@nestjs/terminus/package.json").version') answers up"
else
  fail "CommonJS app, Nest 11: nestjs-messente-dlr/health on @nestjs/terminus 11"
fi

echo
if [[ "$FAILED" == 0 ]]; then
  echo "PASS: packaging check"
else
  echo "FAIL: packaging check"
fi
exit "$FAILED"
