# Fuzz targets (filled in by the fuzzing work).
.PHONY: fuzz-build-libfuzzer
fuzz-build-libfuzzer:
	@true
