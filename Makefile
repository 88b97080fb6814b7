# The README's commands. Everything self-installs into .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export PORT

.PHONY: install run test test-fast lint format bench bench-tenants faults stop-db clean

install: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml requirements/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c requirements/constraints.txt -e ".[dev]"
	@touch $@

run: install
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py seed_demo --port $(PORT)
	@echo "Serving on http://acme.localhost:$(PORT)/ with the job queue's worker beside it (Ctrl-C stops both)"
	@$(BIN)/python manage.py procrastinate worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	  $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench.run
	@echo "Tenants at scale (cloning, deploys over 1,000 tenants, about 6 min here): make bench-tenants"

bench-tenants: install
	$(BIN)/python -m bench.tenants

# Fault scenarios on private PostgreSQL and Redis servers (faults/); prints the table.
faults: install
	$(BIN)/python -m faults.run

stop-db: install
	$(BIN)/python -m waqti.embedded_db stop

clean: stop-db
	rm -rf .var artifacts
