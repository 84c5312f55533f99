"""The type checker's house rules: ``make lint`` runs mypy over ``powerpact/``, with mypy's
strict flags for the packages that carry the orders and the money, and no ``type: ignore``
goes without its error code and, on the same line, the reason it is needed."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STRICT_MODULES = (
    "powerpact.orders.*",
    "powerpact.catalog.*",
    "powerpact.inventory.*",
    "powerpact.shopify.*",
    "powerpact.money",
)
# What ``strict = true`` turns on, less the two flags mypy takes only for the whole run
# (warn_redundant_casts, set there, and warn_unused_ignores, set there too).
STRICT_FLAGS = (
    "disallow_any_generics",
    "disallow_subclassing_any",
    "disallow_untyped_calls",
    "disallow_untyped_defs",
    "disallow_incomplete_defs",
    "check_untyped_defs",
    "disallow_untyped_decorators",
    "warn_return_any",
    "no_implicit_reexport",
    "strict_equality",
    "extra_checks",
)
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def mypy_settings() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def test_mypy_checks_the_product_and_reports_needless_ignores():
    settings = mypy_settings()
    assert settings["files"] == ["powerpact"]
    assert settings["warn_unused_ignores"] is True
    assert settings["warn_redundant_casts"] is True
    assert "ignore-without-code" in settings["enable_error_code"]


def test_the_core_packages_are_checked_with_every_strict_flag():
    overrides = mypy_settings()["overrides"]
    for module in STRICT_MODULES:
        flags = {}
        for override in overrides:
            modules = override["module"]
            if module in ([modules] if isinstance(modules, str) else modules):
                flags.update(override)
        missing = [flag for flag in STRICT_FLAGS if flags.get(flag) is not True]
        assert not missing, f"{module} is not checked with {missing}"


def unexplained_ignores(source: str) -> list[str]:
    """The ``type: ignore`` comments of ``source`` without an error code or a reason."""
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        match = IGNORE.search(line)
        if match is None:
            continue
        reason = match["rest"].strip().removeprefix("#").strip()
        if not match["codes"] or not match["rest"].strip().startswith("#") or not reason:
            found.append(f"{number}: {line.strip()}")
    return found


def test_the_rule_reads_codes_and_reasons():
    assert unexplained_ignores("x = f()  # type: ignore") == ["1: x = f()  # type: ignore"]
    assert unexplained_ignores("x = f()  # type: ignore[arg-type]") != []
    assert unexplained_ignores("x = f()  # type: ignore[arg-type]  #") != []
    assert unexplained_ignores("x = f()  # type: ignore[arg-type]  # f's stub is wrong") == []
    assert unexplained_ignores("x = f()  # no ignore here") == []


def test_every_type_ignore_names_its_code_and_why():
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "powerpact").rglob("*.py"))
        if (lines := unexplained_ignores(path.read_text()))
    }
    assert found == {}, "say which error is ignored and why, on the line itself"
