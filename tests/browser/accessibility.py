"""axe-core on the page Playwright shows: fail on every serious or critical violation.

axe-core's script is the copy inside the ``axe-playwright-python`` wheel; it is injected into
the page and runs there, fetching nothing.

What axe could not decide ("incomplete") fails too when it is serious or critical, except
colour contrast: axe cannot measure text over a modal's backdrop or a toast's shadow, and
calls that incomplete every time. An ``aria-describedby`` naming an id the page does not
hold is such a case: axe leaves it for review, a screen reader reads nothing.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

BLOCKING = ("serious", "critical")
UNDECIDABLE = ("color-contrast",)
WIDTHS = (1280, 390)
HEIGHT = 900
AXE = Axe()


def violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical violations axe finds in the page as it is now, and what it
    left undecided at those impacts (marked ``undecided``), colour contrast aside."""
    results = AXE.run(page, options={"resultTypes": ["violations", "incomplete"]}).response
    found = [v for v in results["violations"] if v["impact"] in BLOCKING]
    found += [
        {**v, "undecided": True}
        for v in results["incomplete"]
        if v["impact"] in BLOCKING and v["id"] not in UNDECIDABLE
    ]
    return found


def report(where: str, found: list[dict[str, Any]]) -> str:
    """One block per rule (its id, impact, help and help URL), then each element it found:
    the element's selector and what axe says would fix it."""
    lines = [f"{where}: {len(found)} serious or critical accessibility violation(s)"]
    for violation in found:
        impact = violation["impact"] + (", undecided by axe" if "undecided" in violation else "")
        lines.append(f"- {violation['id']} ({impact}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}")
            fixes = [line.strip() for line in node.get("failureSummary", "").splitlines()]
            lines.append(f"      {' '.join(fix for fix in fixes if fix)}")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str, widths: tuple[int, ...] = WIDTHS) -> None:
    """axe on the page at each width, in one assertion listing everything found. The page is
    resized, not reloaded, so an open modal, a toast or a form's errors stay as they are."""
    before = page.viewport_size
    failures = []
    try:
        for width in widths:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            found = violations(page)
            if found:
                failures.append(report(f"{where}, {width}px wide", found))
    finally:
        if before:
            page.set_viewport_size(before)
    assert not failures, "\n\n".join(failures)
