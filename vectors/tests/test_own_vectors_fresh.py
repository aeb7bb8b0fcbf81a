#!/usr/bin/env python3
"""vectors/own/ is generated: fails when the committed files are not what
vectors/gen_own.py writes (someone edited one by hand, or changed the
generator without running it). Run by `make test` (scripts/test.sh)."""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
gen = os.path.join(here, "..", "gen_own.py")
sys.exit(subprocess.call([sys.executable, gen, "--check"]))
