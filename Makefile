# Two commands do everything on a fresh machine:
#   make chat   - create .venv, install, build the index, verify demos, serve the chat on 127.0.0.1:7860
#   make test   - create .venv, install (plus Chromium for the browser test), lint, tests, eval gate
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
PYTHON  ?= python3

.PHONY: install chat sandbox index demos test lint eval browser clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned: the CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,discord]'
	touch $(STAMP)

install: $(STAMP)

chat: install sandbox
	$(VENV)/bin/tabot chat

# bubblewrap isolates staff demo code; without it (no apt, no sudo) demos still run, unisolated,
# and `tabot chat` says so at start-up.
sandbox:
	@test -x /usr/bin/bwrap || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -q bubblewrap || echo "bubblewrap not installed: demos will run without isolation"; }

index: install
	$(VENV)/bin/tabot index

demos: install
	$(VENV)/bin/tabot demos verify

# The browser test drives Debian's Chromium (never a browser downloaded by Playwright).
browser:
	@test -x /usr/bin/chromium -a -x /usr/bin/bwrap || { \
	  echo "installing Debian chromium (browser test) and bubblewrap (demo sandbox)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-noto-color-emoji bubblewrap; }

lint: install
	$(VENV)/bin/ruff check .

test: install browser lint
	$(VENV)/bin/pytest -q
	$(VENV)/bin/tabot eval --fast --gate --out build/eval-report

eval: install
	$(VENV)/bin/tabot eval --out eval-report

clean:
	rm -rf .tabot build eval-report test-artifacts
