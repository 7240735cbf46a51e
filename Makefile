# sisock — the commands of a fresh clone. Each target installs what it needs by itself.
SHELL := /bin/bash
NODE_DEPS := node_modules/.package-lock.json

.PHONY: all build test demo bench deps py-deps clean certs

all: build

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NODE_DEPS)

deps: $(NODE_DEPS)

# Debian packages the interop tests need (AutobahnPython), installed only when missing.
py-deps:
	@./scripts/ensure-debian-packages.sh python3-autobahn

build: deps
	npx tsc -p tsconfig.build.json

test: build py-deps
	node scripts/check-services.js
	npx jest --ci $(JEST_ARGS)

demo: build
	node dist/bin/sisock.js demo

bench: build
	node dist/bench/run.js

certs:
	./tls/make-certs.sh

clean:
	rm -rf dist coverage test-output
