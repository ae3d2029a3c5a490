"""Rewrite the integration_tests list in meson.build from the test_*
functions of every test_*.py file here. Run after adding a test."""
import glob
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
out = ["integration_tests = {"]
for f in sorted(glob.glob(os.path.join(here, "test_*.py"))):
    names = subprocess.run([sys.executable, f, "--list"], check=True,
                           capture_output=True, text=True).stdout.split()
    out.append("  '%s': [" % os.path.basename(f))
    out += ["    '%s'," % n for n in names]
    out.append("  ],")
out.append("}")
path = os.path.join(here, "meson.build")
with open(path) as fh:
    text = fh.read()
text = re.sub(r"integration_tests = \{.*?\n\}", "\n".join(out), text,
              flags=re.S)
with open(path, "w") as fh:
    fh.write(text)
