# The two quick-start commands: `make run` and `make test`.
.PHONY: run test setup clean bench demo

run:
	scripts/run

test:
	scripts/test

setup:
	scripts/setup

bench:
	scripts/bench

clean:
	rm -rf .venv var
