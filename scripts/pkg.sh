#!/usr/bin/env bash
# `make pkg`: the npm package in pkg/ — a release build of the `js` feature, optimised
# by npm binaryen's wasm-opt, with pkg.json merged into its package.json, and the
# `sse-wasm/inline` entry (scripts/inline-pkg.mjs). Prints the gzip -9 sizes of the
# .wasm, of the JS glue and of inline.js.
#
#   PKG_DIR   where to put the package (default pkg)
#   SKIP_SETUP=1  do not run scripts/setup.sh first (callers that already did)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PKG_DIR="${PKG_DIR:-pkg}"

[ "${SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
# wasm-pack leaves files of an earlier build it no longer writes (snippets the code
# stopped importing) in the folder, and the package would ship them.
rm -rf "${PKG_DIR:?}"
# wasm-pack runs the first wasm-opt on PATH: npm's binaryen, never Debian's.
export PATH="$ROOT/www/node_modules/.bin:$HOME/.cargo/bin:$PATH"
case "$(wasm-opt --version 2>/dev/null)" in
    *"version 132"*) ;;
    *) echo "pkg: expected wasm-opt 132 from www/node_modules, found: $(command -v wasm-opt || echo none)" >&2; exit 1 ;;
esac

# The package carries no serde (`json` is off) and its own small allocator. Its std is
# built from source for size (-Zbuild-std, allowed on the stable compiler through
# RUSTC_BOOTSTRAP): a panic traps at once, with no message and no file location to
# format (no input can reach one; see DESIGN), and std is optimised for size — about
# 3 KB less gzipped. A toolchain that cannot (no rust-src, or flags that changed) gets
# the ordinary build, and this script says so.
features=(--no-default-features --features js,small-alloc)
if RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/pkg-std" \
    wasm-pack build --mode no-install --target web --release --out-dir "$PKG_DIR" --out-name sse_wasm -- \
    "${features[@]}" -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size; then
    echo "pkg: built with its own std, for size"
else
    echo "pkg: WARNING: the size build of std failed; building with the prebuilt std (about 3 KB larger)" >&2
    wasm-pack build --mode no-install --target web --release --out-dir "$PKG_DIR" --out-name sse_wasm -- "${features[@]}"
fi
# The SseClient class is plain JS (src/bindings/js_client.js, declared in js.rs's
# TypeScript section), with its options read by js_options.js, its handlers kept by
# js_hub.js and its connection carried out by js_driver.js and js_fetch.js, over the
# __sse* functions the glue exports: they all join the entry, and those functions stop
# being exports of the package.
glue="$PKG_DIR/sse_wasm.js"
sed -i 's/^export function __sse/function __sse/' "$glue"
if [ "$(grep -c '^function __sse' "$glue")" -ne 6 ]; then
    echo "pkg: the glue does not have the six __sse* functions js_driver.js calls" >&2
    exit 1
fi
# The sharing protocol (src/client/share.js) stays a module, beside the entry:
# js_client.js imports it when its first client shares. Whether a client can share at
# all, it must know at once: share.js's sseCanShare is copied into the entry (one
# scope, so without its `export`). The Rust face imports the same function from
# share.js itself: one module, where a second one made wasm-bindgen-test's page load
# hang now and then.
can_share="$(sed -n '/^export const sseCanShare = /,/;$/p' src/client/share.js | sed 's/^export //')"
if [ "$(printf '%s\n' "$can_share" | grep -c 'sseCanShare')" -ne 1 ] || [ "${can_share: -1}" != ";" ]; then
    echo "pkg: share.js's sseCanShare is not where pkg.sh expects it" >&2
    exit 1
fi
{
    echo
    cat src/bindings/js_options.js src/bindings/js_hub.js src/bindings/js_driver.js src/bindings/js_fetch.js
    printf '%s\n' "$can_share"
    cat src/bindings/js_client.js
} >>"$glue"
cp src/client/share.js "$PKG_DIR/share.js"
node scripts/merge-pkg-json.mjs pkg.json "$PKG_DIR/package.json"
node scripts/minify-pkg.mjs "$PKG_DIR"
node scripts/inline-pkg.mjs "$PKG_DIR"
# wasm-pack writes a .gitignore of `*` into the package; npm would honour it.
rm -f "$PKG_DIR/.gitignore"
wasm_gz="$(gzip -9 -c "$PKG_DIR/sse_wasm_bg.wasm" | wc -c)"
# Every script a page loads: the glue, with the package's JS appended, and any snippet
# it imports (none today). inline.js is the other entry's .wasm, and share.js what a
# page that shares loads too: each is counted on its own line.
page_js() { find "$PKG_DIR" -name '*.js' ! -name inline.js ! -name share.js -print0 | xargs -0 cat; }
js_gz="$(page_js | gzip -9 | wc -c)"
share_gz="$(gzip -9 -c "$PKG_DIR/share.js" | wc -c)"
inline_gz="$(gzip -9 -c "$PKG_DIR/inline.js" | wc -c)"
printf 'pkg: %s/sse_wasm_bg.wasm %d bytes, %d gzip -9\n' "$PKG_DIR" "$(wc -c <"$PKG_DIR/sse_wasm_bg.wasm")" "$wasm_gz"
printf 'pkg: %s/**/*.js           %d bytes, %d gzip -9\n' "$PKG_DIR" "$(page_js | wc -c)" "$js_gz"
printf 'pkg: %s/share.js          %d bytes, %d gzip -9 (loaded by the first client with `share`)\n' "$PKG_DIR" "$(wc -c <"$PKG_DIR/share.js")" "$share_gz"
printf 'pkg: %s/inline.js         %d bytes, %d gzip -9 (sse-wasm/inline: replaces the .wasm, loads the scripts above)\n' "$PKG_DIR" "$(wc -c <"$PKG_DIR/inline.js")" "$inline_gz"
