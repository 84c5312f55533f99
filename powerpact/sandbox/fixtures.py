"""Fixtures: the demo's retail store and three partner roasters, or any JSON you load.

A JSON fixture: ``{"shops": [{"domain", "name", "currency", "timezone", "plan",
"locations": ["Main warehouse" or {"name", "address": {"address1", "city", "provinceCode",
"zip", "countryCode", ...}}, ...], "products": [{"title", "vendor", "product_type",
"description", "tags", "options": ["Size", "Grind"], "variants": [{"options": ["250g",
"Whole bean"], "sku", "price", "compare_at", "stock"}]}]}]}``; ``stock`` is a number at the
first location or a list with one per location (``null``: not stocked there).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

from powerpact.sandbox.catalog import handleize
from powerpact.sandbox.core import Sandbox
from powerpact.sandbox.errors import SandboxError

RETAIL = "bubbly-retail.myshopify.com"


class Roaster(TypedDict):
    """A partner store of the fixture: its shop, and what its catalog is made of."""

    domain: str
    name: str
    code: str
    timezone: str
    products: int
    origins: list[str]
    styles: list[str]
    locations: NotRequired[list[str]]


ROASTERS: list[Roaster] = [
    {
        "domain": "north-star-roasters.myshopify.com",
        "name": "North Star Roasters",
        "code": "NSR",
        "timezone": "America/Los_Angeles",
        "products": 24,
        "origins": [
            "Ethiopia Yirgacheffe",
            "Kenya Nyeri",
            "Colombia Huila",
            "Guatemala Antigua",
            "Rwanda Nyamasheke",
            "Peru Cajamarca",
        ],
        "styles": ["Light", "Filter", "Espresso", "Reserve"],
    },
    {
        "domain": "harbor-bean-co.myshopify.com",
        "name": "Harbor Bean Co.",
        "code": "HBC",
        "timezone": "America/New_York",
        "products": 32,
        "origins": [
            "Brazil Cerrado",
            "Sumatra Mandheling",
            "Costa Rica Tarrazu",
            "Honduras Marcala",
            "Mexico Chiapas",
            "Nicaragua Jinotega",
            "El Salvador Santa Ana",
            "Burundi Kayanza",
        ],
        "styles": ["House", "Dark", "Decaf", "Cold Brew"],
        "locations": ["Harbor Bean Co. warehouse", "Harbor Bean Co. Brooklyn store"],
    },
    {
        "domain": "alpine-coffee-works.myshopify.com",
        "name": "Alpine Coffee Works",
        "code": "ACW",
        "timezone": "Europe/Zurich",
        "products": 40,
        "origins": [
            "Tanzania Kilimanjaro",
            "Panama Boquete",
            "Yemen Haraz",
            "India Monsooned Malabar",
            "Papua New Guinea",
            "Bolivia Caranavi",
            "Ecuador Loja",
            "Uganda Bugisu",
            "Java Estate",
            "Hawaii Kona",
        ],
        "styles": ["Alpine", "Summit", "Valley", "Glacier"],
    },
]
SIZES = [("250g", "1.00"), ("500g", "1.85"), ("1kg", "3.40")]
GRINDS = ["Whole bean", "Filter", "Espresso"]
CENT = Decimal("0.01")
NOTES = [
    "chocolate",
    "cherry",
    "caramel",
    "citrus",
    "jasmine",
    "toffee",
    "blackcurrant",
    "hazelnut",
    "stone fruit",
    "brown sugar",
]


def variant_sku(code: str, index: int, size: str, grind: str) -> str:
    return f"{code}-{index + 1:03d}-{size.upper()}-{grind[:2].upper()}"


def second_location_stock(roaster: Roaster) -> Callable[[int], int | list[int | None]]:
    """Stock at a roaster's second location, if it has one: most variants, not all.

    Its own generator, so a second location leaves the rest of the demo's data as it was.
    """
    if len(roaster.get("locations") or []) < 2:
        return lambda first: first
    rng = random.Random(f"{roaster['code']}-second-location")  # noqa: S311 (demo data)
    return lambda first: [first, None if rng.random() < 0.25 else rng.randint(0, 20)]


def roaster_products(roaster: Roaster, base_url: str, rng: random.Random) -> list[dict[str, Any]]:
    products = []
    with_second = second_location_stock(roaster)
    combos = [(o, s) for s in roaster["styles"] for o in roaster["origins"]]
    for index, (origin, style) in enumerate(combos[: roaster["products"]]):
        title = f"{origin} {style}"
        base = Decimal(rng.choice(["11.50", "12.00", "13.50", "14.00", "15.50", "16.00", "18.00"]))
        notes = ", ".join(rng.sample(NOTES, 3))
        variants = []
        grinds = GRINDS if index % 3 else GRINDS[:1]
        for size, factor in SIZES[: 2 + index % 2]:
            price = (base * Decimal(factor)).quantize(CENT)
            for grind in grinds:
                stock = 0 if rng.random() < 0.08 else rng.randint(3, 80)
                variants.append(
                    {
                        "options": [size, grind],
                        "sku": variant_sku(roaster["code"], index, size, grind),
                        "price": str(price),
                        "compare_at": str((price * Decimal("1.15")).quantize(CENT))
                        if index % 7 == 0
                        else None,
                        "stock": with_second(stock),
                    }
                )
        products.append(
            {
                "title": title,
                "vendor": roaster["name"],
                "product_type": "Coffee beans",
                "description": f"<p>{style} roast from {origin}. Notes of {notes}.</p>",
                "tags": [style.lower(), origin.split()[0].lower(), "coffee"],
                "image_url": f"{base_url}/images/{roaster['code'].lower()}/{handleize(title)}.svg",
                "options": ["Size", "Grind"],
                "variants": variants,
                "status": "DRAFT" if index % 17 == 16 else "ACTIVE",
            }
        )
    return products


BUBBLY_WAREHOUSE = {
    "address1": "400 SE Water Ave",
    "city": "Portland",
    "province": "Oregon",
    "provinceCode": "OR",
    "zip": "97214",
    "country": "United States",
    "countryCode": "US",
    "phone": "+15035550100",
}

BUBBLY_SHOP = {
    "address1": "1120 NW Couch St",
    "city": "Portland",
    "province": "Oregon",
    "provinceCode": "OR",
    "zip": "97209",
    "country": "United States",
    "countryCode": "US",
}


def demo(base_url: str) -> dict[str, Any]:
    rng = random.Random(20261122)  # noqa: S311 (repeatable demo data, not security)
    retail_products = [
        {
            "title": "Bubbly Ceramic Mug",
            "vendor": "Bubbly",
            "product_type": "Merchandise",
            "image_url": f"{base_url}/images/bubbly/mug.svg",
            "variants": [
                {"title": "Default Title", "sku": "BUB-MUG", "price": "14.00", "stock": [120, 24]}
            ],
        },
        {
            "title": "Bubbly Pour-over Kit",
            "vendor": "Bubbly",
            "product_type": "Equipment",
            "image_url": f"{base_url}/images/bubbly/kit.svg",
            "variants": [
                {"title": "Default Title", "sku": "BUB-KIT", "price": "39.00", "stock": [40, 6]}
            ],
        },
    ]
    shops = [
        {
            "domain": RETAIL,
            "name": "Bubbly",
            "currency": "USD",
            "timezone": "America/New_York",
            "locations": [
                {"name": "Bubbly warehouse", "address": BUBBLY_WAREHOUSE},
                {"name": "Bubbly shop", "address": BUBBLY_SHOP},
            ],
            "products": retail_products,
        }
    ]
    for roaster in ROASTERS:
        shops.append(
            {
                "domain": roaster["domain"],
                "name": roaster["name"],
                "currency": "USD",
                "timezone": roaster["timezone"],
                "locations": roaster.get("locations") or [],
                "products": roaster_products(roaster, base_url, rng),
            }
        )
    return {"shops": shops}


def load(sandbox: Sandbox, data: dict[str, Any]) -> None:
    """Add the fixture's shops (``locations`` by name; ``stock`` per location, see above)."""
    for shop_data in data.get("shops", []):
        locations = [
            {
                "id": sandbox.store.ids.gid("Location"),
                "isActive": True,
                **({"name": place} if isinstance(place, str) else place),
            }
            for place in shop_data.get("locations") or []
        ]
        shop = sandbox.add_shop(
            shop_data["domain"],
            shop_data.get("name", shop_data["domain"]),
            plan=shop_data.get("plan"),
            currency=shop_data.get("currency", "USD"),
            timezone=shop_data.get("timezone", "UTC"),
            locations=locations,
        )
        for product in shop_data.get("products", []):
            sandbox.add_product(shop, product)


def load_named(sandbox: Sandbox, name: str) -> None:
    if name == "demo":
        load(sandbox, demo(sandbox.config.base_url))
    elif name != "empty":
        raise SandboxError(f"unknown fixture {name!r} (demo or empty)")
