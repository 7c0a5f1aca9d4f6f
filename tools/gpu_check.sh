#!/bin/bash
# gpu_check.sh — the one prepared script for a machine with a GPU: the device tool's H200, which
# starts bare and has no network. It builds for sm_90 and runs every GPU check in time-boxed
# stages, writes each stage's log under $OUT (or /tmp/gpu_check), and ends with one table.
#
# Before the call, on the workstation (doctest is brought along, not installed; .carry/ is ignored):
#     mkdir -p .carry/doctest && cp /usr/include/doctest/doctest.h .carry/doctest/
# then:  device run  command="bash tools/gpu_check.sh"  carry=[".carry"]  timeout_s=540
# (bash tools/gpu_check.sh --env stops after the first stage: what it found, and nothing built)
#
# Stages (seconds each at most; the whole script about 8 minutes):
#   env        the GPU; nvcc; cuBLAS and cuDNN from the toolkit's folders or from the Python
#              wheels (nvidia-cublas, nvidia-cudnn-cu13) that the image's PyTorch uses
#   build      sm_90 only, with -lineinfo (for compute-sanitizer's and ncu's source lines)
#   parity     the device tests on the GPU: every op test and kernel parity, the modules, the
#              optimiser, training on the device against the CPU, byte-identical repeated runs
#   bench      the kernel bench (tools/bench_kernels.cu)
#   profile    the step profiler on the GPU: launches, copies, mallocs and ms a step for
#              GPO+BiGRU (caption length 32), GPO+BERT-base (random weights) and HREM+VSD
#   step       one GPO+BiGRU training step (B=128, tools/bench_step.cpp): the CPU, the GPU in FP32,
#              TF32, BF16 (--precision bf16) and with --cudnn 1; beside it PyTorch eager on the
#              same shapes in FP32, TF32 and bf16 autocast (tools/bench_torch_gpo.py) when the
#              image has torch.
#   train      20 demo steps of HREM+VSD on the CPU, the GPU and the GPU with cuDNN, losses side by
#              side; 20 GPO steps on the GPU twice with --trace: the traces must be identical; and
#              the same 20 steps with --precision bf16, losses beside FP32's
#   sanitize   compute-sanitizer memcheck and racecheck on the kernel parity tests
set -u
MODE=${1:-}
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
TABLE="$OUT/table.txt"
: > "$TABLE"
START=$SECONDS
row() { printf '%-10s %-6s %6s  %s\n' "$1" "$2" "$3" "$4" | tee -a "$TABLE"; }
# stage NAME SECONDS COMMAND...: runs it time-boxed into $OUT/NAME.log; the exit code is returned
stage() {
    local name=$1 limit=$2 t0=$SECONDS rc
    shift 2
    timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
    rc=$?
    STAGE_SECS=$((SECONDS - t0))
    return $rc
}
verdict() { [ "$1" = 0 ] && echo ok || { [ "$1" = 124 ] && echo TIME || echo "rc=$1"; }; }

# ---- env ----------------------------------------------------------------------------------------
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt" 2>&1 ||
    { echo "no GPU: nvidia-smi failed"; cat "$OUT/gpu.txt"; exit 1; }
export PATH=$PATH:/usr/local/cuda/bin
NVCC=$(command -v nvcc) || { echo "no nvcc on this machine"; exit 1; }
CUDA_HOME=${NVCC%/bin/nvcc}
PY=$(command -v python3 || true)
# a library from the toolkit, else from a Python wheel: prints "include_dir lib_dir" (lib_dir holds
# an unversioned lib<name>.so, made as a link when the wheel has only lib<name>.so.N)
find_lib() {  # find_lib NAME HEADER MODULE
    local name=$1 header=$2 module=$3 d lib
    if [ -f "$CUDA_HOME/include/$header" ] && ls "$CUDA_HOME"/lib64/lib$name.so > /dev/null 2>&1; then return 0; fi
    if [ -f "/usr/include/$header" ] && ls /usr/lib/x86_64-linux-gnu/lib$name.so > /dev/null 2>&1; then return 0; fi
    [ -n "$PY" ] || return 1
    d=$($PY -c "import $module as m; print(list(m.__path__)[0])" 2>/dev/null) || return 1
    lib=$(ls "$d"/lib/lib$name.so* 2>/dev/null | head -1)
    [ -n "$lib" ] || return 1
    mkdir -p "/tmp/vsd_libs/$name"
    ln -sf "$lib" "/tmp/vsd_libs/$name/lib$name.so"
    echo "$d/include /tmp/vsd_libs/$name $d/lib"
}
MAKEVARS=()
LIBPATHS=""
if cudnn=$(find_lib cudnn cudnn.h nvidia.cudnn); then
    if [ -n "$cudnn" ]; then
        read -r inc links wheel <<< "$cudnn"
        MAKEVARS+=("CUDNN_INC=$inc" "CUDNN_LIB=$links $wheel")
        LIBPATHS="$LIBPATHS:$wheel"
    fi
    cudnn_where=${cudnn:-the toolkit}
else
    row env FAIL 0 "cuDNN not found (toolkit, /usr, or the nvidia-cudnn Python wheel)"
    exit 1
fi
if cublas=$(find_lib cublas cublas_v2.h nvidia.cublas); then
    if [ -n "$cublas" ]; then
        read -r inc links wheel <<< "$cublas"
        MAKEVARS+=("CUBLAS_LIB=$links $wheel")
        LIBPATHS="$LIBPATHS:$wheel"
    fi
else
    row env FAIL 0 "cuBLAS not found"
    exit 1
fi
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}$LIBPATHS
if [ -f .carry/doctest/doctest.h ]; then
    MAKEVARS+=("DOCTEST_INC=$PWD/.carry")
elif [ ! -f /usr/include/doctest/doctest.h ]; then
    row env FAIL 0 "doctest.h not carried: mkdir -p .carry/doctest && cp /usr/include/doctest/doctest.h .carry/doctest/, carry [\".carry\"]"
    exit 1
fi
row env ok 0 "$(cat "$OUT/gpu.txt"); nvcc $($NVCC --version | grep -o 'release [0-9.]*'); cuDNN: $cudnn_where"
[ "$MODE" = --env ] && { echo "make variables: ${MAKEVARS[*]:-none}"; exit 0; }

# ---- build --------------------------------------------------------------------------------------
B=build/release-cuda
stage build 300 make -j"$(nproc)" NVCC="$NVCC" "CUDA_ARCH=-gencode arch=compute_90,code=sm_90 -lineinfo" "${MAKEVARS[@]}" \
    $B/run_tests $B/bench_kernels $B/step_profile $B/bench_step $B/train $B/make_demo
rc=$?
row build "$(verdict $rc)" $STAGE_SECS "sm_90, -lineinfo"
[ $rc = 0 ] || { tail -30 "$OUT/build.log"; exit 1; }

# ---- parity -------------------------------------------------------------------------------------
stage parity 150 $B/run_tests -tc="op *,kernel parity*,device ops*,training on the device*,AdamW on the device*,GPU parity*,cuDNN*,memory pool*,clip: the same on the device*"
rc=$?
row parity "$(verdict $rc)" $STAGE_SECS "$(grep -E '^\[doctest\] test cases' "$OUT/parity.log" | tail -1)"

# ---- bench --------------------------------------------------------------------------------------
stage bench 60 $B/bench_kernels
rc=$?
row bench "$(verdict $rc)" $STAGE_SECS "$OUT/bench.log"

# ---- profile ------------------------------------------------------------------------------------
for p in "bigru:gpo:none" "bert:gpo:none" "bigru:hrem:cpm"; do
    IFS=: read -r text model vsd <<< "$p"
    stage "profile_${text}_$model" 60 $B/step_profile --device cuda --text "$text" --model "$model" --vsd "$vsd" --steps 8 \
        --caption_length 32 --data /tmp/vsd_profile_L32
    rc=$?
    row profile "$(verdict $rc)" $STAGE_SECS "$model+$text${vsd/none/}: $(grep '^time' "$OUT/profile_${text}_$model.log" | cut -c7-); $(tail -1 "$OUT/profile_${text}_$model.log")"
done

# ---- step: one GPO+BiGRU training step, side by side ---------------------------------------------
step_row() {  # step_row LABEL COMMAND...
    local label=$1 rc
    shift
    stage "step_$label" 60 "$@"
    rc=$?
    row step "$(verdict $rc)" $STAGE_SECS "$label: $(grep -v '^#' "$OUT/step_$label.log" | tail -1 | awk '{print $4 " ms"}')"
}
step_row ours_cpu $B/bench_step 3 cpu
step_row ours_fp32 $B/bench_step 20 cuda fp32 0
step_row ours_tf32 $B/bench_step 20 cuda tf32 0
step_row ours_bf16 $B/bench_step 20 cuda bf16 0
step_row ours_cudnn $B/bench_step 20 cuda fp32 1
if [ -n "$PY" ] && $PY -c "import torch; assert torch.cuda.is_available()" 2> /dev/null; then
    for prec in fp32 tf32 bf16; do (cd tools && step_row "torch_$prec" "$PY" bench_torch_gpo.py 20 cuda $prec); done
else
    row step - 0 "PyTorch with CUDA not on this image: no torch rows"
fi

# ---- train --------------------------------------------------------------------------------------
[ -f data/demo/precomp/test_caps.txt ] || stage demo 120 $B/make_demo --data_path data
for run in cpu:0 cuda:0 cuda:1; do
    dev=${run%:*}; cudnn=${run#*:}; tag=${dev}_cudnn$cudnn
    stage "train_$tag" 120 $B/train --data_path data --dataset demo --model hrem --vsd cpm --text_encoder bigru \
        --warmup 10 --max_steps 20 --validate 0 --progress 0 --log_step 1 --device "$dev" --cudnn "$cudnn" \
        --logger_name "/tmp/gpu_check_$tag"
    rc=$?
    row train "$(verdict $rc)" $STAGE_SECS "HREM+VSD 20 steps, $tag: $(tail -1 "$OUT/train_$tag.log")"
done
paste <(grep -o "loss [0-9.]*" /tmp/gpu_check_cpu_cudnn0/train.log) <(grep -o "loss [0-9.]*" /tmp/gpu_check_cuda_cudnn0/train.log) \
    <(grep -o "loss [0-9.]*" /tmp/gpu_check_cuda_cudnn1/train.log) > "$OUT/losses_side_by_side.txt" 2>&1
for k in 1 2; do
    stage "det_$k" 120 $B/train --data_path data --dataset demo --model gpo --text_encoder bigru --vsd none --max_steps 20 \
        --validate 0 --progress 0 --device cuda \
        --logger_name "/tmp/gpu_check_det$k" --trace "/tmp/gpu_check_det$k.trace"
done
if cmp -s /tmp/gpu_check_det1.trace /tmp/gpu_check_det2.trace; then
    row train ok 0 "GPO 20 steps on the GPU, twice: traces byte-identical ($(wc -l < /tmp/gpu_check_det1.trace) steps)"
else
    row train DIFF 0 "GPO 20 steps on the GPU, twice: the traces differ (see det_*.log)"
fi
# the same 20 steps with --precision bf16: the loss per step beside FP32's
stage "train_bf16" 120 $B/train --data_path data --dataset demo --model gpo --text_encoder bigru --vsd none --max_steps 20 \
    --validate 0 --progress 0 --device cuda --precision bf16 \
    --logger_name /tmp/gpu_check_bf16 --trace /tmp/gpu_check_bf16.trace
rc=$?
paste <(grep -o '"loss": {[^}]*}' /tmp/gpu_check_det1.trace) <(grep -o '"loss": {[^}]*}' /tmp/gpu_check_bf16.trace) \
    > "$OUT/losses_fp32_bf16.txt" 2>&1
row train "$(verdict $rc)" $STAGE_SECS "GPO 20 steps --precision bf16: $(tail -1 "$OUT/losses_fp32_bf16.txt" | tr -s ' \t' ' ') (fp32 | bf16, last step)"

# ---- sanitize -----------------------------------------------------------------------------------
if command -v compute-sanitizer > /dev/null; then
    for tool in memcheck racecheck; do
        stage "sanitize_$tool" 75 compute-sanitizer --tool $tool --error-exitcode 3 $B/run_tests -tc="kernel parity*"
        rc=$?
        row sanitize "$(verdict $rc)" $STAGE_SECS "$tool: $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/sanitize_$tool.log" | tail -1)"
    done
else
    row sanitize - 0 "compute-sanitizer not on this image"
fi
echo
echo "== gpu_check: $((SECONDS - START)) s; logs in $OUT"
cat "$TABLE"
