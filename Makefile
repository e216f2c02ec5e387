# Two entry points: `make demo` and `make test` (see README.md). Both create/update .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.oldphoto-installed
DEMO_OUT ?= demo-out

.PHONY: install demo test browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[test,extras]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/oldphoto weights fetch
	$(BIN)/oldphoto demo --out $(DEMO_OUT)

test: install browser
	$(BIN)/oldphoto weights fetch
	$(BIN)/pytest -q

# Headless Chromium for the report's browser test: installed with apt-get when missing and running
# as root; never fails the build (without it, that test skips and says why).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "note: chromium not installed; the report browser test will skip"; }

clean:
	rm -rf $(VENV) $(DEMO_OUT) build site *.egg-info
