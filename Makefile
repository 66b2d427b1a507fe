.DEFAULT_GOAL := help
UV ?= uv

help: ## List the common commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

demo: ## Run the platform with demo data on SQLite (./freight.db), serving on :8000
	bash scripts/demo.sh

test: ## Set up everything and run lint, type checks and the whole test suite
	bash scripts/test.sh

serve: ## Serve the API (FREIGHT_DATABASE_URL, default ./freight.db)
	$(UV) run freight serve

migrate: ## Apply the database migrations
	$(UV) run freight db upgrade

lint: ## ruff check and format check
	$(UV) run ruff check . && $(UV) run ruff format --check .

format: ## Format the code
	$(UV) run ruff format . && $(UV) run ruff check --fix .

typecheck: ## mypy
	$(UV) run mypy

bench: ## Waybill issuing benchmark on PostgreSQL (prints figures)
	$(UV) run python bench/waybills.py

revision: ## New migration from the models: make revision m="what changed"
	$(UV) run alembic revision --autogenerate -m "$(m)"

.PHONY: help demo test serve migrate lint format typecheck bench revision
