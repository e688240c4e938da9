# Banyan: every target builds its own virtualenv, so a fresh machine needs only python3.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml examples/pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo serve test lint bench venv clean

$(STAMP): pyproject.toml examples/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./examples
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

# The demo runs on its own SQLite file (demo.db), made afresh each time.
DEMO_DB := sqlite:///demo.db
DEMO_ENV := BANYAN_DATABASE_URL=$(DEMO_DB) BANYAN_ACTOR=demo

demo: $(STAMP)
	@rm -f demo.db demo.db-wal demo.db-shm
	$(BIN)/banyan validate configs/
	$(DEMO_ENV) $(BIN)/banyan deploy configs/ -m "demo bank"
	$(DEMO_ENV) $(BIN)/banyan seed demo --scale 0.1
	$(DEMO_ENV) $(BIN)/banyan records list company --limit 5 --order -registered_capital --fields name,group,branch,industry,registered_capital
	$(DEMO_ENV) $(BIN)/banyan graph circles
	$(DEMO_ENV) $(BIN)/banyan records list group --as rm_sh_01 --fields code,name,lead_branch,member_count,limit_usage
	$(DEMO_ENV) $(BIN)/banyan alerts scan
	$(DEMO_ENV) $(BIN)/banyan tier run
	$(DEMO_ENV) $(BIN)/banyan tier reviews
	BANYAN_LANG=zh $(DEMO_ENV) $(BIN)/banyan tier explain G0001
	$(DEMO_ENV) $(BIN)/banyan test configs/ --record > /dev/null && echo "business tests: recorded for each rule's page (/ui/alert-rules/NAME)"
	$(DEMO_ENV) $(BIN)/banyan alerts list --limit 5
	$(DEMO_ENV) $(BIN)/banyan events import examples/demo_bank/court_feed.csv
	$(DEMO_ENV) $(BIN)/banyan worker --once
	$(DEMO_ENV) $(BIN)/banyan alerts list --rule dishonest_debtor_listed --limit 1
	$(DEMO_ENV) $(BIN)/banyan records list facility --where borrower=91310104972130088N --fields facility_no,level,amount,used,status
	$(DEMO_ENV) $(BIN)/banyan audit verify
	@echo "next: make serve, then open http://127.0.0.1:8000/ui/ and sign in as rm_sh_01 (password banyan-demo-2026)"

serve: $(STAMP)
	$(DEMO_ENV) $(BIN)/banyan serve

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/banyan test configs/   # the business tests in configs/tests: alerts, flows and tiers

# ruff over the whole repository; mypy on dsl/, engine/ (strict) and forms/ (pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy dsl engine forms

bench: $(STAMP)
	@$(BIN)/python -c "import durable, zen" 2>/dev/null || $(BIN)/pip install -q durable-rules==2.0.28 zen-engine==2.1.3   # the alert and tiering benchmarks' baselines only
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b $(BENCH_ARGS) || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache demo.db demo.db-wal demo.db-shm
