# The two set-up commands of the README, each doing its whole job on a fresh clone:
#   make demo   creates .venv if missing (./install.sh), finds or fetches MNIST, runs `snn demo`
#   make test   creates .venv if missing, runs the default test set (a few minutes)
# and the rest of the tests: make test-slow (slow and notebooks); CI runs both test commands.
# DATA_DIR=... overrides where the datasets are looked for (else $SNN_DATA_DIR, the user cache,
# then shared/datasets beside the checkout).
VENV := .venv
STAMP := $(VENV)/.installed
PYTEST := $(VENV)/bin/python -m pytest --durations=15
DATA_FLAG := $(if $(DATA_DIR),--data-dir $(DATA_DIR))
export SNN_DATA_DIR := $(or $(DATA_DIR),$(SNN_DATA_DIR))

.PHONY: demo test test-slow install

$(STAMP): pyproject.toml install.sh
	./install.sh
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/snn demo $(DATA_FLAG)

test: $(STAMP)
	$(PYTEST)

test-slow: $(STAMP)
	$(PYTEST) -m "slow or notebooks"
