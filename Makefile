# Quorum: `make run` serves a demo council; `make test` runs every test. Both install what they need.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
STAMP := .venv/.installed
APT_PACKAGES := chromium softhsm2 poppler-utils postgresql redis-server

.PHONY: install bytecode system-deps frontend run test test-fast lint bench mutate clean

# Bytecode is compiled here, and our own sources before the tests: where the environment sets
# PYTHONDONTWRITEBYTECODE (this machine's does), Python writes no .pyc, and every process the
# tests start (servers, the `quorum` command, benchmark clients) compiled some 1,200 modules
# again: 5 s before a `quorum user list` could answer, 2.6 s with the bytecode.
$(STAMP): pyproject.toml uv.lock Makefile
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode
	@touch $(STAMP)

bytecode: install
	$(UV) run python -m compileall -q -j 0 meetings realtime tests

install: $(STAMP)

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

# The web app (docs/WEBAPP.md): `npm ci` when package.json or the lock file changed, then a
# fresh build into frontend/dist, which `quorum serve` serves and the browser tests load.
FRONTEND_DEPS := frontend/node_modules/.installed

$(FRONTEND_DEPS): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $(FRONTEND_DEPS)

frontend: $(FRONTEND_DEPS)
	cd frontend && npm run build

run: install bytecode frontend
	$(UV) run quorum demo

lint: install
	$(UV) run ruff check meetings realtime tests
	$(UV) run lint-imports
	$(UV) run mypy meetings realtime

# test processes side by side (pytest-xdist, whole files each): 0 runs them all in this one;
# `make test TEST_PROCESSES=2` takes 15 min instead of 20 on 2 cores but is not yet the default
# (docs/TESTING.md, "Time")
TEST_PROCESSES ?= 0

test: install bytecode system-deps frontend
	$(UV) run ruff check meetings realtime tests
	$(UV) run lint-imports
	$(UV) run mypy meetings realtime
	cd frontend && npm run check && npm test
	$(UV) run pytest -q -p no:cacheprovider -n $(TEST_PROCESSES) --dist loadfile

test-fast: install
	$(UV) run pytest -q -p no:cacheprovider tests/unit

# Mutation testing (docs/TESTING.md): the domain, the ballot box and Actor.require_* against the
# unit tests ([tool.mutmut] in pyproject.toml); not part of `make test`. MUTANTS narrows the run,
# e.g. make mutate MUTANTS='meetings.domain.majority*'. Survivors: uv run mutmut results
MUTANTS ?=
mutate: install
	timeout $${MUTATE_TIMEOUT:-3600} $(UV) run mutmut run --max-children 2 $(MUTANTS); \
	$(UV) run mutmut results

bench: install bytecode
	$(UV) run python -m tests.bench.run_all

clean:
	rm -rf .venv var frontend/dist frontend/node_modules
