# Roadtest: the two commands a newcomer needs.
#   make demo   builds Roadtest, installs the real local models, runs the quickstart, writes report.html
#   make test   builds Roadtest (release: timing tests measure optimised code), installs the local models
#               (reused when present), the official OpenAI, Anthropic, Google and AWS Python clients (.build/pyclients), Debian's
#               chromium, postgresql and prometheus (apt-get, when missing), runs every test
# Assumed on the machine: the Swift 6 toolchain and python3 (with venv and pip). Everything else
# (cmake, ninja, llama.cpp's llama-server, the GGUF models) is installed by `roadtest models install`
# into ROADTEST_HOME (default ~/.roadtest).

SWIFT ?= swift

.PHONY: demo test build models lint portability format clean-home pyclients browser postgres prometheus

# One release build serves both commands (tests included, so `make test` after `make demo` rebuilds nothing).
build:
	$(SWIFT) build -c release --build-tests

models: build
	.build/release/roadtest models install

demo: models
	@status=0; .build/release/roadtest run examples/quickstart.yaml --html report.html --json report.json || status=$$?; \
	if [ $$status -eq 0 ] || [ $$status -eq 100 ]; then \
		echo "Wrote report.html and report.json (exit $$status: 0 = every bar met, 100 = a bar is not met)."; \
	else exit $$status; fi

# The official OpenAI, Anthropic, Google (google-genai) and AWS (boto3) Python clients, for the tests that point them
# at the gateway and hold the providers' requests and the simulator's answers to them. Every package,
# dependencies included, is pinned by version and sha256 in Tests/python-clients.txt; pip refuses any other file.
PYCLIENTS := .build/pyclients
pyclients:
	test -x $(PYCLIENTS)/bin/python || python3 -m venv $(PYCLIENTS)
	$(PYCLIENTS)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r Tests/python-clients.txt

# Debian's chromium, for the test that drives the review page in a real browser.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium; }

# Debian's PostgreSQL server binaries, for the tests of the shared store (each test starts its own cluster on
# loopback in a temporary directory; nothing is started here).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq postgresql; }

# Debian's prometheus (server and promtool), for the test that checks and scrapes the gateway's metrics (the test
# starts its own server on loopback; nothing is started here).
prometheus:
	@command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || { \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq prometheus; }

test: build pyclients browser postgres prometheus
	.build/release/roadtest models install
	$(SWIFT) test -c release --skip-build --no-parallel

# The tree is formatted with the toolchain's swift-format and the repository's .swift-format (CI checks it).
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

# The tree builds on macOS and Linux: no Glibc-qualified call, no bare `import Glibc`, no Linux-only API outside
# its #if (CI checks it).
portability:
	bash .ci/portability

format:
	$(SWIFT) format format --in-place --recursive Sources Tests Package.swift
