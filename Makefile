# The two commands of the README, and their bootstrap. Needs only Python 3.11+, make and bash:
# uv comes from PyPI into .tools/ when it is not installed, and installs everything else
# from uv.lock into .venv/.
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PYTEST_ARGS ?=

.PHONY: demo scenario hedge docs-schema test lint bootstrap bench

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

bootstrap: $(UV)
	$(UV) sync --frozen --quiet

demo: bootstrap
	$(UV) run hedge demo

scenario: bootstrap
	$(UV) run hedge demo --scenario-only

# docs/schema.graphql is the schema the server serves (tests/api/test_schema_doc.py keeps it so)
docs-schema: bootstrap
	$(UV) run hedge schema > docs/schema.graphql

# any hedge command with the project's uv: make hedge ARGS="server --help"
hedge: bootstrap
	$(UV) run hedge $(ARGS)

lint: bootstrap
	$(UV) run ruff check src tests bench
	$(UV) run ruff format --check src tests bench
	$(UV) run mypy

test: lint
	$(UV) run pytest $(PYTEST_ARGS)

bench: bootstrap
	$(UV) run python bench/store.py
	$(UV) run python bench/trail.py
	$(UV) run python bench/api.py
	$(UV) run python bench/hedge_latency.py
	$(UV) run python bench/scale.py
	$(UV) run python bench/console.py
	$(UV) run python bench/priorities.py
	$(UV) run python bench/notify_latency.py
	$(UV) run python bench/control_latency.py
	$(UV) run --group peer python bench/peer_trail.py
