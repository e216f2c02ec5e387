# Two entry points: `make demo` and `make test` (see README.md). Both create/update .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.oldphoto-installed
DEMO_OUT ?= demo-out

.PHONY: install demo test clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[test,extras]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/oldphoto weights fetch
	$(BIN)/oldphoto demo --out $(DEMO_OUT)

test: install
	$(BIN)/oldphoto weights fetch
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) $(DEMO_OUT) build *.egg-info
