# sisock — the commands of a fresh clone. Each target installs what it needs by itself.
SHELL := /bin/bash
NODE_DEPS := node_modules/.package-lock.json

.PHONY: all build typecheck lint format test demo bench deps test-deps clean certs check-secrets

all: build

check-secrets:
	./scripts/check-secrets.sh

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NODE_DEPS)

deps: $(NODE_DEPS)

# Debian packages the tests need, installed only when missing: AutobahnPython (interop),
# docker-compose (validates the compose files), Chromium (the web page's browser test),
# mosquitto (a private broker the MQTT node's broker-restart test starts and stops), lz4 (the reference
# tool writes the LZ4 frames of the compressed Arrow test files), util-linux-extra (fincore: whether the
# page cache holds the files a big scan reads).
# The benchmarks need some of them too (InfluxDB and VictoriaMetrics as peers, AutobahnPython for the
# Python SDK's, Mosquitto): `make bench` installs them the same way.
test-deps:
	@./scripts/ensure-debian-packages.sh python3-autobahn python3-twisted python3-msgpack mypy docker-compose chromium mosquitto influxdb victoria-metrics xz-utils bzip2 lz4 util-linux-extra

build: deps
	npx tsc -p tsconfig.build.json

# Every TypeScript file, tests and benchmarks included (tsconfig.json), without emitting.
typecheck: deps
	npx tsc -p tsconfig.json --noEmit

# typescript-eslint (eslint.config.mjs) and the formatter's check (.prettierrc.json); a warning fails too.
lint: deps
	npx eslint --max-warnings 0 .
	npx prettier --check .

# Rewrites every file the formatter covers (.prettierignore lists what it leaves alone).
format: deps
	npx prettier --write .

# jest's exit code decides; the summary line after it is for humans and CI logs.
test: build typecheck lint test-deps
	./scripts/check-secrets.sh
	node scripts/check-services.js
	@mkdir -p test-output
	npx jest --ci --json --outputFile=test-output/jest-results.json $(JEST_ARGS); rc=$$?; \
	  node scripts/test-summary.js test-output/jest-results.json; exit $$rc

demo: build
	node dist/bin/sisock.js demo

# bench/ is compiled only here (tsconfig.bench.json), so the production image and `make build` leave it out.
bench: deps test-deps
	npx tsc -p tsconfig.bench.json
	node dist/bench/run.js

# A dev CA and a router certificate for localhost, this host, `router` (the compose service) and
# CERT_NAMES (e.g. make certs CERT_NAMES="router.example.org 192.0.2.10").
certs:
	./tls/make-certs.sh router $(CERT_NAMES)

clean:
	rm -rf dist coverage test-output
