"""Partner-exchange benchmarks: the outbox relay and the inbound consumers, each beside raw pika.

Run from the repository root, with PostgreSQL on 127.0.0.1:5432 and RabbitMQ on 127.0.0.1:5672::

    uv run python -m bench.partners.outbound --messages 20000
    uv run python -m bench.partners.inbound --messages 10000 --kind codeco

Figures are printed, never asserted; see bench/README.md.
"""
