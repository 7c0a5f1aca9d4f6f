#!/usr/bin/env bash
# make bench: our GEMM, bert-base forward, HREM relation statistics and a whole GPO training step beside torch's, same shapes and threads, in the same run.
# Usage: tools/bench.sh build/<cfg>/bench_gemm [build/<cfg>/bench_bert [build/<cfg>/bench_relation [build/<cfg>/bench_step [build/<cfg>/bench_images]]]]
set -eu
ours_bin=$1
threads=${OMP_NUM_THREADS:-$(nproc)}
export OMP_NUM_THREADS=$threads
ours=$("$ours_bin" 7)
# which CPU every figure below comes from
echo "# CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(grep -c '^processor' /proc/cpuinfo) logical CPUs, $(grep -m1 -o -w 'avx512f' /proc/cpuinfo || grep -m1 -o -w 'avx2' /proc/cpuinfo || echo 'no AVX2'); $threads threads"
torch_out=""
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    # OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE pin OpenBLAS to older kernels on some machines; the
    # reference should run at its best, so they are unset for the torch side only.
    torch_out=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$(dirname "$0")/bench_torch.py" 7)
    if echo "$torch_out" | grep -q '^# .*BLAS: libblas.so.3$'; then
        echo "note: torch is using the reference (netlib) BLAS; 'apt-get install libopenblas0-pthread' gives it an optimised one"
    fi
else
    echo "note: Debian's python3-torch is not importable by /usr/bin/python3 (apt-get install python3-torch); torch column skipped"
fi
echo "$ours" | grep '^#' || true
echo "$torch_out" | grep '^#' || true
printf '%-32s %14s %14s %8s\n' "GEMM (M x N x K)" "ours GFLOP/s" "torch GFLOP/s" "ratio"
echo "$ours" | grep -v '^#' | while read -r M N K g name; do
    t=$(echo "$torch_out" | awk -v M="$M" -v N="$N" -v K="$K" '$1==M && $2==N && $3==K {print $4}')
    if [ -n "$t" ]; then r=$(awk -v a="$g" -v b="$t" 'BEGIN{printf "%.2f", a/b}'); else t="-"; r="-"; fi
    printf '%-32s %14s %14s %8s\n' "${M}x${N}x${K}" "$g" "$t" "$r"
done

# On an AVX-512 CPU, the AVX2 kernel too (what an AVX2-only CPU such as Zen 3 runs), beside
# OpenBLAS pinned to its AVX2 (Haswell) kernels: the same instruction set on both sides
if echo "$ours" | grep -q '^# ours: AVX-512' && [ -n "$torch_out" ]; then
    ours2=$(VSD_GEMM=avx2 "$ours_bin" 7)
    torch2=$(OPENBLAS_CORETYPE=Haswell /usr/bin/python3 "$(dirname "$0")/bench_torch.py" 7)
    echo "$ours2" | grep '^#' | sed 's/^# ours:/# ours (VSD_GEMM=avx2):/' || true
    echo "# torch with OPENBLAS_CORETYPE=Haswell (OpenBLAS's AVX2 kernels)"
    echo "$ours2" | grep -v '^#' | while read -r M N K g name; do
        t=$(echo "$torch2" | awk -v M="$M" -v N="$N" -v K="$K" '$1==M && $2==N && $3==K {print $4}')
        if [ -n "$t" ]; then r=$(awk -v a="$g" -v b="$t" 'BEGIN{printf "%.2f", a/b}'); else t="-"; r="-"; fi
        printf '%-32s %14s %14s %8s\n' "AVX2 ${M}x${N}x${K}" "$g" "$t" "$r"
    done
fi

# bert-base forward, tokens/s (torch side: Hugging Face transformers on Debian's torch, when importable)
if [ $# -ge 2 ]; then
    ours_b=$("$2" 5)
    tb="-"
    if /usr/bin/python3 -c "import torch, transformers" 2>/dev/null; then
        tb=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$(dirname "$0")/bench_torch_bert.py" 5 2>/dev/null | tail -1 | awk '{print $3}')
    else
        echo "note: transformers is not importable by /usr/bin/python3: the torch BERT column is skipped"
    fi
    ob=$(echo "$ours_b" | awk '{print $3}')
    r=$([ "$tb" != "-" ] && awk -v a="$ob" -v b="$tb" 'BEGIN{printf "%.2f", a/b}' || echo "-")
    printf '%-32s %14s %14s %8s\n' "bert-base forward (tokens/s)" "$ob" "$tb" "$r"
fi

# HREM's region-word statistics, ms per training step (torch side: the reference's per-caption
# 4-D computation); the ratio is torch's time over ours, so above 1 means we are faster
if [ $# -ge 3 ]; then
    ours_r=$("$3" 5 | awk '{print $5}')
    tr="-"
    if /usr/bin/python3 -c "import torch" 2>/dev/null; then
        tr=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$(dirname "$0")/bench_torch_relation.py" 5 | awk '{print $5}')
    fi
    r=$([ "$tr" != "-" ] && awk -v a="$tr" -v b="$ours_r" 'BEGIN{printf "%.2f", a/b}' || echo "-")
    printf '%-32s %14s %14s %8s
' "HREM relation stats (ms/step)" "$ours_r" "$tr" "${r}x"
fi

# One whole GPO training step (BiGRU text encoder, F30K's size, batch 128), ms; the torch side is
# the reference's model and step from SPEC (tools/bench_torch_gpo.py). Ratio: torch's time over ours.
if [ $# -ge 4 ]; then
    ours_s=$("$4" 5 | grep -v '^#' | awk '{print $4}')
    ts="-"
    if /usr/bin/python3 -c "import torch" 2>/dev/null; then
        ts=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$(dirname "$0")/bench_torch_gpo.py" 5 | grep -v '^#' | awk '{print $4}')
    fi
    r=$([ "$ts" != "-" ] && awk -v a="$ts" -v b="$ours_s" 'BEGIN{printf "%.2f", a/b}' || echo "-")
    printf '%-32s %14s %14s %8s\n' "GPO train step (ms, B 128)" "$ours_s" "$ts" "${r}x"
    # on an AVX-512 CPU, the step as an AVX2-only CPU runs it: our AVX2 GEMM, OpenBLAS's Haswell kernels
    if echo "$ours" | grep -q '^# ours: AVX-512' && [ "$ts" != "-" ]; then
        ours_s2=$(VSD_GEMM=avx2 "$4" 5 | grep -v '^#' | awk '{print $4}')
        ts2=$(OPENBLAS_CORETYPE=Haswell /usr/bin/python3 "$(dirname "$0")/bench_torch_gpo.py" 5 | grep -v '^#' | awk '{print $4}')
        r2=$(awk -v a="$ts2" -v b="$ours_s2" 'BEGIN{printf "%.2f", a/b}')
        printf '%-32s %14s %14s %8s\n' "AVX2 GPO train step (ms)" "$ours_s2" "$ts2" "${r2}x"
    fi
fi

# Pictures: JPEG decoding and OpenCLIP's preprocessing (one thread), images/s, beside PIL
# (libjpeg-turbo) + torchvision; and ViT-B/32's image tower on the CPU beside torchvision's vit_b_32.
# The test JPEGs (100, 500 x 375, Flickr30K's usual size) are written by PIL into a temporary folder.
if [ $# -ge 5 ]; then
    if /usr/bin/python3 -c "import PIL, numpy" 2>/dev/null; then
        pics=$(mktemp -d)
        /usr/bin/python3 "$(dirname "$0")/bench_images.py" make "$pics" 100
        ours_i=$("$5" "$pics" 3)
        theirs_i=$(OMP_NUM_THREADS=$threads env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$(dirname "$0")/bench_images.py" time "$pics" 3 2>/dev/null || true)
        echo "$theirs_i" | grep '^#' || true
        rm -rf "$pics"
        for what in decode preprocess decode_threads vit_b_32; do
            o=$(echo "$ours_i" | awk -v w="$what" '$1==w {print $2}')
            t=$(echo "$theirs_i" | awk -v w="$what" '$1==w {print $2}')
            [ -n "$t" ] || t="-"
            r=$([ "$t" != "-" ] && awk -v a="$o" -v b="$t" 'BEGIN{printf "%.2f", a/b}' || echo "-")
            case $what in
                decode) label="JPEG decode (images/s, 1 thr)";;
                preprocess) label="decode+CLIP preproc (1 thread)";;
                decode_threads) label="decode+preproc ($threads threads)";;
                vit_b_32) label="ViT-B/32 images/s (batch 16)";;
            esac
            printf '%-32s %14s %14s %8s\n' "$label" "$o" "$t" "$r"
        done
    else
        echo "note: python3-pil is not importable by /usr/bin/python3: the picture rows are skipped"
    fi
fi
