#!/usr/bin/env bash
# Fetch CLIP's BPE merges (bpe_simple_vocab_16e6.txt.gz) from the PyPI package open_clip_torch into
# data/models/clip/. The file is cached in ${XDG_CACHE_HOME:-~/.cache}/vsd/clip, so a fresh clone
# (CI) copies instead of downloading. Best effort: prints one line and exits 0 when PyPI cannot be
# reached (the tokenizer's parity tests then skip). The seed's CLIP/ folder (merges.txt) works too.
set -u
dest=${1:-data/models/clip}
f=bpe_simple_vocab_16e6.txt.gz
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vsd/clip
[ -f "$dest/$f" ] && exit 0
if [ -f "$cache/$f" ]; then mkdir -p "$dest" && cp "$cache/$f" "$dest/" && exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pip=$(command -v pip3 || command -v pip || true)
if [ -z "$pip" ] || ! timeout 300 "$pip" download --no-deps -q open_clip_torch -d "$tmp" >/dev/null 2>&1; then
    echo "note: could not download open_clip_torch from PyPI: the CLIP tokenizer's parity tests will skip"
    exit 0
fi
mkdir -p "$tmp/x" "$dest"
python3 -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$tmp"/*.whl "$tmp/x" 2>/dev/null ||
    unzip -q "$tmp"/*.whl -d "$tmp/x"
src=$(find "$tmp/x" -name "$f" | head -1)
[ -n "$src" ] || { echo "note: $f is not in the open_clip_torch wheel: the CLIP tokenizer's parity tests will skip"; exit 0; }
cp "$src" "$dest/$f.tmp" && mv "$dest/$f.tmp" "$dest/$f"
mkdir -p "$cache" && cp "$dest/$f" "$cache/" 2>/dev/null || true
echo "fetched CLIP's BPE merges into $dest/$f (cached in $cache)"
