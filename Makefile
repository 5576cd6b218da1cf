# AEoS toolkit. `make demo` and `make test` do everything on a fresh machine.
APT_PACKAGES := liblapacke-dev libgsl-dev libopenblas-dev zlib1g-dev pkg-config dataset-fashion-mnist librsvg2-bin
SLURM_PACKAGES := slurm-wlm munge
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
AEOS := .build/release/aeos
# Where the CPU has AVX2 and FMA (x86-64-v3, e.g. every AMD EPYC here), compile the
# Swift loops for it: the elementwise passes of the engine and the optimizers' fused
# loops run twice as wide. Elsewhere the portable baseline build is used.
CPU_FLAGS := $(shell grep -q -w avx2 /proc/cpuinfo 2>/dev/null && grep -q -w fma /proc/cpuinfo 2>/dev/null && echo "-Xswiftc -target-cpu -Xswiftc haswell")

PREFIX ?= /usr/local

.PHONY: deps slurm-deps slurm-test build demo test bench install uninstall clean

# Installs only what is missing (idempotent; no apt-get update when all are present).
define apt-install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "apt packages present"; fi
endef

deps:
	$(call apt-install,$(APT_PACKAGES))

# Slurm and munge, for the single-node cluster of scripts/slurm-local.sh (the Slurm
# integration test that .ci/run runs after make test); not needed for make test.
slurm-deps:
	$(call apt-install,$(SLURM_PACKAGES))

build: deps
	$(SWIFT) build -c release --product aeos $(CPU_FLAGS)

# The main job; leaves its report (report.md, SVG figures, CSV traces) in aeos-verify-report/.
demo: build
	$(AEOS) verify --report aeos-verify-report

# Tests are compiled with optimisation (-O keeps preconditions and overflow checks;
# @testable still works): the suite runs real training through the README's
# `aeos verify`, and the exact-arithmetic property tests, which take ~110 s unoptimised
# and ~20 s optimised, for a build that is ~1 min longer.
test: deps
	$(SWIFT) build --build-tests -Xswiftc -O
	$(SWIFT) test --skip-build --parallel

# aeos sweep --slurm --submit on a single-node Slurm cluster brought up here (root):
# scripts/slurm-integration.sh, with the binary make test builds.
slurm-test: slurm-deps
	$(SWIFT) build --build-tests -Xswiftc -O
	bash scripts/slurm-integration.sh

bench: build
	$(AEOS) bench --reference

# Puts the release binary on the PATH: make install PREFIX=$$HOME/.local
install: build
	install -d $(PREFIX)/bin
	install -m 755 $(AEOS) $(PREFIX)/bin/aeos

uninstall:
	rm -f $(PREFIX)/bin/aeos

clean:
	rm -rf .build
