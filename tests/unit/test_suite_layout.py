"""The suite's own layout: pytest imports test modules by basename (rootdir-relative
packages are not used), so two test files with the same name in different folders
stop the whole session at collection ("import file mismatch")."""
import collections
import pathlib

TESTS = pathlib.Path(__file__).resolve().parent.parent


def test_no_two_test_modules_share_a_name():
    seen = collections.defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        if "node_modules" not in path.parts:
            seen[path.name].append(str(path.relative_to(TESTS)))
    clashes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not clashes, f"rename one of each: {clashes}"
