# AEoS toolkit. `make demo` and `make test` do everything on a fresh machine.
APT_PACKAGES := liblapacke-dev libgsl-dev libopenblas-dev zlib1g-dev pkg-config dataset-fashion-mnist
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
AEOS := .build/release/aeos

.PHONY: deps build demo test bench clean

# Installs only what is missing (idempotent; no apt-get update when all are present).
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "apt packages present"; fi

build: deps
	$(SWIFT) build -c release --product aeos

demo: build
	$(AEOS) verify

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel

bench: build
	$(AEOS) bench

clean:
	rm -rf .build
