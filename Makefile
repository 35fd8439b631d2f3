# coros: a thin wrapper over `cargo xtask` (see xtask/src/main.rs); every target here
# is one xtask command, so `make` and CI do exactly the same thing.
#
#   make run [SMP=4] [APPEND="log=debug"]   build and boot on this terminal (Ctrl-A X quits)
#   make test [FILTER=demo] [JOBS=2]         host + miri + QEMU tests; last line: N passed, M failed
#   make build                               build target/kernel.elf
#   make demo [SMP=4]                        boot the seed demo, output streamed
#   make debug [SMP=4] [APPEND=...]          boot halted for gdb; prints the gdb command
#   make miri                                miri tests only
#   make prereqs                             check/install Rust targets and Debian packages
#   make clean                               cargo clean

CARGO ?= cargo
XTASK := $(CARGO) xtask
SMP ?= 4
APPEND ?=
JOBS ?= 2
FILTER ?=

.PHONY: all run test build demo debug miri prereqs clean

all: build

run:
	$(XTASK) run --smp $(SMP) --append="$(APPEND)"

test:
	$(XTASK) test --jobs $(JOBS) $(if $(FILTER),--filter "$(FILTER)")

build:
	$(XTASK) build

demo:
	$(XTASK) demo --smp $(SMP)

debug:
	$(XTASK) debug --smp $(SMP) --append="$(APPEND)"

miri:
	$(XTASK) miri

prereqs:
	$(XTASK) prereqs

clean:
	$(CARGO) clean

# Benchmarks (not part of `make test`): host executor vs tokio/async-executor, guest
# instructions per operation under -icount, idle CPU. QUICK=1 for a smoke run.
.PHONY: bench
bench:
	$(XTASK) bench $(if $(QUICK),--quick)
