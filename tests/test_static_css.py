"""The stylesheets draw with Shopify's own Polaris tokens, vendored with their licence."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "static"
TOKENS = STATIC / "vendor" / "polaris-tokens-9.4.2.css"
LICENCE = STATIC / "vendor" / "polaris-tokens-LICENSE.md"
DEFINES = re.compile(r"(--p-[\w-]+)\s*:")
READS = re.compile(r"var\((--p-[\w-]+)\)")


def test_every_token_a_stylesheet_reads_is_defined():
    """By the tokens or by app.css (every page loads both, the sandbox's sheet after them)."""
    defined = set(DEFINES.findall(TOKENS.read_text()))
    defined |= set(DEFINES.findall((STATIC / "app.css").read_text()))
    for sheet in sorted(STATIC.glob("*.css")):
        own = set(DEFINES.findall(sheet.read_text()))
        missing = sorted(set(READS.findall(sheet.read_text())) - defined - own)
        assert missing == [], f"{sheet.name} reads tokens no stylesheet defines: {missing}"


def test_the_vendored_tokens_are_only_polaris_custom_properties_under_their_licence():
    text = TOKENS.read_text()
    body = re.sub(r"/\*.*?\*/", "", text, flags=re.S).strip()
    assert body.startswith(":root {") and body.endswith("}") and body.count("{") == 1
    declarations = [line.strip() for line in body[len(":root {") : -1].strip().splitlines()]
    assert declarations and all(re.fullmatch(r"--p-[\w-]+: [^;]+;", d) for d in declarations)
    assert "@shopify/polaris-tokens" in text
    licence = LICENCE.read_text()
    assert "Copyright (c) 2017-present Shopify Inc." in licence
    assert "integrate or interoperate with Shopify software or services" in licence


def test_app_css_picks_no_colour_of_its_own():
    """Every colour comes from a Polaris token (no hex, rgb() or named colour literals)."""
    css = re.sub(r"/\*.*?\*/", "", (STATIC / "app.css").read_text(), flags=re.S)
    assert re.findall(r"#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(", css) == []
    assert re.findall(r":\s*(?:white|black|red|green|blue|gray|grey)\b", css) == []


def test_every_page_loads_the_tokens_before_its_stylesheet():
    for template in ("base.html", "embedded/bounce.html"):
        html = (ROOT / "templates" / template).read_text()
        tokens = html.index("vendor/polaris-tokens-9.4.2.css")
        assert tokens < html.index("filename='app.css'"), template
