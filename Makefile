# PayChat: `make run` starts the whole platform, `make test` runs every test.
.PHONY: run test test-cluster faults stop stack bench fmt lint

run:
	@scripts/run.sh

test:
	@scripts/test.sh

# Two copies of each service behind nginx on a Redis Cluster and a 3-node
# RabbitMQ cluster; a flash sale and payments while a copy of each, a Redis
# master and a RabbitMQ node go away (scripts/cluster.sh; data in .stack/cluster/).
test-cluster:
	@scripts/cluster.sh test

# Stops exactly what run/test started: our processes, nginx, then the infrastructure.
stop:
	@scripts/services.sh down
	@for d in .stack/nginx-*; do [ -f $$d/nginx.pid ] && kill $$(cat $$d/nginx.pid) 2>/dev/null; done; true
	@scripts/stack.sh down

# Only the infrastructure (MariaDB, Redis, RabbitMQ).
stack:
	@scripts/stack.sh up

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

# The benchmarks of the README's Benchmarks section (release builds; they print figures).
bench:
	cargo build --release -p paychat-sandbox-llm -p paychat-orders -p paychat-payment-gateway --bins
	cargo build --release -p paychat-chat-api --bin bench_stream
	./target/release/bench_stream --chunks 200 --chunk-delay-ms 5 --chunk-bytes 21
	./target/release/bench_orders
	./target/release/bench_stats
	./target/release/bench_envelope 3
	./target/release/bench_notify

# The fault matrix (README "Fault matrix"): a mixed load while processes are killed and
# the fault run's own MariaDB, Redis and RabbitMQ (.stack/faults/) restart, then the books.
faults:
	cargo build --workspace --bins
	"$${CARGO_TARGET_DIR:-target}/debug/faults"
