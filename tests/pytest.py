#!/usr/bin/env python3
"""Runs dmarcsift's Python tests for ctest, one test method per process.

  pytest.py --list FILE      print the ids of the tests in FILE
  pytest.py FILE ID          run one test; exit 0 pass, 1 fail, 77 skipped

One process per test keeps ctest's count honest (one line per test in its
summary) and lets ctest run them in parallel.
"""
import importlib.util
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def load(path):
    path = os.path.join(HERE, path)
    sys.path.insert(0, os.path.join(HERE, "lib"))
    sys.path.insert(0, os.path.dirname(path))
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return unittest.defaultTestLoader.loadTestsFromModule(mod)


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--list":
        for t in flatten(load(sys.argv[2])):
            print(t.id())
        return 0
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    tests = [t for t in flatten(load(sys.argv[1])) if t.id() == sys.argv[2]]
    if not tests:
        print("no test %s in %s" % (sys.argv[2], sys.argv[1]), file=sys.stderr)
        return 2
    result = unittest.TextTestRunner(verbosity=2).run(unittest.TestSuite(tests))
    if not result.wasSuccessful():
        return 1
    if result.skipped and len(result.skipped) == result.testsRun:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
