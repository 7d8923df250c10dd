"""Run the Python test suites and write their counts as JSON.

Usage: run_python_tests.py RESULT.json [module-or-path ...]
Without arguments: every addon's tests, then the cross-module tests/.
"""
import json
import os
import pathlib
import sys
import time
import unittest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def addon_suites(loader, addon):
    names = sorted(p.stem for p in (ROOT / 'addons' / addon / 'tests').glob(
            'test_*.py'))
    return [loader.loadTestsFromName(
            f'trytond.modules.{addon}.tests.{n}') for n in names]


def main(result_path, targets):
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    if not targets:
        targets = [p.name for p in sorted((ROOT / 'addons').iterdir())
            if (p / 'tryton.cfg').exists()] + ['tests']
    for target in targets:
        if target == 'tests':
            if not (ROOT / 'tests' / '__init__.py').exists():
                continue
            sys.path.insert(0, str(ROOT))
            suite.addTests(loader.discover(
                    str(ROOT / 'tests'), pattern='test_*.py',
                    top_level_dir=str(ROOT)))
        elif (ROOT / 'addons' / target).is_dir():
            for s in addon_suites(loader, target):
                suite.addTests(s)
        else:
            suite.addTests(loader.loadTestsFromName(target))
    started = time.monotonic()
    result = unittest.TextTestRunner(verbosity=int(
            os.environ.get('TEST_VERBOSITY', 1))).run(suite)
    failed = len(result.failures) + len(result.errors) + len(
        result.unexpectedSuccesses)
    # An error in setUpClass or tearDownClass is a failure but not a test run.
    failed_runs = sum(1 for test, _ in result.failures + result.errors
        if not isinstance(test, unittest.suite._ErrorHolder))
    passed = (result.testsRun - failed_runs
        - len(result.unexpectedSuccesses) - len(result.skipped))
    with open(result_path, 'w') as f:
        json.dump({'runner': 'python', 'passed': passed, 'failed': failed,
                'skipped': len(result.skipped),
                'seconds': round(time.monotonic() - started, 1)}, f)
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2:]))
