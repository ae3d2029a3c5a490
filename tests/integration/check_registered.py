"""Fail if a test_* function of an integration file is not registered in
meson.build (so no test is silently never run)."""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
registered = set(sys.argv[1:])
missing = []
for f in sorted(os.listdir(here)):
    if f.startswith("test_") and f.endswith(".py"):
        names = subprocess.run([sys.executable, os.path.join(here, f),
                                "--list"], capture_output=True, text=True,
                               check=True).stdout.split()
        missing += ["%s:%s" % (f, n) for n in names
                    if "%s:%s" % (f, n) not in registered]
if missing:
    print("not registered in tests/integration/meson.build "
          "(run tests/integration/register.py):")
    print("\n".join(missing))
    sys.exit(1)
print("all %d integration tests are registered" % len(registered))
