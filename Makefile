# The two commands of the README's quick start. Each installs what it needs on a fresh
# machine (npm packages, the pinned OPA toolchain built from the Go module proxy) and is
# cheap to run again.
.PHONY: demo test build install clean

NODE_STAMP := node_modules/.package-lock.json

# `npm install`, not `npm ci`: the registry these machines reach lacks some other platforms'
# optional binaries (e.g. @swc/core-darwin-arm64), which npm cannot record in the lock and
# `npm ci` then rejects. `npm install` follows package-lock.json and leaves it unchanged.
$(NODE_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund

install: $(NODE_STAMP)
	@scripts/opa version | head -n 1

build: install
	npm run build --silent

# The main job on local defaults: decide the example proposals (built from the AWS sample
# events) with the compiled policy bundle.
demo: build
	node dist/cli/suture.js decide --allow-unsigned --input examples/policy-inputs

# The whole test suite: type-check, lint, policy CI (fmt, check, tests, coverage), jest.
test: build
	npm test

clean:
	rm -rf dist build coverage
