"""The scheduling hint of tests/conftest.py names modules that exist: a renamed module would silently lose its place."""

from pathlib import Path

from tests.conftest import ROOT, SLOWEST_FIRST


def test_the_slowest_modules_listed_first_exist() -> None:
    missing = [module for module in SLOWEST_FIRST if not Path(ROOT, module).is_file()]
    assert not missing, f"tests/conftest.py SLOWEST_FIRST names modules that are gone: {missing}"
