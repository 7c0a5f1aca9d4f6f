# Makefile — build, test and benchmark. `make help` lists the targets.
#
#   make test            build everything and run every test (no GPU needed)
#   make bench           GEMM, bert-base and HREM's relation statistics against Debian's python3-torch
#   make train / eval    DATASET=demo|f30k|coco MODEL=gpo|hrem VSD=cpm|flor TEXT=bert ARGS='...' 
#   NO_CUDA=1 make ...   force a CPU-only build even when nvcc is present
#   DEBUG=1 make ...     -O0 -g;   SAN=1 make ...   address + undefined-behaviour sanitizers
#
# Each configuration builds into its own folder (build/release-cuda, build/debug-cpu, ...), so
# switching flags never mixes objects. Header dependencies are tracked with -MMD; make -j is safe.

SHELL := /bin/bash
MAKEFLAGS += --jobs=$(shell nproc 2>/dev/null || echo 2)
CXX ?= g++

# ---- which configuration -----------------------------------------------------------------
NVCC := $(if $(NO_CUDA),,$(shell command -v nvcc 2>/dev/null || { test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc; }))
ifeq ($(NVCC),)
  CUDA_TAG := cpu
  $(info ✗ CUDA part not built ($(if $(NO_CUDA),NO_CUDA=1,nvcc not found)): CPU-only build)
else
  CUDA_TAG := cuda
  CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
  $(info ✓ nvcc found ($(NVCC)): building the CUDA part)
endif

ifdef SAN
  MODE := san
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDOPT := -fsanitize=address,undefined
else ifdef DEBUG
  MODE := debug
  OPT := -O0 -g
else
  MODE := release
  OPT := -O3 -march=native
endif

BUILD := build/$(MODE)-$(CUDA_TAG)
CXXFLAGS := -std=c++17 $(OPT) -fopenmp -Wall -Wextra -Wno-unused-parameter -MMD -MP
LDFLAGS := $(LDOPT) -fopenmp
LDLIBS := -lm

# ---- sources -----------------------------------------------------------------------------
LIB_SRC := $(filter-out %_main.cpp,$(wildcard src/core/*.cpp src/ops/*.cpp src/data/*.cpp src/nn/*.cpp src/train/*.cpp kernels/*.cpp))
# kernels/*.cu are also compiled as plain C++ for the CUDA emulator (kernels/sim), in every build:
# the parity tests run them on the CPU. Objects go to $(BUILD)/sim/.
KERNEL_CU := $(wildcard kernels/*.cu)
SIM_OBJ := $(patsubst kernels/%.cu,$(BUILD)/sim/kernels/%.o,$(KERNEL_CU)) $(BUILD)/sim/cuda_sim.o
ifeq ($(CUDA_TAG),cuda)
  CU_SRC := $(KERNEL_CU)
  # cuDNN and cuBLAS outside the toolkit (e.g. the nvidia-cudnn Python wheel): CUDNN_INC=dir CUDNN_LIB=dir
  # CUBLAS_LIB=dir (tools/gpu_check.sh finds them)
  CXXFLAGS += -DUSE_CUDA -I$(CUDA_HOME)/include $(if $(CUDNN_INC),-I$(CUDNN_INC))
  CUDA_ARCH ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=[sm_90,compute_90]
  NVCCFLAGS := -std=c++17 -O3 -DUSE_CUDA $(CUDA_ARCH) -Xcompiler -fopenmp -MMD -MP
  LDLIBS += $(foreach d,$(CUDNN_LIB) $(CUBLAS_LIB),-L$(d) -Wl,-rpath,$(d)) \
            -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudnn -lcudart
endif
LIB_OBJ := $(patsubst %.cpp,$(BUILD)/%.o,$(LIB_SRC)) $(patsubst %.cu,$(BUILD)/%.cu.o,$(CU_SRC)) $(SIM_OBJ)
TEST_SRC := $(wildcard tests/*.cpp tests/ops/*.cpp)
TEST_OBJ := $(patsubst %.cpp,$(BUILD)/%.o,$(TEST_SRC))
LIB := $(BUILD)/libvsd.a

.PHONY: index search profile all test bench train eval clean help doctest demo prototypes vocab fuzz
TOOLS := make_demo npy_inspect check_dataset prototypes embed build_vocab step_profile
PROGRAMS := train eval search
all: $(LIB) $(BUILD)/run_tests $(BUILD)/bench_gemm $(BUILD)/bench_bert $(BUILD)/bench_relation $(BUILD)/bench_step $(BUILD)/bench_images $(if $(NVCC),$(BUILD)/bench_kernels) $(addprefix $(BUILD)/,$(TOOLS) $(PROGRAMS))

help:
	@echo "make test | bench | train | eval | demo | prototypes | clean   (flags: NO_CUDA=1 DEBUG=1 SAN=1)"
	@echo "train/eval: DATASET=demo|f30k|coco DATA=path MODEL=gpo|hrem VSD=cpm|flor TEXT=bert|bigru BERT=folder CKPT=... ARGS='...'"
	@echo "index/search: IMAGES=folder CLIP=folder QUERY='...' (your own pictures through a CLIP model)"

# ---- compile -----------------------------------------------------------------------------
$(BUILD)/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/%.cu.o: %.cu
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

# the emulator build of a kernel file: the same source, compiled as C++ with the emulator header
$(BUILD)/sim/kernels/%.o: kernels/%.cu
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -DVSD_SIM -x c++ -include kernels/sim/cuda_sim.h -c $< -o $@

$(BUILD)/sim/cuda_sim.o: kernels/sim/cuda_sim.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# tests need doctest (Debian's doctest-dev); tools/ensure_doctest.sh installs it when missing.
# DOCTEST_INC=dir: a folder holding doctest/doctest.h instead (a machine with no network)
ifneq ($(DOCTEST_INC),)
  CXXFLAGS += -I$(DOCTEST_INC)
endif
$(BUILD)/.doctest:
	@DOCTEST_INC='$(DOCTEST_INC)' bash tools/ensure_doctest.sh
	@mkdir -p $(@D) && touch $@
$(TEST_OBJ): | $(BUILD)/.doctest
# tests find their fixtures (tests/fixtures) and the shared real data (../shared/data) from here
$(TEST_OBJ): CXXFLAGS += -DVSD_SOURCE_DIR='"$(CURDIR)"' -DVSD_BUILD_DIR='"$(BUILD)"'
# the CPU GEMM's blocked kernel, built once per instruction set (kernels/gemm_blocked.inc); gemm_cpu
# picks the widest the CPU has at run time, so the binary is fast on every x86 (AVX-512 or AVX2 only)
ifeq ($(shell uname -m),x86_64)
$(BUILD)/kernels/gemm_avx512.o: CXXFLAGS += -mavx512f -mfma
$(BUILD)/kernels/gemm_avx2.o: CXXFLAGS += -mno-avx512f -mavx2 -mfma
$(BUILD)/kernels/gemm_generic.o: CXXFLAGS += -mno-avx
endif
# the emulator's own tests are written like a kernel file: the emulator header comes first
$(BUILD)/tests/test_emulator.o: CXXFLAGS += -DVSD_SIM -include kernels/sim/cuda_sim.h

$(BUILD)/run_tests: $(TEST_OBJ) $(LIB)
	$(CXX) $(LDFLAGS) $(TEST_OBJ) $(LIB) $(LDLIBS) -o $@

$(BUILD)/bench_gemm: $(BUILD)/tools/bench_gemm.o $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bench_bert: $(BUILD)/tools/bench_bert.o $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bench_relation: $(BUILD)/tools/bench_relation.o $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bench_step: $(BUILD)/tools/bench_step.o $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bench_images: $(BUILD)/tools/bench_images.o $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

# the GPU kernel bench: CUDA builds only
$(BUILD)/bench_kernels: $(BUILD)/tools/bench_kernels.cu.o $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

# the programs: src/train/<name>_main.cpp
$(addprefix $(BUILD)/,$(PROGRAMS)): $(BUILD)/%: $(BUILD)/src/train/%_main.o $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

# small programs in tools/<name>.cpp, each linked against the library
$(addprefix $(BUILD)/,$(TOOLS)): $(BUILD)/%: $(BUILD)/tools/%.o $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@

# ---- run ---------------------------------------------------------------------------------
# Exit code is the verdict; the last line is "N passed, N failed, N skipped".
test: $(BUILD)/run_tests $(BUILD)/build_vocab $(BUILD)/embed $(BUILD)/eval $(BUILD)/step_profile $(BUILD)/search $(BUILD)/prototypes
	$(BUILD)/run_tests $(TEST_ARGS)

bench: $(BUILD)/bench_gemm $(BUILD)/bench_bert $(BUILD)/bench_relation $(BUILD)/bench_step $(BUILD)/bench_images $(BUILD)/step_profile $(if $(NVCC),$(BUILD)/bench_kernels)
	@bash tools/bench.sh $(BUILD)/bench_gemm $(BUILD)/bench_bert $(BUILD)/bench_relation $(BUILD)/bench_step $(BUILD)/bench_images
	@printf 'device work of a GPO+BiGRU step, B=128 (make profile, emulator, count only): '
	@$(BUILD)/step_profile --text bigru --steps 3 2>&1 | tail -1
	@$(if $(NVCC),$(BUILD)/bench_kernels,echo "CUDA part not built: no GPU kernel bench")

# make train [DATASET=f30k|coco|demo] [DATA=data] [MODEL=gpo|hrem|clip] [VSD=cpm|flor] [TEXT=bert|bigru [BERT=folder]] [ARGS='...']
# Each (MODEL, VSD, DATASET) resolves to the recipe of the reference behind that paper row (train
# --dry_run prints it). With no DATASET, trains on the demo dataset (generated when absent) with the
# demo preset: 4 epochs, and the BiGRU text encoder (the demo has no pretrained BERT).
DATASET ?= demo
DATA ?= data
TEXT ?= $(if $(filter demo,$(DATASET)),bigru,bert)
BERT ?= $(if $(filter demo,$(DATASET)),$(DATA)/demo/bert,bert-base-uncased)
MODEL ?= gpo
RUN ?= runs/$(DATASET)$(if $(filter hrem clip,$(MODEL)),_$(MODEL))$(if $(VSD),_$(VSD))$(if $(filter command line environment,$(origin TEXT)),_$(TEXT))
# the demo: 4 epochs of 58 steps; HREM's relation module switches on after the first epoch (its
# reference warmup, 8000 of ~28k iterations, is about the same share of training)
DEMO_PRESET := --num_epochs 4 --lr_update 3 --lr_schedules 3 --batch_size 128 $(if $(filter hrem,$(MODEL)),--warmup 58)
DEMO_FILES := $(DATA)/demo/.complete
train: $(BUILD)/train $(if $(filter demo,$(DATASET)),$(DEMO_FILES))
	$(BUILD)/train --data_path $(DATA) --dataset $(DATASET) --logger_name $(RUN) --model $(MODEL) $(if $(VSD),--vsd $(VSD)) \
	  $(if $(filter clip,$(MODEL)),,--text_encoder $(TEXT) $(if $(filter bert,$(TEXT)),--bert_path $(BERT))) \
	  $(if $(filter demo,$(DATASET)),$(DEMO_PRESET)) $(ARGS)

# make eval [DATASET=...] [CKPT=path] [SPLIT=test|testall] [ENSEMBLE='runs/a runs/b' (run folders or saved .npy)] [ARGS=...]
space := $(subst ,, )
comma := ,
SPLIT ?= $(if $(filter coco,$(DATASET)),testall,test)
eval: $(BUILD)/eval
	$(BUILD)/eval --logger_name $(RUN) --split $(SPLIT) $(if $(CKPT),--checkpoint $(CKPT)) $(if $(DATA),--data_path $(DATA)) \
	  $(if $(ENSEMBLE),--ensemble $(subst $(space),$(comma),$(strip $(ENSEMBLE)))) $(ARGS)

# make search QUERY='a man riding a bike' [RUN=...] [TOPK=5] | IMAGE=12 | CAPTION=40 [ARGS=--json]
# make search IMAGES=photos/ CLIP=models/CLIP QUERY='a red car': your own pictures (after make index)
TOPK ?= 5
CLIP ?= data/models/CLIP
search: $(BUILD)/search
ifneq ($(IMAGES),)
	$(BUILD)/search --images $(IMAGES) --clip $(CLIP) --k $(TOPK) $(if $(QUERY),--query "$(QUERY)") $(ARGS)
else
	$(BUILD)/search --logger_name $(RUN) --split $(SPLIT) $(if $(DATA),--data_path $(DATA)) --k $(TOPK) \
	  $(if $(QUERY),--query "$(QUERY)") $(if $(IMAGE),--image $(IMAGE)) $(if $(CAPTION),--caption $(CAPTION)) $(ARGS)
endif

# make index IMAGES=photos/ [CLIP=models/CLIP] [ARGS='--device cuda']: encode a folder of JPEGs/PNGs with a
# CLIP model (open_clip_config.json, weights, merges.txt) into runs/clip_index_<folder>/, with progress
index: $(BUILD)/search
	$(BUILD)/search --images $(IMAGES) --clip $(CLIP) --build_only 1 $(ARGS)

# make profile [TEXT=bigru|bert] [MODEL=gpo|hrem] [ARGS=...]: the device work of one training step at
# Flickr30K's sizes, counted in the emulator (no GPU needed; ARGS='--device cuda' on a GPU)
profile: $(BUILD)/step_profile
	$(BUILD)/step_profile --text $(if $(filter command line environment,$(origin TEXT)),$(TEXT),bigru) --model $(MODEL) $(ARGS)

# make prototypes DATASET=f30k K=896: k-means of the training descriptions (paper-notes §1.4);
# MODEL=clip: in CLIP's space (the PCA of the descriptions to CLIP's embedding size first)
K ?= $(if $(filter coco,$(DATASET)),2560,$(if $(filter f30k,$(DATASET)),896,64))
prototypes: $(BUILD)/prototypes
	$(BUILD)/prototypes --data_path $(DATA) --dataset $(DATASET) --K $(K) $(if $(filter clip,$(MODEL)),--clip_path auto) $(ARGS)

# make vocab DATASET=mydata [DATA=data]: a SCAN vocabulary for the BiGRU text encoder (as vse_infty's vocab.py)
vocab: $(BUILD)/build_vocab
	$(BUILD)/build_vocab --data_path $(DATA) --dataset $(DATASET) $(ARGS)

# (re)generated when its completion marker is missing, e.g. after an interrupted generation
# (generation is deterministic: same seed, same bytes)
$(DEMO_FILES) &: | $(BUILD)/make_demo
	$(BUILD)/make_demo --data_path $(DATA)

# the demo dataset (data/demo, data/vocab/demo_precomp_vocab.json), regenerated when absent
DEMO_ARGS ?=
demo: $(BUILD)/make_demo
	$(BUILD)/make_demo --data_path data $(DEMO_ARGS)

# ---- fuzzing: clang's libFuzzer under AddressSanitizer + UndefinedBehaviorSanitizer ------------------
# make fuzz [FUZZ_RUNS=1000000] [FUZZ_TARGETS='npy json ...']: one harness per parser (tests/fuzz/harness.cpp),
# each run for FUZZ_RUNS inputs from its seeds; a crash stops with the reproducer in build/fuzz/.
# Needs clang++ and libFuzzer (Debian: clang libfuzzer-14-dev libomp-14-dev; tools/ensure_fuzz.sh installs them).
FUZZ_TARGETS ?= npy json safetensors torch captions vocab bert_config image
FUZZ_RUNS ?= 1000000
FUZZ_DIR := build/fuzz
FUZZ_CXXFLAGS := -std=c++17 -O1 -g -fno-omit-frame-pointer -fopenmp -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SRC := $(filter-out %_main.cpp,$(wildcard src/core/*.cpp src/ops/*.cpp src/data/*.cpp src/nn/*.cpp src/train/*.cpp kernels/*.cpp))
FUZZ_OBJ := $(patsubst %.cpp,$(FUZZ_DIR)/%.o,$(FUZZ_SRC)) $(patsubst kernels/%.cu,$(FUZZ_DIR)/sim/%.o,$(KERNEL_CU)) $(FUZZ_DIR)/sim/cuda_sim.o
fuzz_seeds_npy := tests/fixtures/npy
fuzz_seeds_json := tests/fuzz/seeds/json tests/fixtures/torch/tiny_bert
fuzz_seeds_safetensors := tests/fixtures/torch
fuzz_seeds_torch := tests/fixtures/torch tests/fixtures/ckpt/hrem tests/fixtures/ckpt/vse_infty_bigru
fuzz_seeds_captions := tests/fuzz/seeds/captions
fuzz_seeds_vocab := tests/fuzz/seeds/vocab
fuzz_seeds_bert_config := tests/fixtures/torch/tiny_bert tests/fixtures/bert
fuzz_seeds_image := tests/fixtures/image/jpeg tests/fixtures/image/png
$(FUZZ_DIR)/%.o: %.cpp
	@mkdir -p $(@D)
	clang++ $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(FUZZ_DIR)/sim/%.o: kernels/%.cu
	@mkdir -p $(@D)
	clang++ $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -DVSD_SIM -x c++ -include kernels/sim/cuda_sim.h -c $< -o $@
$(FUZZ_DIR)/sim/cuda_sim.o: kernels/sim/cuda_sim.cpp
	@mkdir -p $(@D)
	clang++ $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_DIR)/libvsd.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(FUZZ_DIR)/fuzz_%: tests/fuzz/harness.cpp $(FUZZ_DIR)/libvsd.a
	clang++ $(FUZZ_CXXFLAGS) -fsanitize=fuzzer -DFUZZ_TARGET_$(shell echo $* | tr a-z A-Z) $< $(FUZZ_DIR)/libvsd.a -lm -o $@
$(FUZZ_DIR)/.tools:
	@bash tools/ensure_fuzz.sh
	@mkdir -p $(@D) && touch $@
$(FUZZ_OBJ): | $(FUZZ_DIR)/.tools
fuzz: $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus_$$t $(FUZZ_DIR)/crashes_$$t; \
	  start=$$(date +%s); \
	  $(FUZZ_DIR)/fuzz_$$t -runs=$(FUZZ_RUNS) -max_len=65536 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/crashes_$$t/ $(FUZZ_DIR)/corpus_$$t $(fuzz_seeds_$$t) > $(FUZZ_DIR)/fuzz_$$t.log 2>&1; \
	  rc=$$?; \
	  runs=$$(grep -o 'stat::number_of_executed_units: *[0-9]*' $(FUZZ_DIR)/fuzz_$$t.log | grep -o '[0-9]*$$'); \
	  printf "fuzz %-12s %9s inputs in %4ss: %s\n" $$t "$${runs:-?}" $$(( $$(date +%s) - start )) \
	    "$$( [ $$rc -eq 0 ] && echo '0 crashes' || echo "FAILED (rc $$rc): see $(FUZZ_DIR)/fuzz_$$t.log and $(FUZZ_DIR)/crashes_$$t/")"; \
	  [ $$rc -eq 0 ] || exit 1; \
	done

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
