# The two commands of the README's quick start. Each installs what it needs on a fresh
# machine (npm packages, the pinned OPA toolchain built from the Go module proxy, a Python
# virtualenvs with the local AWS emulator and checkov) and is
# cheap to run again.
.PHONY: demo test build install clean

NODE_STAMP := node_modules/.package-lock.json

# `npm install`, not `npm ci`: the registry these machines reach lacks some other platforms'
# optional binaries (e.g. @swc/core-darwin-arm64), which npm cannot record in the lock and
# `npm ci` then rejects. `npm install` follows package-lock.json and leaves it unchanged.
$(NODE_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund

# The project virtualenv holds the Python tools the tests run (moto, the local AWS emulator).
VENV_STAMP := .venv/.installed

$(VENV_STAMP): requirements-dev.txt
	python3 -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# checkov (IaC scanner) gets its own virtualenv: its pins would downgrade moto's botocore.
CHECKOV_STAMP := .venv-checkov/.installed

$(CHECKOV_STAMP): requirements-checkov.txt
	python3 -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# Debian's Chromium renders the simulator's HTML report in a test (playwright-core drives it).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	$(SUDO) apt-get install -y -qq --no-install-recommends chromium || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

install: $(NODE_STAMP) $(VENV_STAMP) $(CHECKOV_STAMP) $(CHROMIUM)
	@scripts/opa version | head -n 1
	@echo "hcleval $$(scripts/hcleval --source-hash)"

build: install
	npm run build --silent

# The main job on local defaults: run the shipped scenarios through the whole loop on this
# machine (the synthesised module's workflow, the real handlers and policy, emulated AWS) and
# write the HTML report.
demo: build
	node dist/cli/suture.js simulate --report build/simulation-report.html

# The whole test suite: type-check, lint, policy CI (fmt, check, tests, coverage), jest.
test: build
	npm test

clean:
	rm -rf dist build coverage
