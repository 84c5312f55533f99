"""Who gets which notification: each shop's addresses and the kinds it turned off.

Recipients: a shop's ``NotificationSetting.email`` (one or more addresses, comma-separated)
or, when it set none, its contact email as Shopify gives it (``Shop.contactEmail``, read at
install: https://shopify.dev/docs/api/admin-graphql/latest/objects/Shop#field-contactEmail).
A partner gets ``order_failed`` and ``statement``; the retail store ``admin_digest``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import delete, select

from powerpact.extensions import db
from powerpact.models import (
    NotificationKind,
    NotificationOutbox,
    NotificationSetting,
    PartnerStore,
    RetailStore,
)

PARTNER_KINDS = (NotificationKind.ORDER_FAILED, NotificationKind.STATEMENT)
ADMIN_KINDS = (NotificationKind.ADMIN_DIGEST,)
KIND_LABELS = {
    NotificationKind.ORDER_FAILED: "An order failed for a reason you can fix",
    NotificationKind.STATEMENT: "Your statement of each month, when the month closes",
    NotificationKind.ADMIN_DIGEST: (
        "A digest of what needs attention (at most hourly, only when something is new)"
    ),
}
MAX_ADDRESSES = 5
MAX_EMAIL_FIELD = 1000
# A plain address: something@domain.tld, no spaces, no display name, no second @.
ADDRESS_RE = re.compile(
    r"\A[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\Z"
)


def kinds_for(shop: RetailStore | PartnerStore) -> tuple[NotificationKind, ...]:
    return ADMIN_KINDS if isinstance(shop, RetailStore) else PARTNER_KINDS


def split_addresses(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@dataclass(frozen=True)
class Recipients:
    """A shop's addresses and the kinds it turned off."""

    shop_domain: str
    addresses: tuple[str, ...]
    muted: frozenset[str] = field(default_factory=frozenset)

    def for_kind(self, kind: NotificationKind) -> tuple[str, ...]:
        return () if kind.value in self.muted else self.addresses


def recipients_of(shop_domains: Iterable[str]) -> dict[str, Recipients]:
    """Each shop's recipients, in three queries whatever the number of shops."""
    domains = sorted(set(shop_domains))
    if not domains:
        return {}
    contacts: dict[str, str | None] = {}
    for model in (PartnerStore, RetailStore):
        for domain, email in db.session.execute(
            select(model.shop_domain, model.contact_email).where(model.shop_domain.in_(domains))
        ):
            contacts[domain] = email
    settings = {
        row.shop_domain: row
        for row in db.session.scalars(
            select(NotificationSetting).where(NotificationSetting.shop_domain.in_(domains))
        )
    }
    found = {}
    for domain in domains:
        setting = settings.get(domain)
        chosen = split_addresses(setting.email if setting else None)
        addresses = chosen or split_addresses(contacts.get(domain))
        muted = frozenset(setting.muted or []) if setting else frozenset()
        found[domain] = Recipients(domain, tuple(a.lower() for a in addresses), muted)
    return found


def setting_for(shop_domain: str) -> NotificationSetting | None:
    return db.session.scalar(
        select(NotificationSetting).where(NotificationSetting.shop_domain == shop_domain)
    )


@dataclass(frozen=True)
class PreferencesForm:
    """What the settings page posted, read and checked: the address field as typed, the
    kinds ticked, and an error per field."""

    email: str
    enabled: frozenset[str]
    errors: dict[str, str]


def current_values(shop: RetailStore | PartnerStore) -> PreferencesForm:
    setting = setting_for(shop.shop_domain)
    muted = set(setting.muted or []) if setting else set()
    enabled = frozenset(k.value for k in kinds_for(shop) if k.value not in muted)
    return PreferencesForm((setting.email or "") if setting else "", enabled, {})


def parse(shop: RetailStore | PartnerStore, form: Mapping[str, str | list[str]]) -> PreferencesForm:
    """Read the page's form: ``email`` (empty: the contact email), one ``kind`` per ticked box."""
    raw_email = form.get("email", "")
    email = (raw_email if isinstance(raw_email, str) else ",".join(raw_email)).strip()
    ticked = form.get("kind", [])
    ticked_list = [ticked] if isinstance(ticked, str) else list(ticked)
    allowed = {k.value for k in kinds_for(shop)}
    enabled = frozenset(k for k in ticked_list if k in allowed)
    errors = {}
    if len(email) > MAX_EMAIL_FIELD:
        errors["email"] = f"Keep it under {MAX_EMAIL_FIELD} characters."
    else:
        addresses = split_addresses(email)
        bad = [a for a in addresses if not ADDRESS_RE.match(a)]
        if bad:
            errors["email"] = f"Not an email address: {bad[0][:80]}"
        elif len(addresses) > MAX_ADDRESSES:
            errors["email"] = f"At most {MAX_ADDRESSES} addresses, separated by commas."
    return PreferencesForm(email, enabled, errors)


def apply(shop: RetailStore | PartnerStore, form: PreferencesForm) -> bool:
    """Store the choices; True if anything changed. The caller commits."""
    setting = setting_for(shop.shop_domain)
    email = ", ".join(split_addresses(form.email)) or None
    muted = sorted(k.value for k in kinds_for(shop) if k.value not in form.enabled)
    if setting is None:
        if email is None and not muted:
            return False
        db.session.add(NotificationSetting(shop_domain=shop.shop_domain, email=email, muted=muted))
        return True
    if setting.email == email and sorted(setting.muted or []) == muted:
        return False
    setting.email = email
    setting.muted = muted
    return True


def mute(shop_domain: str, kind: NotificationKind) -> bool:
    """Turn ``kind`` off for the shop (the unsubscribe link); True if it was on."""
    setting = setting_for(shop_domain)
    if setting is None:
        db.session.add(NotificationSetting(shop_domain=shop_domain, email=None, muted=[kind.value]))
        return True
    if kind.value in (setting.muted or []):
        return False
    setting.muted = sorted({*(setting.muted or []), kind.value})
    return True


def forget_shop(shop_domain: str) -> int:
    """Erase what notifications keep of a shop (its choices and addresses, its messages), as
    its ``shop/redact`` asks; the number of rows erased. The caller commits."""
    erased = 0
    for model in (NotificationSetting, NotificationOutbox):
        result = db.session.execute(delete(model).where(model.shop_domain == shop_domain))
        erased += int(getattr(result, "rowcount", 0) or 0)
    return erased
