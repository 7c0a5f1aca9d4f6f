#!/bin/bash
# gpu_check.sh — the one script to run on a machine with a GPU (e.g. the device tool's H200):
# builds the CUDA configuration, runs the op and kernel parity tests on the GPU (cuDNN's too), the kernel bench, and a short demo
# training run on the GPU against the same run on the CPU. Prints a short table; about 5 minutes.
set -u
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || { echo "no GPU"; exit 1; }
make -j"$(nproc)" all > /tmp/gpu_build.log 2>&1 || { tail -30 /tmp/gpu_build.log; exit 1; }
echo "== GPU parity tests"
build/release-cuda/run_tests -tc="kernel parity*,op *,GPU parity*,device ops*" 2>&1 | tail -3
echo "== kernel bench"
build/release-cuda/bench_kernels
echo "== demo training: 20 steps on the CPU, the GPU, and the GPU with cuDNN's BiGRU (the loss columns should agree to ~3 digits)"
[ -f data/demo/precomp/test_caps.txt ] || make demo > /dev/null
for run in cpu:0 cuda:0 cuda:1; do
  dev=${run%:*}; cudnn=${run#*:}; tag=${dev}_cudnn$cudnn
  start=$SECONDS
  build/release-cuda/train --data_path data --dataset demo --model hrem --vsd cpm --text_encoder bigru \
    --warmup 10 --max_steps 20 --validate 0 --progress 0 --log_step 1 --device $dev --cudnn $cudnn \
    --logger_name /tmp/gpu_check_$tag > /tmp/gpu_check_$tag.out 2>&1
  echo "$tag: $((SECONDS - start)) s; $(tail -1 /tmp/gpu_check_$tag.out)"
done
paste <(grep -o "loss [0-9.]*" /tmp/gpu_check_cpu_cudnn0/train.log) <(grep -o "loss [0-9.]*" /tmp/gpu_check_cuda_cudnn0/train.log) \
  <(grep -o "loss [0-9.]*" /tmp/gpu_check_cuda_cudnn1/train.log) | head -20
