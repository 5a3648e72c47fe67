# parley: a thin layer over scripts/ and meson. The README's two commands
# are `make up` and `make test`; the rest are here for developers.
.PHONY: up test deps build build-san check-format format fuzz bench-login clean

up:
	@scripts/up.sh

test:
	@scripts/test.sh

deps:
	@scripts/deps.sh

build: deps
	@scripts/build.sh build

build-san: deps
	@scripts/build.sh build-san

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

# Runs every libFuzzer target for FUZZ_SECONDS (default 60) each (clang).
fuzz: deps
	@scripts/fuzz.sh $${FUZZ_SECONDS:-60}

bench-login: build
	@/usr/bin/python3 bench/login_bench.py

clean:
	rm -rf build build-san build-fuzz
