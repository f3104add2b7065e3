#!/usr/bin/env python3
"""Run the integration tests: tests/integration/test_*.py, or those whose
file name matches the glob given as the first argument (e.g. 'test_nginx*').

Prints unittest's verbose report, then a last line
    RESULT passed=N failed=M
where errors, skips and unexpected successes count as failures (tests never
skip: a missing prerequisite is a failure). Exit status 1 when M > 0.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class CountingResult(unittest.TextTestResult):
    """Counts each test once: passed, or failed for any other outcome."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = 0
        self.failed = 0
        self._failed_ids = set()

    def _fail(self, test):
        key = test.id()
        if key not in self._failed_ids:
            self._failed_ids.add(key)
            self.failed += 1

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test)

    def addError(self, test, err):
        # Also class and module fixtures (setUpClass/tearDownClass), which
        # unittest reports as errors of a pseudo-test.
        super().addError(test, err)
        self._fail(test)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._fail(test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._fail(test)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._fail(test)


def main(argv):
    pattern = argv[1] if len(argv) > 1 else "test_*.py"
    if not pattern.endswith(".py") and "*" not in pattern:
        pattern += ".py"
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    try:
        suite = loader.discover(HERE, pattern=pattern, top_level_dir=HERE)
    except Exception as e:  # an import error in a test file
        print("cannot load tests: %r" % e)
        print("RESULT passed=0 failed=1")
        return 1
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=CountingResult)
    result = runner.run(suite)
    # unittest calls addSuccess only for a test none of whose subtests
    # failed, so the two counts are disjoint. A broken class teardown (nginx
    # [alert], a sanitizer report) is one more failure of its own.
    passed = result.passed
    failed = result.failed
    if result.testsRun == 0 and failed == 0:
        print("no tests matched %r" % pattern)
        failed = 1
    print("RESULT passed=%d failed=%d" % (passed, failed))
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
