"""Identifiers in a support text, and whether two texts agree on them.

Two tickets about "E-2201 for Visa cards" and "E-2202 with PayPal" read almost alike, and a model
puts them close together; to an agent they are different problems. So identifiers decide, beside
the model: error codes, HTTP statuses, ticket, invoice and order numbers, versions, and the names
of the vendors, platforms and plans a problem is about. Present in both texts and different: not
the same problem. In the query only: the candidate does not confirm it, so it cannot be "very
likely the same problem" either. Pure text logic, no model: it works the same for every embedder.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable

# kind -> {canonical name: spellings}. Matched on word boundaries, case-insensitively.
NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "identity provider": {"Okta": ("okta",), "Azure AD": ("azure ad", "azure active directory", "entra id",
                                                          "microsoft entra"),
                          "Google Workspace": ("google workspace", "g suite", "gsuite"), "OneLogin": ("onelogin",),
                          "Ping Identity": ("ping identity", "pingfederate", "pingone"), "JumpCloud": ("jumpcloud",),
                          "Auth0": ("auth0",), "Keycloak": ("keycloak",), "ADFS": ("adfs",)},
    "authenticator app": {"Google Authenticator": ("google authenticator",),
                          "Microsoft Authenticator": ("microsoft authenticator",), "Authy": ("authy",),
                          "1Password": ("1password",), "Duo": ("duo mobile", "duo security")},
    "payment method": {"Visa": ("visa",), "Mastercard": ("mastercard", "master card"),
                       "American Express": ("american express", "amex"), "Discover": ("discover card",),
                       "PayPal": ("paypal",), "SEPA": ("sepa",), "ACH": ("ach",), "iDEAL": ("iDEAL",),
                       "Klarna": ("klarna",), "Apple Pay": ("apple pay",), "Google Pay": ("google pay",),
                       "bank transfer": ("bank transfer", "wire transfer"), "direct debit": ("direct debit",)},
    "platform": {"iOS": ("ios", "iphone", "ipad", "ipados"), "Android": ("android", "Pixel", "Galaxy"),
                 "Windows": ("Windows",), "macOS": ("macos", "mac os", "os x", "macbook"), "Linux": ("linux",),
                 "ChromeOS": ("chromeos", "chromebook")},
    "chat tool": {"Slack": ("slack",), "Microsoft Teams": ("microsoft teams", "ms teams"),
                  "Google Chat": ("google chat",), "Discord": ("discord",), "Mattermost": ("mattermost",),
                  "Webex": ("webex",), "Zoom": ("Zoom",)},
    "integration": {"Salesforce": ("salesforce",), "HubSpot": ("hubspot",), "Pipedrive": ("pipedrive",),
                    "Zoho": ("zoho",), "Dynamics 365": ("dynamics 365", "dynamics crm"), "Jira": ("jira",),
                    "Asana": ("asana",), "Trello": ("trello",), "Monday.com": ("monday.com",), "ClickUp": ("clickup",),
                    "GitHub": ("github",), "GitLab": ("gitlab",), "Bitbucket": ("bitbucket",),
                    "Azure DevOps": ("azure devops",), "Zapier": ("zapier",), "n8n": ("n8n",),
                    "Power Automate": ("power automate",), "IFTTT": ("ifttt",), "QuickBooks": ("quickbooks",),
                    "Xero": ("xero",), "NetSuite": ("netsuite",), "Shopify": ("shopify",),
                    "WooCommerce": ("woocommerce",), "Stripe": ("stripe",)},
    "file storage": {"Google Drive": ("google drive",), "Dropbox": ("dropbox",), "OneDrive": ("onedrive",),
                     "SharePoint": ("sharepoint",)},
    "calendar": {"Google Calendar": ("google calendar",), "Outlook calendar": ("outlook calendar",),
                 "iCloud Calendar": ("icloud calendar",)},
    "email provider": {"Gmail": ("gmail",), "Outlook": ("Outlook", "office 365", "microsoft 365", "exchange online"),
                       "Yahoo Mail": ("yahoo",), "iCloud Mail": ("icloud mail",), "Proton Mail": ("protonmail",
                                                                                                    "proton mail")},
    "carrier": {"UPS": ("UPS",), "FedEx": ("fedex",), "DHL": ("dhl",), "USPS": ("usps",), "DPD": ("DPD",),
                "GLS": ("GLS",), "Royal Mail": ("royal mail",), "PostNL": ("postnl",), "Canada Post": ("canada post",)},
}
# Spellings matched with their case, because in lower case they are ordinary words ("ups and downs").
CASE_SENSITIVE = frozenset({"UPS", "ACH", "ADFS", "DPD", "GLS", "Zoom", "iDEAL", "Pixel", "Galaxy", "Windows", "Outlook"})
PLANS = ("Free", "Starter", "Basic", "Team", "Pro", "Professional", "Business", "Premium", "Enterprise", "Growth")
# plan names that are ordinary words elsewhere count only next to "plan", "tier", "edition", ...;
# these are plans wherever they are capitalized
_PLAN_WORDS = ("Professional", "Premium", "Enterprise", "Starter")
_PLAN = re.compile(r"\b(%s)\s+(?:plan|tier|edition|subscription|license|licence)s?\b" % "|".join(PLANS), re.I)
_PLAN_CAPITALIZED = re.compile(r"(?<![.!?]\s)(?<!^)\b(%s)\b" % "|".join(_PLAN_WORDS))
# "from Enterprise to Team": a capitalized plan name right after from/to (not "to Team Lead")
_PLAN_MOVE = re.compile(r"\b(?:[Tt]o|[Ff]rom)\s+(?:the\s+)?(%s)\b(?!\s+[A-Z])" % "|".join(PLANS))

_MESSAGE = re.compile(r"[\"“”]([A-Za-z][^\"“”\n]{3,80}?)[\"“”]")  # a quoted error message
# Codes and numbers. Order matters only for what a span is called: a span is taken once.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("invoice", re.compile(r"\bINV[-_ ]?(\d[\d-]*\d|\d)\b", re.I)),
    ("invoice", re.compile(r"\binvoices?\s+(?:number|no\.?|#)\s*:?\s*#?\s*([A-Z0-9][A-Z0-9-]*\d[A-Z0-9-]*)", re.I)),
    ("order", re.compile(r"\bORD[-_ ]?(\d[\d-]*\d|\d)\b", re.I)),
    ("order", re.compile(r"\border\s*(?:number|no\.?|#)\s*:?\s*#?\s*([A-Z0-9][A-Z0-9-]*\d[A-Z0-9-]*)", re.I)),
    ("ticket", re.compile(r"\b(?:ticket|case|request)\s*(?:number|no\.?|id)?\s*#?\s*(\d{3,})\b", re.I)),
    ("ticket", re.compile(r"(?<![\w&])#(\d{3,})\b")),
    ("HTTP status", re.compile(r"\b(?:HTTP|status|status code|response code|error code|error)\s*[:=]?\s*([1-5]\d\d)\b"
                               r"(?![.,]?\d)", re.I)),
    ("HTTP status", re.compile(r"\b([45]\d\d)\s+(?:Bad Request|Unauthorized|Forbidden|Not Found|Gone|Conflict|Too Many"
                               r"|Internal Server|Bad Gateway|Service Unavailable|Gateway Time-?out|Payload Too Large"
                               r"|errors?|responses?)\b", re.I)),
    ("HTTP status", re.compile(r"\bstatus=([1-5]\d\d)\b")),
    ("HTTP status", re.compile(r"\b(?:fails?|failed|failing|returns?|returned|returning|responds?|responded|gets?|got"
                               r"|getting|throws?|shows?|showing|showed|with)\s+(?:an?\s+)?(?:HTTP\s+)?([45]\d\d)\b(?![.,]?\d)"
                               r"(?!\s*(?:[a-z]+s|%|x|ms|kb|mb|gb)\b)", re.I)),
    ("error code", re.compile(r"\b(0x[0-9A-Fa-f]{4,})\b")),
    ("error code", re.compile(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b")),
    ("error code", re.compile(r"\b([A-Z]{1,6}-\d{2,6}[A-Z]?|[A-Z]{1,6}\d{3,6}[A-Z]?)\b")),
    ("error code", re.compile(r"\b(?:error|err|code)\s*(?:code|number|no\.?)?\s*[:#]?\s*(\d{3,6})\b(?![.,]\d)", re.I)),
    ("amount", re.compile(r"(?<![\w.])((?:[$€£]|USD|EUR|GBP)\s?\d[\d,]*(?:\.\d{1,2})?(?![\d,.]*\d)"
                          r"|\d[\d,]*(?:\.\d{1,2})?\s?(?:USD|EUR|GBP|€)(?!\w))")),
    ("endpoint", re.compile(r"(?<![\w/])(/(?:api|v\d)[\w./{}:-]*[\w}])")),
    ("error message", _MESSAGE),
    ("version", re.compile(r"\b(?:version|ver\.?|release|build|app|v)\s*(\d+(?:\.\d+){1,3})\b(?!\.\d)", re.I)),
    ("version", re.compile(r"(?<![\d.,])(\d+\.\d+\.\d+)(?!\.?\d)")),
)
_OS_BEFORE = re.compile(r"(iOS|iPadOS|Android|Windows|macOS)\s*$", re.I)
# look-alikes of codes that are not identifiers: standards, time zones, sizes
_NOT_CODES = re.compile(r"^(?:ISO|UTC|GMT|SHA|MD|TLS|SSL|HTTP|COVID|FY|MP|GB|MB|KB|TB|GHZ|H26|WIN)")


@dataclass(frozen=True)
class Identifier:
    kind: str  # "error code", "invoice", "version", "payment method", ...
    value: str  # normalized for comparison
    text: str  # as the reason shows it

    def __str__(self) -> str:
        return self.text


@functools.lru_cache(maxsize=4096)
def extract(text: str) -> tuple[Identifier, ...]:
    """Every identifier in `text`, once per (kind, value), in order of appearance. Cached: a form or a
    `--batch` process judges the same organization's tickets lookup after lookup (the result is immutable)."""
    found: list[tuple[int, Identifier]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            span = match.span(1)
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            identifier = _code(kind, match.group(1), match.group(0), text[:span[0]])
            if identifier is not None:
                taken.append(span)
                found.append((span[0], identifier))
    found += _names(text)
    out: dict[tuple[str, str], Identifier] = {}
    for _, identifier in sorted(found, key=lambda item: item[0]):
        out.setdefault((identifier.kind, identifier.value), identifier)
    return tuple(out.values())


def of_ticket(subject: str, description: str) -> tuple[Identifier, ...]:
    """A ticket's identifiers: of a kind its subject names, the subject's only (the subject says what
    the ticket is about: "Desktop app 6.2.0 won't start" is not about the 6.1.4 that "worked fine"
    in its description); of the other kinds, the description's."""
    headline = extract(subject)
    kinds = {i.kind for i in headline}
    return headline + tuple(i for i in extract(description) if i.kind not in kinds)


def extract_messages(text: str) -> tuple[Identifier, ...]:
    """The error messages quoted in `text`."""
    return tuple(i for i in (_code("error message", m.group(1), m.group(0), "") for m in _MESSAGE.finditer(text))
                 if i is not None)


def messages_in(text: str, others: Iterable[Identifier]) -> tuple[Identifier, ...]:
    """The error messages quoted in other texts (`others`: their identifiers) that `text` contains
    without quotes: a case typed as "SSO fails with NameID missing in SAML assertion" names the
    message a ticket quotes, and so differs from a ticket quoting "Signature validation failed"."""
    flat = " ".join(text.lower().split())
    return tuple({i.value: i for i in others if i.kind == "error message" and i.value in flat}.values())


def _code(kind: str, raw: str, whole: str, before: str) -> Identifier | None:
    """`raw`: the identifying part of the match (`whole`); `before`: the text before it."""
    return _MAKERS.get(kind, _plain_code)(kind, raw, whole, before)


def _plain_code(kind: str, raw: str, whole: str, before: str) -> Identifier | None:
    if kind == "error code" and (_NOT_CODES.match(raw.upper()) or not re.search(r"\d|_", raw)):
        return None
    return Identifier(kind, re.sub(r"[-_\s#]", "", raw.upper()), raw)


def _version(kind: str, raw: str, whole: str, before: str) -> Identifier:
    os_name = _OS_BEFORE.search(before)
    return Identifier(f"{_canonical_os(os_name.group(1))} version" if os_name else kind, raw.lower().lstrip("v"), raw)


def _document_number(kind: str, raw: str, whole: str, before: str) -> Identifier:
    """INV-2024-0193 and "invoice number 2024-0193" are the same invoice."""
    value = re.sub(r"[-_\s#]", "", raw.upper())
    prefixed = re.match(r"(?:INV|ORD)[-_ ]?\d", whole, re.I)
    return Identifier(kind, value, whole.strip() if prefixed else f"#{raw}")


def _ticket(kind: str, raw: str, whole: str, before: str) -> Identifier:
    return Identifier(kind, raw, f"#{raw}")


def _amount(kind: str, raw: str, whole: str, before: str) -> Identifier | None:
    number = re.sub(r"[^\d.]", "", raw.replace(",", ""))
    return Identifier(kind, f"{float(number):.2f}", raw.strip()) if number.count(".") <= 1 else None


def _words(kind: str, raw: str, whole: str, before: str) -> Identifier | None:
    """An endpoint, or a quoted error message (one quoted word is emphasis, not a message)."""
    words = raw.strip().rstrip(".").lower()
    if kind == "error message" and len(words.split()) < 2:
        return None
    return Identifier(kind, words, f'"{raw.strip()}"' if kind == "error message" else raw)


_MAKERS = {"version": _version, "invoice": _document_number, "order": _document_number, "ticket": _ticket,
           "amount": _amount, "endpoint": _words, "error message": _words}


def _canonical_os(name: str) -> str:
    return {"ios": "iOS", "ipados": "iOS", "android": "Android", "windows": "Windows", "macos": "macOS"}[name.lower()]


def _names(text: str) -> list[tuple[int, Identifier]]:
    found = []
    for match in _ANY_NAME.finditer(text):
        spelled = re.sub(r"[\s-]+", " ", match.group(0).lower())
        kind, canonical = _SPELLINGS.get(spelled) or _SPELLINGS[spelled[:-1]]  # the pattern allows a plural "s"
        found.append((match.start(), Identifier(kind, canonical.lower(), canonical)))
    for pattern in (_PLAN, _PLAN_CAPITALIZED, _PLAN_MOVE):
        for match in pattern.finditer(text):
            plan = match.group(1).capitalize()
            found.append((match.start(), Identifier("plan", plan.lower(), f"{plan} plan")))
    return found


# every spelling of every name in one pattern (one pass over a text), longest first so that "Outlook
# calendar" wins over "Outlook"; spelling (lower case) -> (kind, canonical name)
_SPELLINGS = {spelling.lower(): (kind, canonical)
              for kind, names in NAMES.items() for canonical, spellings in names.items() for spelling in spellings}
_ANY_NAME = re.compile(r"(?<![\w@.-])(?:%s)s?(?![\w-])" % "|".join(
    (escaped if spelling in CASE_SENSITIVE else f"(?i:{escaped})")
    for spelling in sorted({s for names in NAMES.values() for spellings in names.values() for s in spellings},
                           key=len, reverse=True)
    for escaped in [re.escape(spelling).replace(r"\ ", r"[\s-]+")]))


@dataclass(frozen=True)
class Agreement:
    """How a candidate's identifiers compare with the query's, kind by kind."""
    same: tuple[Identifier, ...] = ()  # in both texts (the query's spelling)
    different: tuple[tuple[Identifier, tuple[Identifier, ...]], ...] = ()  # query's, and the candidate's instead
    missing: tuple[Identifier, ...] = ()  # in the query; the candidate has none of that kind

    @property
    def conflict(self) -> bool:
        return bool(self.different)

    @property
    def unconfirmed(self) -> bool:
        return bool(self.missing)


def compare(query: Iterable[Identifier], candidate: Iterable[Identifier], candidate_text: str = "") -> Agreement:
    """Kind by kind. The same when one side's values are all among the other's (a version matches
    its own prefix, 5.1 and 5.1.3; a quoted error message also matches the candidate's plain text):
    "E-2201" agrees with a ticket about E-2201 and E-2202, "from Enterprise to Team" does not agree
    with "from Enterprise to Professional". Different otherwise. A kind only the query has is missing
    from the candidate; a kind only the candidate has says nothing."""
    ours = _by_kind(query)
    theirs = _by_kind([*candidate, *(m for m in ours.get("error message", []) if m.value in candidate_text.lower())])
    same, different, missing = [], [], []
    for kind, mine in ours.items():
        other = theirs.get(kind)
        if not other:
            missing += mine
        elif _within(mine, other) or _within(other, mine):
            same += _shared(mine, other)
        else:
            different.append((mine[0], tuple(o for o in other if not _shared([o], mine))))
    return Agreement(tuple(same), tuple(different), tuple(missing))


def _shared(these: list[Identifier], those: list[Identifier]) -> list[Identifier]:
    """Those of `these` that `those` have too."""
    return [a for a in these if any(_same_value(a, b) for b in those)]


def _by_kind(identifiers: Iterable[Identifier]) -> dict[str, list[Identifier]]:
    out: dict[str, list[Identifier]] = {}
    for identifier in identifiers:
        out.setdefault(identifier.kind, []).append(identifier)
    return out


def _within(these: list[Identifier], those: list[Identifier]) -> bool:
    return len(_shared(these, those)) == len(these)


def _same_value(a: Identifier, b: Identifier) -> bool:
    if a.value == b.value:
        return True
    if a.kind.endswith("version"):
        x, y = a.value.split("."), b.value.split(".")
        shorter = min(len(x), len(y))
        return shorter >= 2 and x[:shorter] == y[:shorter]
    return False
