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

worker: ## Run background jobs from RabbitMQ (FREIGHT_AMQP_URL; without it `serve` runs them)
	$(UV) run freight worker

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

bench-events: ## Transport event and timeline benchmark on PostgreSQL (prints figures)
	$(UV) run python bench/events.py

bench-positions: ## GNSS positions stored per second via POST /v1/positions on PostgreSQL (about 1 minute)
	$(UV) run python bench/positions.py --duration 5 --rounds 3 --warmup 2

bench-regulator: ## Regulator pages with 5,000 active dangerous-goods waybills vs /health/live on PostgreSQL (3-8 minutes, mostly seeding)
	$(UV) run python bench/regulator_pages.py

bench-dispatch-pages: ## Carriers' dispatch pages and the Plan button (40 tractors, 150 moves) vs /health/live on PostgreSQL (about 2-3 minutes)
	$(UV) run python bench/dispatch_pages.py

bench-dispatch: ## Dispatch benchmarks: Li & Lim instances vs best-known, generated days greedy vs OR-Tools
	$(UV) run python -m bench.dispatch.lilim
	$(UV) run python -m bench.dispatch.days

bench-partners: ## Partner exchange: outbox relay vs raw pika publishing, consumers vs raw pika consuming
	$(UV) run python -m bench.partners.outbound --messages 20000
	$(UV) run python -m bench.partners.inbound --messages 10000 --kind ack
	$(UV) run python -m bench.partners.inbound --messages 10000 --kind positions
	$(UV) run python -m bench.partners.inbound --messages 4000 --kind codeco

revision: ## New migration from the models: make revision m="what changed"
	$(UV) run alembic revision --autogenerate -m "$(m)"

translations: ## Extract messages into locale/messages.pot, update the .po files, compile the .mo files
	$(UV) run pybabel extract -F locale/babel.cfg -k N_ -k _ --no-location --sort-output --project=freight \
		--copyright-holder="freight contributors" -o locale/messages.pot .
	$(UV) run pybabel update -i locale/messages.pot -d locale -D messages --no-fuzzy-matching --ignore-obsolete
	$(UV) run pybabel compile -d locale -D messages --statistics

fonts: ## Cut the vendored Chinese fonts (web/fonts/) from Debian's fonts-noto-cjk (see scripts/subset_fonts.py)
	$(UV) run python scripts/subset_fonts.py

.PHONY: help demo test serve worker migrate lint format typecheck bench bench-events bench-positions bench-regulator bench-dispatch-pages bench-dispatch bench-partners revision translations fonts
