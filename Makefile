# coros: a thin wrapper over `cargo xtask` (see xtask/src/main.rs); every target here
# is one xtask command, so `make` and CI do exactly the same thing.
#
#   make run [SMP=4] [APPEND="log=debug"]   build and boot on this terminal (Ctrl-A X quits)
#   make test [FILTER=demo] [JOBS=2]         host + miri + QEMU + user tests; last line: N passed, M failed
#   make test-linux [FILTER=smoke]           user-level tests on Debian's Linux (the oracle), outputs shown
#   make run-linux [SMP=4] [APPEND=...]      boot Debian's Linux with the test initramfs (a shell)
#   make initramfs                           fetch busybox, build user/, write target/initramfs.cpio
#   make build                               build target/kernel.elf
#   make demo [SMP=4]                        boot the seed demo, output streamed
#   make debug [SMP=4] [APPEND=...]          boot halted for gdb; prints the gdb command
#   make miri                                miri tests only
#   make bench [QUICK=1] [NO_SMP4=1]         coros vs Linux 6.12 (and the executor): table,
#                                            bench/results/<date>-<commit>.json and .svg
#   make prereqs                             check/install Rust targets and Debian packages
#   make clean                               cargo clean

CARGO ?= cargo
XTASK := $(CARGO) xtask
SMP ?= 4
APPEND ?=
JOBS ?= 2
FILTER ?=

.PHONY: all run test build demo debug miri prereqs clean test-linux run-linux initramfs

all: build

run:
	$(XTASK) run --smp $(SMP) --append="$(APPEND)"

test:
	$(XTASK) test --jobs $(JOBS) $(if $(FILTER),--filter "$(FILTER)")

build:
	$(XTASK) build

test-linux:
	$(XTASK) test-linux $(if $(FILTER),--filter "$(FILTER)")

run-linux:
	$(XTASK) run-linux --smp $(SMP) --append="$(APPEND)"

initramfs:
	$(XTASK) initramfs

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

# Benchmarks (only their smoke is part of `make test`): host executor vs
# tokio/async-executor, guest executor, idle CPU, then coros vs Linux 6.12 on the same
# QEMU (icount instructions and TCG wall time; JSON and SVG in bench/results/), then the
# disk benchmark (ext4 on virtio-blk, coros vs Linux, TCG wall time; `cargo xtask bench
# --disk-only` alone). QUICK=1: one repetition, a tenth of the counts (the disk part:
# one repetition of the full workload); NO_SMP4=1: no -smp 4 sweep.
.PHONY: bench
bench:
	$(XTASK) bench $(if $(QUICK),--quick) $(if $(NO_SMP4),--no-smp4)
