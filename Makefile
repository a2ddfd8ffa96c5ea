# The two commands of the README, and the fuzzing smoke run CI adds (docs/FUZZING.md).
.PHONY: demo test fuzz-smoke
demo:
	scripts/demo.sh
test:
	scripts/test.sh
fuzz-smoke:
	scripts/fuzz.sh smoke 30
