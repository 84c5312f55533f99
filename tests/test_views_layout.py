"""Views follow one rule, and ``templates/`` mirrors it (docs/architecture.md, "The rooms").

1. A capability's pages, for both audiences, are in ``powerpact/<package>/views.py``, on one
   blueprint named after the package. The endpoints that are no capability's pages (``EDGE``)
   have a blueprint named for what they hold.
2. No blueprint has a URL prefix: each route spells its whole path, whose first segment says
   who it is for (``/admin`` the retail store's admins, ``/partner`` a partner).
3. A module renders only templates under ``templates/<its package>/`` (a module at the top of
   ``powerpact/``: ``templates/<its name>/``). A template includes only templates of its own
   directory and of ``partials/``, and extends only ``base.html``. Every template is used.
4. Only ``powerpact/templating.py`` registers template globals, filters and context processors.

The proving tools (sandbox, benchmarks, reliability harness, demo) are apart: the sandbox is
its own app, with its own templates.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from flask import Flask

from powerpact import create_app
from tests.conftest import settings_for

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "powerpact"
TEMPLATES = ROOT / "templates"
PROVING_TOOLS = ("sandbox", "bench", "reliability", "demo.py")
EDGE = {
    "powerpact.home": "home",  # "/": sends each shop to its own pages
    "powerpact.health": "health",  # the probes
    "powerpact.devlogin": "devlogin",  # the sandbox-only sign-in
    "powerpact.shopify.webhooks": "webhooks",  # what Shopify posts
    "powerpact.shopify.install_views": "install",  # the OAuth install Shopify redirects to
}
SHARED = ("partials",)
TEMPLATE_TAG = re.compile(r"{%-?\s*(include|extends|import|from)\s+[\"']([^\"']+)[\"']")
REGISTERS_FOR_TEMPLATES = re.compile(
    r"template_global|template_filter|template_test|context_processor|jinja_env"
)


def fresh_app() -> Flask:
    return create_app({"TESTING": True}, settings=settings_for("sqlite://"))


def product_files() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in PROVING_TOOLS
    ]


def template_directory_of(path: Path) -> str:
    """``templates/<this>/`` is where a module's templates live."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


def rendered_templates(path: Path) -> list[str]:
    """The template names a module hands to a call (``render_template("x/y.html")``)."""
    tree = ast.parse(path.read_text(), str(path))
    return [
        arg.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for arg in node.args
        if isinstance(arg, ast.Constant)
        and isinstance(arg.value, str)
        and arg.value.endswith(".html")
    ]


def template_names() -> list[str]:
    return sorted(path.relative_to(TEMPLATES).as_posix() for path in TEMPLATES.rglob("*.html"))


def tags_of(name: str) -> list[tuple[str, str]]:
    return TEMPLATE_TAG.findall((TEMPLATES / name).read_text())


def test_each_view_is_in_its_packages_views_module_on_a_blueprint_named_for_it():
    app = fresh_app()
    misplaced = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        module = inspect.unwrap(app.view_functions[rule.endpoint]).__module__
        package, _, name = module.removeprefix("powerpact.").rpartition(".")
        expected = EDGE.get(module) or (package if name == "views" and package else None)
        if rule.endpoint.partition(".")[0] != expected:
            misplaced.append(f"{rule.rule} is {rule.endpoint}, in {module}")
    assert misplaced == []


def test_no_blueprint_has_a_url_prefix():
    app = fresh_app()
    assert [name for name, bp in app.blueprints.items() if bp.url_prefix] == []


def test_a_module_renders_only_its_own_directorys_templates():
    elsewhere = [
        f"{path.relative_to(ROOT)} renders {name}"
        for path in product_files()
        for name in rendered_templates(path)
        if name.partition("/")[0] != template_directory_of(path)
    ]
    assert elsewhere == []


# The admin's layout, and the one of a page opened outside Shopify's admin (from an email).
LAYOUTS = ("base.html", "standalone.html")


def test_a_template_includes_its_own_directorys_and_the_shared_ones():
    strays = []
    for name in template_names():
        directory = name.partition("/")[0] if "/" in name else None
        for tag, target in tags_of(name):
            allowed = (
                target in LAYOUTS
                if tag == "extends"
                else target.partition("/")[0] in (directory, *SHARED)
            )
            if not allowed:
                strays.append(f"{name}: {tag} {target}")
    assert strays == []


def test_every_template_is_rendered_or_included():
    used = {name for path in product_files() for name in rendered_templates(path)}
    used |= {target for name in template_names() for _, target in tags_of(name)}
    assert [name for name in template_names() if name not in used] == []


def test_only_templating_registers_what_templates_see():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in product_files()
        if path != PACKAGE / "templating.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if REGISTERS_FOR_TEMPLATES.search(line)
    ]
    assert found == []
