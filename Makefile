# The two commands of the README, the fuzzing smoke run CI adds (docs/FUZZING.md), and the
# Windows build and its tests under Wine (README: "On Windows").
.PHONY: demo test fuzz-smoke windows test-windows
demo:
	scripts/demo.sh
test:
	scripts/test.sh
fuzz-smoke:
	scripts/fuzz.sh smoke 30
# target/x86_64-pc-windows-gnu/release/{hotpatch-cl,hotpatch}.exe, cross-built on Debian.
windows:
	scripts/windows.sh build
# The Windows tests under Wine, clippy for the Windows target, and the Linux/Windows parity.
test-windows:
	scripts/windows.sh test
