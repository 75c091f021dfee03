"""Deterministic, realistic Zendesk Support sample data (tickets + help-center articles).

Yields Airbyte protocol messages (``RECORD`` / ``STATE`` dicts) shaped like what the
``airbyte-source-zendesk-support`` connector emits for its ``tickets`` and ``articles``
streams, so the destination can be exercised end to end without a Zendesk account.

* stdlib only, no network; the only randomness is a seeded ``random.Random`` that is
  re-seeded per record (``(seed, kind, index)``), so a record's content does not depend
  on how many records come before it, and the same arguments give byte-identical output;
* streaming, O(1) memory, any size (200,000 tickets is fine);
* ``mode="update-metadata"`` / ``"update-paragraph"`` re-emit the same ids with a later
  ``updated_at`` so incremental / dedup behaviour of the destination can be tested;
* :func:`build_eval_queries` builds the evaluation set of the support form (duplicate
  tickets, helpful articles, novel problems) from the same templates.

Custom field values: the Zendesk API returns checkbox fields as booleans, numeric fields as
numbers and multiselect fields as lists, but the source connector's schema declares
``custom_fields[].value`` (and ``fields[].value``) as ``["null", "string"]`` and its manifest
applies ``schema_normalization: Default``, so the CDK ``TypeTransformer`` turns them into
``str(value)`` (``True`` -> ``"True"``, ``12`` -> ``"12"``, ``["a"]`` -> ``"['a']"``).
By default this module emits exactly that (schema-valid) output; ``raw_types=True`` emits the
API-native mixed types instead (what a source without normalization would send).

CLI::

    python -m test_support.zendesk_sample --tickets 300 --articles 40 \\
        --seed 7 --mode initial > out.jsonl
    python -m test_support.zendesk_sample --catalog > catalog.json
    python -m test_support.zendesk_sample --eval-queries > eval_queries.json
"""

from __future__ import annotations

import argparse
import functools
import html
import json
import random
import re
import sys
import time
import unicodedata
from bisect import bisect_right
from pathlib import Path
from typing import Any, Iterator

__all__ = [
    "MODES",
    "TOPICS",
    "TOPIC_KEYS",
    "SUBDOMAIN_URL",
    "generate_messages",
    "configured_catalog",
    "build_eval_queries",
    "build_exact_term_queries",
    "dumps",
    "ticket_topic",
    "article_topic",
    "article_is_long",
    "article_ids_by_topic",
    "main",
]

MODES = ("initial", "update-metadata", "update-paragraph")

SUBDOMAIN_URL = "https://example.zendesk.com"
VENDOR = "Lumen"
VENDOR_DOMAIN = "lumenhq.example"
SUPPORT_ADDRESS = "support@example.zendesk.com"

# Tickets are created over one year ending one week before the initial sync.
_DAY = 86400
_TICKETS_START = 1704067200  # 2024-01-01T00:00:00Z
_TICKETS_SPAN = 358 * _DAY
_SYNC_TIME = {  # sync start, epoch seconds
    "initial": 1735689600,  # 2025-01-01T00:00:00Z
    "update-metadata": 1736294400,  # 2025-01-08
    "update-paragraph": 1736899200,  # 2025-01-15
}
_ARTICLES_START = 1640995200  # 2022-01-01T00:00:00Z
_ARTICLES_SPAN = 2 * 365 * _DAY

# per-record RNG streams
_K_TICKET, _K_ARTICLE, _K_EVAL = 1, 3, 5
_K_TICKET_UPD = {"update-metadata": 2, "update-paragraph": 6}
_K_ARTICLE_UPD = {"update-metadata": 4, "update-paragraph": 7}

TICKET_ID_BASE = 1001
ARTICLE_ID_BASE = 4400000001000
ARTICLE_ID_STEP = 1000
ORG_ID_BASE = 360000100000
USER_ID_BASE = 1100000000000
AGENT_ID_BASE = 1900000000000
BRAND_ID = 360000012345
TICKET_FORM_ID = 360000054321
AUTHOR_IDS = (1900000000003, 1900000000007, 1900000000011, 1900000000015)

_DATA = Path(__file__).with_name("zendesk_sample_data")


def _load(name: str) -> Any:
    """The generator's prose lives in JSON next to it: data, not code (and out of the package)."""
    return json.loads((_DATA / name).read_text("utf-8"))


# ---------------------------------------------------------------------------------------
# Content (zendesk_sample_data/topics.json): one object per support topic.
#   slots      ticket slot values; a value is "text" or ["canonical", "alternative wording"].
#              In templates {x} is the canonical form, {x2} the alternative (used by the
#              paraphrases), {X}/{X2} the same capitalised, {qx} the canonical in quotes.
#   problems   [subjects, description sentence, paraphrases]: each paraphrase re-words the
#              same facts as its description sentence, for the duplicate evaluation set.
#   details / tried   extra context sentences for descriptions.
#   questions  how-to questions a customer may type into the support form.
#   facts / steps / causes / faq / terms   help-center article material.
#   articles   [title, kind] with kind in guide (long) | howto | troubleshoot | faq.
# Common slots available in every template: when, num, inv, amount, order, version,
# records, seats, seats_real, month, deadline, plan_from, plan_to.
# ---------------------------------------------------------------------------------------

TOPICS: list[dict[str, Any]] = _load("topics.json")

TOPIC_KEYS = [t["key"] for t in TOPICS]
_TOPIC_BY_KEY = {t["key"]: t for t in TOPICS}

# Common slots, usable in every ticket template.
_COMMON_SLOTS: dict[str, list] = {
    "when": [
        ("since this morning", "as of this morning"),
        ("since yesterday afternoon", "starting yesterday afternoon"),
        ("since Monday", "from Monday onwards"),
        ("after your latest release", "ever since your last update went out"),
        ("for two days now", "for about 48 hours"),
        ("since last week", "since some time last week"),
    ],
    "num": [("3", "three"), ("5", "five"), ("12", "a dozen"), ("25", "about 25"), ("40", "forty or so"),
            ("150", "around 150")],
    "month": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"],
    "deadline": [("the end of the month", "month end"), ("Friday", "this Friday"),
                 ("our audit next week", "next week's audit")],
}
_PLAN_PAIRS = [("Enterprise", "Professional"), ("Professional", "Team"), ("Enterprise", "Team")]

# ---------------------------------------------------------------------------------------
# Organizations, people
# ---------------------------------------------------------------------------------------

_ORGS = [
    # name, domain, plan, excluded topics (never filed by this org: basis of the "novel" queries)
    ("Northwind Traders", "northwind.example", "professional",
     {"salesforce_integration", "webhooks", "gdpr_deletion", "api_rate_limits"}),
    ("Initech Software", "initech.example", "enterprise", {"shipping_orders", "mobile_crash", "refunds"}),
    ("Globex Health", "globex-health.example", "enterprise", {"shipping_orders", "slack_integration", "api_rate_limits"}),
    ("Acme Logistics", "acme-logistics.example", "team", {"salesforce_integration", "gdpr_deletion", "two_factor"}),
    ("Umbrella Retail GmbH", "umbrella-retail.example", "professional", {"webhooks", "mobile_crash", "data_export"}),
    ("Stark Manufacturing", "stark-mfg.example", "enterprise",
     {"slack_integration", "email_notifications", "performance"}),
    ("Wayne Financial", "wayne-financial.example", "enterprise", {"shipping_orders", "mobile_crash", "refunds",
                                                                  "slack_integration"}),
    ("Hooli Media", "hooli.example", "team", {"salesforce_integration", "shipping_orders", "permissions_roles"}),
]
_ORG_FOCUS = [  # topics filed more often by each base org
    {"shipping_orders", "billing_invoices", "password_reset", "mobile_crash"},
    {"api_rate_limits", "webhooks", "sso", "data_export"},
    {"gdpr_deletion", "two_factor", "permissions_roles", "sso"},
    {"shipping_orders", "mobile_crash", "performance", "email_notifications"},
    {"gdpr_deletion", "billing_invoices", "refunds", "password_reset"},
    {"salesforce_integration", "permissions_roles", "sso", "data_export"},
    {"two_factor", "sso", "gdpr_deletion", "billing_invoices"},
    {"slack_integration", "performance", "email_notifications", "refunds"},
]

_FIRST = ["Maria", "James", "Aiko", "José", "Priya", "Lukas", "Zoë", "Chen", "Fatima", "Oliver", "Sofia", "Mateo",
          "Ingrid", "Kwame", "Elena", "Noah", "Yuki", "Amara", "Søren", "Isabelle", "Rahul", "Hannah", "Diego",
          "Łukasz", "Grace", "Tomás", "Leila", "Ben", "Anika", "François"]
_LAST = ["Schmidt", "O'Brien", "Tanaka", "García", "Patel", "Müller", "Nguyen", "Kowalski", "Johnson", "Rossi",
         "Andersen", "Okafor", "Dubois", "Silva", "Kim", "Larsen", "Haddad", "Smith", "Fernández", "Novak",
         "Yamamoto", "Brown", "Ivanova", "Costa", "Murphy", "Lindqvist", "Mensah", "Wright", "Sato", "Weber"]
_JOBS = ["IT Manager", "Operations Lead", "Finance Director", "Office Manager", "Head of Customer Success",
         "Systems Administrator", "Project Coordinator", "CTO", "Procurement Specialist", "Team Lead"]
_AGENTS = 20
_REQUESTERS_PER_ORG = 30

_GROUPS = {  # group name -> id
    "accounts": 360000200001,
    "billing": 360000200002,
    "technical": 360000200003,
    "integrations": 360000200004,
    "logistics": 360000200005,
}
_SECTIONS = {  # topic group -> help center section id
    "accounts": 360000300001,
    "billing": 360000300002,
    "technical": 360000300003,
    "integrations": 360000300004,
    "logistics": 360000300005,
}
_CUSTOM_STATUS = {"new": 360000400001, "open": 360000400002, "pending": 360000400003, "hold": 360000400004,
                  "solved": 360000400005, "closed": 360000400006}

# custom field ids
CF_PRODUCT_AREA = 360001000001
CF_PLAN = 360001000002
CF_AFFECTED_USERS = 360001000003
CF_BLOCKING = 360001000004
CF_ORDER_NUMBER = 360001000005
CF_BROWSER = 360001000006
CF_SENTIMENT = 360001000007
CF_ENVIRONMENTS = 360001000008

_GREETINGS = ["Hi,", "Hello,", "Hi there,", "Hello support team,", "Hi Lumen team,", "Good morning,", "Hey,",
              "Dear support,"]
_SIGNOFFS = ["Thanks,\n{first}", "Best regards,\n{first} {last}\n{org}", "Thank you!\n{first}", "Cheers,\n{first}",
             "Regards,\n{first} {last}", "Thanks in advance\n\n--\n{first} {last} | {job} | {org}",
             "Kind regards,\n{first} {last}\n{job}\n{org}", "{first}\n\nSent from my iPhone"]
_IMPACTS = ["This is blocking {num} people on our side.", "Not super urgent but it's slowing us down.",
            "We have a client demo on Thursday so we'd really appreciate a quick fix.", "About {num} users are affected.",
            "It's a big problem for us right now.", "Only affects me as far as I know."]
_IMPACTS_OTHER = ["Our finance team is waiting on this.", "We'd appreciate a quick answer.",
                  "This needs to be sorted out before the end of the month.", "Not urgent, but please confirm."]
_ASKS = ["Can you please look into this?", "Please advise.", "Any idea what's going on?",
         "Could someone get back to me asap?", "Let me know if you need more info.", "What do we need to do to fix this?"]
_GENERIC_TRIED = ["We already tried logging out and back in.", "I cleared the browser cache, same result.",
                  "Tried on a different computer as well."]
_DUP_PREFIXES = ["", "", "", "", "Not sure if someone on my team already reported this, but ",
                 "Same issue as a colleague mentioned: ", "Hi, quick one: "]

_CHANNELS = ["email", "web", "api", "chat", "voice", "mobile"]
_CHANNEL_W = [45, 30, 7, 9, 4, 5]

# ---------------------------------------------------------------------------------------
# Article building blocks
# ---------------------------------------------------------------------------------------

# Article prose (generic paragraphs, cause sentences, scenario sections, revision notes):
# data, in zendesk_sample_data/article_prose.json.
_PROSE = _load("article_prose.json")
_GENERIC_ARTICLE: list[str] = _PROSE["generic_article"]
_CAUSE_FORMS: list[str] = _PROSE["cause_forms"]
_PLANS = ["Team", "Professional", "Enterprise"]
_PLATFORMS = ["web app", "iOS app", "Android app", "desktop app for Windows and macOS"]
_REGIONS = ["the United States", "the European Union", "Australia", "Canada"]
_SCENARIOS: list[list] = _PROSE["scenarios"]  # [heading, [paragraph, ...]]
_REVISIONS: list[str] = _PROSE["revisions"]

# Article plan: round-robin over topics, so any prefix covers many topics.
_ARTICLE_PLAN: list[tuple[int, int]] = []  # (topic index, article index within topic)
for _round in range(max(len(t["articles"]) for t in TOPICS)):
    for _ti, _t in enumerate(TOPICS):
        if _round < len(_t["articles"]):
            _ARTICLE_PLAN.append((_ti, _round))
del _round, _ti, _t

# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _seed_for(seed: int, kind: int, index: int) -> int:
    return ((seed & 0xFFFFFFFF) << 40) | (kind << 34) | (index & 0x3FFFFFFFF)


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii").lower().replace("'", "")


def _slug(title: str) -> str:
    return "-".join(w for w in re.split(r"[^0-9A-Za-z]+", _ascii_keep_case(title)) if w)


def _ascii_keep_case(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")


def _weighted(rng: random.Random, cum: list[float]) -> int:
    return bisect_right(cum, rng.random() * cum[-1])


def _cum(weights: list[float]) -> list[float]:
    out, s = [], 0.0
    for w in weights:
        s += w
        out.append(s)
    return out


_CHANNEL_CUM = _cum(_CHANNEL_W)
_PRIORITIES = ["low", "normal", "high", "urgent", None]
_PRIORITY_CUM = _cum([15, 50, 22, 8, 5])
_TYPES = ["question", "incident", "problem", "task", None]
_TYPE_CUM = _cum([35, 35, 5, 5, 20])
_STATUSES = ["new", "open", "pending", "hold", "solved", "closed"]
# status proportions by age (oldest third ... newest fifth)
_STATUS_CUM_OLD = _cum([3, 7, 5, 2, 35, 48])
_STATUS_CUM_MID = _cum([20, 30, 15, 5, 25, 5])
_STATUS_CUM_NEW = _cum([55, 30, 10, 5, 0, 0])


def _org_info(k: int) -> dict[str, Any]:
    base = _ORGS[k % len(_ORGS)]
    rnd = k // len(_ORGS)
    name = base[0] if rnd == 0 else f"{base[0]} ({['EMEA', 'APAC', 'Americas', 'Labs'][(rnd - 1) % 4]} {rnd})"
    domain = base[1] if rnd == 0 else base[1].replace(".example", f"-{rnd}.example")
    # extra orgs rotate the exclusion / focus sets so they still differ
    excluded = base[3] if rnd == 0 else {TOPIC_KEYS[(TOPIC_KEYS.index(t) + rnd) % len(TOPIC_KEYS)] for t in base[3]}
    focus = _ORG_FOCUS[k % len(_ORGS)] if rnd == 0 else {
        TOPIC_KEYS[(TOPIC_KEYS.index(t) + rnd) % len(TOPIC_KEYS)] for t in _ORG_FOCUS[k % len(_ORGS)]}
    focus = focus - excluded
    weights = [0.0 if t in excluded else (5.0 if t in focus else 1.0) for t in TOPIC_KEYS]
    return {
        "index": k,
        "id": ORG_ID_BASE + 1000 * (k + 1) + (k * 37) % 1000,
        "name": name,
        "domain": domain,
        "plan": base[2],
        "excluded": excluded,
        "topic_cum": _cum(weights),
        "vip": k % 3 == 1,
    }


_NO_ORG_TOPIC_CUM = _cum([1.0] * len(TOPICS))


def _person(org: dict[str, Any] | None, r: int) -> dict[str, Any]:
    """A requester of an org (or of no org); the returned dict is shared: do not modify it."""
    return _person_cached(org["index"] if org else 97, org["domain"] if org else None, r)


@functools.lru_cache(maxsize=8192)
def _person_cached(ok: int, org_domain: str | None, r: int) -> dict[str, Any]:
    first = _FIRST[(ok * 7 + r * 3) % len(_FIRST)]
    last = _LAST[(ok * 11 + r * 5) % len(_LAST)]
    domain = org_domain or ["gmail.example", "outlook.example", "yahoo.example"][r % 3]
    return {
        "id": USER_ID_BASE + (ok + 1) * 100000 + r,
        "first": first,
        "last": last,
        "name": f"{first} {last}",
        "email": f"{_ascii(first)}.{_ascii(last)}@{domain}",
        "job": _JOBS[(ok + r) % len(_JOBS)],
    }


def _agent_id(a: int) -> int:
    return AGENT_ID_BASE + 1 + a


def _expand(name: str, v: Any) -> dict[str, str]:
    a, b = (v, v) if isinstance(v, str) else v
    cn = _cap(name)
    return {name: a, name + "2": b, cn: _cap(a), cn + "2": _cap(b), "q" + name: f"\"{a}\""}


def _choices(slots: dict[str, list]) -> list[list[dict[str, str]]]:
    return [[_expand(name, v) for v in values] for name, values in slots.items()]


_DYN_KEYS = {n: (n, n + "2", _cap(n), _cap(n) + "2", "q" + n)
             for n in ("inv", "amount", "order", "version", "records", "seats", "seats_real", "plan_from", "plan_to")}
_FIELD_RE = re.compile(r"\{(\w+)\}")


def _used_slots(topic: dict[str, Any]) -> set[str]:
    """Base names of the slots that the topic's ticket templates use (so only those are drawn)."""
    texts: list[str] = list(topic["details"]) + list(topic["tried"]) + list(topic["questions"])
    texts += list(topic.get("impacts") or [])
    for subjects, desc, paras in topic["problems"]:
        texts += list(subjects) + [desc] + list(paras)
    names = set()
    for t in texts:
        for f in _FIELD_RE.findall(t):
            base = f[1:] if f.startswith("q") and f[1:].lower() in _ALL_SLOT_NAMES else f
            base = base[:-1] if base.endswith("2") else base
            names.add(base.lower() if base.lower() in _ALL_SLOT_NAMES else base)
    return names | {"when", "num"}  # used by the generic impact / signoff sentences


_ALL_SLOT_NAMES = set(_COMMON_SLOTS) | set(_DYN_KEYS) | {n for t in TOPICS for n in t["slots"]}
for _t in TOPICS:
    _used = _used_slots(_t)
    _t["_choices"] = _choices({k: v for k, v in _COMMON_SLOTS.items() if k in _used}) + _choices(_t["slots"])
    _t["_dyn"] = frozenset(n for n in _DYN_KEYS if n in _used)
del _t, _used


def _ri(rng: random.Random, a: int, b: int) -> int:
    """Uniform int in [a, b] (one rng.random() call; faster than randint)."""
    return a + int(rng.random() * (b - a + 1))


def _slot_values(rng: random.Random, topic: dict[str, Any]) -> dict[str, str]:
    """Pick one value per slot; expand to {x}, {x2}, {X}, {X2}, {qx}."""
    out: dict[str, str] = {}
    for choices in topic["_choices"]:
        out.update(choices[int(rng.random() * len(choices))])
    need = topic["_dyn"]
    if not need:
        return out
    dyn: list[tuple[str, str]] = []
    if "inv" in need:
        dyn.append(("inv", f"INV-2024-{_ri(rng, 1000, 9999):04d}"))
    if "amount" in need:
        dyn.append(("amount", f"${_ri(rng, 49, 4999):,}.{('00', '50', '99')[int(rng.random() * 3)]}"))
    if "order" in need:
        dyn.append(("order", f"ORD-{_ri(rng, 100000, 999999)}"))
    if "version" in need:
        dyn.append(("version", f"{_ri(rng, 4, 5)}.{_ri(rng, 0, 14)}.{_ri(rng, 0, 3)}"))
    if "records" in need:
        dyn.append(("records", f"{_ri(rng, 50, 900) * 1000:,}"))
    if "seats" in need or "seats_real" in need:
        seats = _ri(rng, 12, 250)
        dyn.append(("seats", str(seats)))
        dyn.append(("seats_real", str(seats - _ri(rng, 3, min(15, seats - 2)))))
    if "plan_from" in need or "plan_to" in need:
        plan_from, plan_to = _PLAN_PAIRS[int(rng.random() * len(_PLAN_PAIRS))]
        dyn.append(("plan_from", plan_from))
        dyn.append(("plan_to", plan_to))
    for name, v in dyn:
        k1, k2, k3, k4, kq = _DYN_KEYS[name]
        out[k1] = out[k2] = out[k3] = out[k4] = v
        out[kq] = f"\"{v}\""
    return out


def _log_paste(rng: random.Random, lines: int) -> str:
    base_ts = _ri(rng, 1700000000, 1730000000)
    out = ["", "Here is the log from the device / our client:", "```"]
    comps = ["SyncEngine", "HttpClient", "AuthManager", "AttachmentCache", "ProjectStore", "PushHandler"]
    levels = ["DEBUG", "INFO", "INFO", "WARN", "ERROR"]
    msgs = ["request POST /api/v2/tasks/bulk status=429 retry_after=60", "cache miss key=project:{p}",
            "sync batch {p} took {ms}ms", "token refresh ok expires_in=3600",
            "java.lang.IllegalStateException: Fragment not attached to a context",
            "EXC_BAD_ACCESS (SIGSEGV) at 0x000000000000{p:04x}", "websocket closed code=1006 reason=\"\"",
            "retrying in {ms}ms (attempt {a})", "decoded 250 records in {ms}ms", "attachment {p}.jpg size=4.2MB"]
    for k in range(lines):
        ts = base_ts + k * _ri(rng, 0, 3)
        m = msgs[int(rng.random() * len(msgs))].format(p=_ri(rng, 1, 9999), ms=_ri(rng, 3, 9000),
                                                        a=_ri(rng, 1, 8))
        out.append(f"{_iso(ts)} {levels[int(rng.random() * len(levels))]:5s} "
                   f"[{comps[int(rng.random() * len(comps))]}] {m}")
    out.append("```")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------------------


class _TicketCore:
    __slots__ = ("record", "raw_fields", "topic", "problem", "slots", "org", "requester")

    def __init__(self, record, raw_fields, topic, problem, slots, org, requester):
        self.record = record
        self.raw_fields = raw_fields
        self.topic = topic
        self.problem = problem
        self.slots = slots
        self.org = org
        self.requester = requester


def _normalize_value(v: Any) -> Any:
    """What the CDK's TypeTransformer (schema_normalization: Default) does to a ["null","string"] value."""
    return None if v is None else (v if isinstance(v, str) else str(v))


def _make_ticket(rng: random.Random, seed: int, i: int, n_tickets: int, orgs: list[dict[str, Any]],
                 raw_types: bool) -> _TicketCore:
    rng.seed(_seed_for(seed, _K_TICKET, i))
    tid = TICKET_ID_BASE + i
    # organization (about 3% of requesters have none)
    if rng.random() < 0.03:
        org = None
    else:
        org = orgs[int(rng.random() * len(orgs))]
    ti = _weighted(rng, org["topic_cum"] if org else _NO_ORG_TOPIC_CUM)
    topic = TOPICS[ti]
    slots = _slot_values(rng, topic)
    requester = _person(org, int(rng.random() * _REQUESTERS_PER_ORG))
    slots.update(first=requester["first"], last=requester["last"], job=requester["job"],
                 org=org["name"] if org else "")
    pi = int(rng.random() * len(topic["problems"]))
    subjects, problem_text, _paras = topic["problems"][pi]

    # timestamps: spread over the span, oldest first
    slot_len = _TICKETS_SPAN / max(n_tickets, 1)
    created = _TICKETS_START + int(i * slot_len + rng.random() * slot_len)
    age = i / max(n_tickets - 1, 1)
    status_cum = _STATUS_CUM_NEW if age > 0.8 else (_STATUS_CUM_MID if age > 0.5 else _STATUS_CUM_OLD)
    status = _STATUSES[_weighted(rng, status_cum)]
    sync_end = _SYNC_TIME["initial"] - 3600
    if status == "new":
        updated = created + _ri(rng, 0, 600)
    elif status in ("solved", "closed"):
        updated = created + _ri(rng, 3600, 20 * _DAY)
    else:
        updated = created + _ri(rng, 600, 6 * _DAY)
    updated = min(updated, sync_end)
    channel = _CHANNELS[_weighted(rng, _CHANNEL_CUM)]

    # subject
    subject = subjects[int(rng.random() * len(subjects))].format(**slots)
    x = rng.random()
    if x < 0.12 and not any(ch.isdigit() for ch in subject):
        subject = subject.lower()
    elif x < 0.16:
        subject = "Re: " + subject
    elif x < 0.19:
        subject = "URGENT: " + subject
    elif x < 0.21:
        subject = "Fwd: " + subject

    # description
    body = [problem_text.format(**slots)]
    nd = (0, 1, 1, 2)[int(rng.random() * 4)]
    if nd:
        details = topic["details"]
        j = int(rng.random() * len(details))
        body.append(details[j].format(**slots))
        if nd == 2:  # a second, different detail
            body.append(details[(j + 1 + int(rng.random() * (len(details) - 1))) % len(details)].format(**slots))
    technical = topic["group"] in ("technical", "accounts", "integrations")
    if rng.random() < 0.5:
        tried = topic["tried"] + _GENERIC_TRIED if topic["group"] == "technical" else topic["tried"]
        body.append(tried[int(rng.random() * len(tried))].format(**slots))
    if rng.random() < 0.6:
        impacts = topic.get("impacts") or (_IMPACTS if technical else _IMPACTS_OTHER)
        body.append(impacts[int(rng.random() * len(impacts))].format(**slots))
    ask = _ASKS[int(rng.random() * len(_ASKS))] if rng.random() < 0.7 else ""
    if ask:
        body.append(ask)
    main = " ".join(body)
    if rng.random() < 0.35:  # split into two paragraphs, like a real email
        k = max(1, len(body) // 2)
        main = " ".join(body[:k]) + "\n\n" + " ".join(body[k:])

    if channel == "chat":
        def hms(t: int) -> str:
            return _iso(t)[11:19]

        description = (f"Chat started: {_iso(created)[:10]} {hms(created)} UTC\n\n"
                       f"({hms(created)}) {requester['first']}: hi\n"
                       f"({hms(created + 9)}) {requester['first']}: {main}\n"
                       f"({hms(created + 62)}) Lumen Bot: Thanks! An agent will be with you shortly.")
    elif channel == "voice":
        description = (f"Call from: +1 (415) 555-{_ri(rng, 0, 9999):04d}\nTime of call: {_iso(created)}\n"
                       f"Caller: {requester['name']}\nCall duration: {_ri(rng, 1, 25)} minutes\n\n"
                       f"Summary (agent notes): {main}")
    elif channel in ("web", "api", "mobile"):
        description = main
        if channel == "api":
            description = f"Submitted via in-app contact form\nCategory: {topic['name']}\n\n{main}"
    else:  # email
        parts = []
        if rng.random() < 0.75:
            parts.append(_GREETINGS[int(rng.random() * len(_GREETINGS))])
        parts.append(main)
        if rng.random() < 0.85:
            parts.append(_SIGNOFFS[int(rng.random() * len(_SIGNOFFS))].format(**slots))
        description = "\n\n".join(parts)
    # pasted logs: mostly technical topics; ticket index 42 always carries a big one
    if i == 42 or (topic["group"] == "technical" and rng.random() < 0.04):
        description += "\n" + _log_paste(rng, 220 if i == 42 else _ri(rng, 15, 90))

    priority = _PRIORITIES[_weighted(rng, _PRIORITY_CUM)]
    ttype = _TYPES[_weighted(rng, _TYPE_CUM)]
    group_key = topic["group"]
    group_id = _GROUPS[group_key] if (status != "new" or rng.random() < 0.6) else None
    agent = int(rng.random() * _AGENTS)
    assignee_id = None if (status == "new" and rng.random() < 0.85) else _agent_id(agent)

    # custom fields (raw API types)
    plan = org["plan"] if org else "team"
    area_tag = f"area_{topic['key']}"
    affected = None
    if rng.random() < 0.6:
        affected = int(slots["num"]) if slots["num"].isdigit() else _ri(rng, 1, 50)
    blocking = rng.random() < 0.3
    order_no = slots["order"] if topic["key"] == "shipping_orders" else None
    browser = None
    if topic["group"] == "technical" and rng.random() < 0.5:
        browser = (("Chrome 121 / macOS 14.3", "Firefox 122 / Windows 11", "Edge 120 / Windows 10",
                    "Safari 17.2 / macOS 14.2")[int(rng.random() * 4)])
    sentiment = round(rng.uniform(-1, 1), 2) if rng.random() < 0.7 else None
    envs = [e for e, p in (("env_production", 0.8), ("env_staging", 0.3), ("env_sandbox", 0.1)) if rng.random() < p]
    raw_fields = [
        {"id": CF_PRODUCT_AREA, "value": area_tag},
        {"id": CF_PLAN, "value": f"plan_{plan}"},
        {"id": CF_AFFECTED_USERS, "value": affected},
        {"id": CF_BLOCKING, "value": blocking},
        {"id": CF_ORDER_NUMBER, "value": order_no},
        {"id": CF_BROWSER, "value": browser},
        {"id": CF_SENTIMENT, "value": sentiment},
        {"id": CF_ENVIRONMENTS, "value": envs},
    ]
    if raw_types:
        custom_fields = [dict(f) for f in raw_fields]
    else:
        custom_fields = [{"id": f["id"], "value": _normalize_value(f["value"])} for f in raw_fields]
    fields = [dict(f) for f in custom_fields]

    tags = list(topic["tags"]) + [area_tag, f"plan_{plan}"] + envs
    if blocking:
        tags.append("blocking")
    if org and org["vip"]:
        tags.append("vip")
    if channel == "chat":
        tags.append("chat_transcript")
    if priority == "urgent":
        tags.append("escalated")
    tags = sorted(set(tags))

    # via
    if channel == "email":
        via = {"channel": "email", "source": {
            "from": {"address": requester["email"], "name": requester["name"],
                     "original_recipients": [requester["email"], SUPPORT_ADDRESS]},
            "to": {"name": "Lumen Support", "address": SUPPORT_ADDRESS}, "rel": None}}
    elif channel == "voice":
        num = f"+1415555{_ri(rng, 0, 9999):04d}"
        via = {"channel": "voice", "source": {
            "from": {"phone": num, "formatted_phone": f"+1 (415) 555-{num[-4:]}", "name": requester["name"]},
            "to": {"phone": "+18005550100", "formatted_phone": "+1 (800) 555-0100", "name": "Lumen Support"},
            "rel": "inbound"}}
    elif channel == "chat":
        via = {"channel": "chat", "source": {"from": {}, "to": {}, "rel": "chat_transcript"}}
    elif channel == "mobile":
        via = {"channel": "mobile_sdk", "source": {"from": {}, "to": {}, "rel": "mobile_sdk"}}
    else:
        via = {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}

    collaborators = []
    if org and rng.random() < 0.2:
        collaborators = sorted({_person(org, int(rng.random() * _REQUESTERS_PER_ORG))["id"]
                                for _ in range(_ri(rng, 1, 3))} - {requester["id"]})
    followers = [_agent_id(int(rng.random() * _AGENTS))] if rng.random() < 0.1 else []

    if status in ("solved", "closed"):
        sr_score = ("good", "good", "good", "bad", "offered")[int(rng.random() * 5)]
        if sr_score == "offered":
            satisfaction = {"score": "offered"}
        else:
            satisfaction = {
                "id": 360100000000 + tid, "score": sr_score,
                "comment": ("Quick and helpful, thanks!" if sr_score == "good" else "Took way too long to get an answer."),
                "reason": None if sr_score == "good" else "The issue took too long to resolve",
                "reason_id": None if sr_score == "good" else 1001,
            }
    elif rng.random() < 0.9:
        satisfaction = {"score": "unoffered"}
    else:
        satisfaction = None

    submitter_id = requester["id"] if channel not in ("voice",) else _agent_id(agent)
    external_id = None
    if topic["key"] == "shipping_orders" and rng.random() < 0.7:
        external_id = slots["order"]
    elif channel == "api" and rng.random() < 0.5:
        external_id = f"SF-{_ri(rng, 10000000, 99999999)}"

    record = {
        "url": f"{SUBDOMAIN_URL}/api/v2/tickets/{tid}.json",
        "id": tid,
        "external_id": external_id,
        "via": via,
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "generated_timestamp": updated,
        "type": ttype,
        "subject": subject,
        "raw_subject": subject,
        "description": description,
        "priority": priority,
        "status": status,
        "recipient": SUPPORT_ADDRESS if channel == "email" else None,
        "requester_id": requester["id"],
        "submitter_id": submitter_id,
        "assignee_id": assignee_id,
        "organization_id": org["id"] if org else None,
        "group_id": group_id,
        "collaborator_ids": collaborators,
        "follower_ids": followers,
        "email_cc_ids": list(collaborators) if channel == "email" else [],
        "forum_topic_id": None,
        "problem_id": None,
        "has_incidents": ttype == "problem" and rng.random() < 0.5,
        "is_public": True,
        "due_at": _iso(created + 7 * _DAY) if ttype == "task" else None,
        "tags": tags,
        "custom_fields": custom_fields,
        "satisfaction_rating": satisfaction,
        "sharing_agreement_ids": [],
        "custom_status_id": _CUSTOM_STATUS[status],
        "fields": fields,
        "followup_ids": [],
        "ticket_form_id": TICKET_FORM_ID,
        "deleted_ticket_form_id": None,
        "brand_id": BRAND_ID,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": channel == "chat",
    }
    return _TicketCore(record, raw_fields, topic, pi, slots, org, requester)


_NEXT_STATUS = {
    "new": (("open", 0.6), ("pending", 0.2), ("solved", 0.1), ("new", 0.1)),
    "open": (("pending", 0.4), ("solved", 0.4), ("open", 0.2)),
    "pending": (("open", 0.4), ("solved", 0.5), ("pending", 0.1)),
    "hold": (("open", 0.7), ("hold", 0.3)),
    "solved": (("closed", 0.6), ("solved", 0.3), ("open", 0.1)),
    "closed": (("closed", 1.0),),
}
_UPDATE_TAGS = ["followup_sent", "customer_replied", "awaiting_engineering", "kb_linked", "sla_breach_risk"]


def _update_ticket(rng: random.Random, seed: int, i: int, record: dict[str, Any], mode: str) -> None:
    """Change only metadata: status (+custom_status_id), updated_at (+generated_timestamp), tags, assignee_id."""
    rng.seed(_seed_for(seed, _K_TICKET_UPD[mode], i))
    x, acc, status = rng.random(), 0.0, record["status"]
    for s, p in _NEXT_STATUS[record["status"]]:
        acc += p
        if x < acc:
            status = s
            break
    record["status"] = status
    record["custom_status_id"] = _CUSTOM_STATUS[status]
    sync = _SYNC_TIME[mode]
    updated = sync - _ri(rng, 3600, 6 * _DAY)
    record["updated_at"] = _iso(updated)
    record["generated_timestamp"] = updated
    tags = set(record["tags"])
    tags.add(_UPDATE_TAGS[int(rng.random() * len(_UPDATE_TAGS))])
    if mode == "update-paragraph":
        tags.add("reviewed")
    record["tags"] = sorted(tags)
    if status != "new":
        if record["assignee_id"] is None or rng.random() < 0.3:
            record["assignee_id"] = _agent_id(int(rng.random() * _AGENTS))


# ---------------------------------------------------------------------------------------
# Articles
# ---------------------------------------------------------------------------------------


def _article_spec(i: int) -> tuple[dict[str, Any], str, str, int]:
    """(topic, title, kind, cycle) of the i-th article."""
    ti, ai = _ARTICLE_PLAN[i % len(_ARTICLE_PLAN)]
    cycle = i // len(_ARTICLE_PLAN)
    topic = TOPICS[ti]
    title, kind = topic["articles"][ai]
    if cycle:
        title = f"{title} (part {cycle + 1})"
    return topic, title, kind, cycle


def _article_id(i: int) -> int:
    return ARTICLE_ID_BASE + i * ARTICLE_ID_STEP


def _article_html_url(i: int, title: str) -> str:
    return f"{SUBDOMAIN_URL}/hc/en-us/articles/{_article_id(i)}-{_slug(title)}"


def article_is_long(i: int) -> bool:
    """True when the i-th generated article is a long guide (2,500-6,000 words)."""
    return _article_spec(i)[2] == "guide"


class _Para:
    __slots__ = ("sentences",)

    def __init__(self, sentences: list[str]):
        self.sentences = sentences

    def html(self) -> str:
        return "<p>" + " ".join(self.sentences) + "</p>"


def _pick(rng: random.Random, pool: list[str], k: int) -> list[str]:
    return rng.sample(pool, min(k, len(pool)))


def _build_article_blocks(rng: random.Random, i: int, n_articles: int) -> tuple[list[Any], str, dict[str, Any], str]:
    """Return (blocks, title, topic, kind). Blocks are HTML strings or _Para (editable paragraphs)."""
    topic, title, kind, cycle = _article_spec(i)
    terms = dict(topic["terms"])
    n = rng.choice([2, 5, 10, 15])
    terms["n"] = str(n)

    def fmt(s: str, **extra: str) -> str:
        return s.format(**terms, **extra) if ("{" in s) else s

    facts = topic["facts"]
    causes = [_CAUSE_FORMS[j % len(_CAUSE_FORMS)].format(cause=c) for j, c in enumerate(topic["causes"])]
    generic = [fmt(s) for s in _GENERIC_ARTICLE]

    def para(pools: list[list[str]], k: int) -> _Para:
        chosen: list[str] = []
        for pool in pools:
            chosen.extend(_pick(rng, pool, 1 + int(rng.random() * 2)))
        rng.shuffle(chosen)
        extra = [s for s in generic if s not in chosen]
        while len(chosen) < k:
            s = extra.pop(int(rng.random() * len(extra)))
            chosen.append(s)
        return _Para(chosen[: max(k, 3)])

    blocks: list[Any] = []
    # intro
    intro_facts = facts[: 2 + int(rng.random() * 2)]
    if kind == "troubleshoot":
        blocks.append(_Para([f"This article helps when something goes wrong with the {terms['thing']}."] + intro_facts))
    elif kind == "faq":
        blocks.append(_Para([f"Answers to the questions we hear most often about the {terms['thing']}."] + intro_facts))
    else:
        blocks.append(_Para(list(intro_facts)))
    if cycle:
        blocks.append(_Para([f"This is part {cycle + 1} of our series on the {terms['thing']}.",
                             fmt(_GENERIC_ARTICLE[int(rng.random() * len(_GENERIC_ARTICLE))])]))

    def steps_block() -> None:
        blocks.append("<h2>Step&nbsp;by step</h2>")
        blocks.append("<ol>" + "".join(f"<li>{s}</li>" for s in topic["steps"]) + "</ol>")

    def causes_block(k: int) -> None:
        blocks.append("<h2>If it still doesn't work</h2>")
        blocks.append(_Para(_pick(rng, causes, k) + _pick(rng, generic, 1)))

    def faq_block(k: int) -> None:
        blocks.append("<h2>Frequently asked questions</h2>")
        for q, a in topic["faq"][:k]:
            blocks.append(f"<h3>{q}</h3>")
            blocks.append(f"<p>{a}</p>")

    if kind == "howto":
        blocks.append(para([facts[2:]], 4))
        blocks.append("<h2>Before you begin</h2>")
        blocks.append("<ul>" + "".join(f"<li>{fmt(s)}</li>" for s in (
            "You need to be an admin or the account owner.",
            "Keep the {artifact} at hand.",
            "Allow about {n} minutes.")) + "</ul>")
        steps_block()
        causes_block(2)
        faq_block(1)
    elif kind == "troubleshoot":
        blocks.append("<h2>Common causes</h2>")
        blocks.append("<ul>" + "".join(f"<li>{_cap(c)}.</li>" for c in topic["causes"]) + "</ul>")
        blocks.append(para([facts[2:], causes], 5))
        steps_block()
        blocks.append("<h2>Still stuck?</h2>")
        blocks.append(_Para([fmt("Contact us and include the {artifact}."), fmt(_GENERIC_ARTICLE[5])]))
    elif kind == "faq":
        faq_block(len(topic["faq"]))
        blocks.append("<h2>More details</h2>")
        blocks.append(para([facts[3:]], 5))
        blocks.append(para([causes], 4))
    else:  # guide: long
        target = 2500 + int(rng.random() * 3500)
        blocks.append(para([facts], 5))
        blocks.append("<h2>Before you begin</h2>")
        blocks.append("<ul>" + "".join(f"<li>{fmt(s)}</li>" for s in (
            "You need to be an admin or the account owner.",
            "Keep the {artifact} at hand.",
            "Read the whole guide once before you change anything &mdash; it takes about {n} minutes.")) + "</ul>")
        steps_block()
        blocks.append(para([facts, generic], 5))
        scen_order = list(range(len(_SCENARIOS)))
        rng.shuffle(scen_order)
        variants = {"plan": _PLANS, "platform": _PLATFORMS, "region": _REGIONS}
        words = sum(_block_words(b) for b in blocks)
        j = 0
        while words < target:
            heading, sents = _SCENARIOS[scen_order[j % len(scen_order)]]
            rnd = j // len(scen_order)
            sub = {k: v[(rnd + j) % len(v)] for k, v in variants.items()}
            h = heading.format(**sub)
            if rnd and "{" not in heading:
                h = f"{h} ({('continued', 'part 3', 'part 4', 'part 5')[min(rnd - 1, 3)]})"
            blocks.append(f"<h2>{h}</h2>")
            scen_sents = [s.format(**terms, **sub) for s in sents]
            for _ in range(2 + int(rng.random() * 2)):
                p = para([scen_sents, facts, causes], 6)
                blocks.append(p)
                words += _block_words(p)
            if heading == "Common mistakes":
                ul = "<ul>" + "".join(f"<li>{_cap(c)}.</li>" for c in topic["causes"]) + "</ul>"
                blocks.append(ul)
                words += _block_words(ul)
            words += 3
            j += 1
        faq_block(len(topic["faq"]))
    # related articles (same topic, same cycle, that exist)
    related = []
    for k0, (ti2, _ai2) in enumerate(_ARTICLE_PLAN):
        if TOPICS[ti2] is topic:
            k = k0 + cycle * len(_ARTICLE_PLAN)
            if k != i and k < n_articles:
                t2 = _article_spec(k)[1]
                related.append(f"<li><a href=\"{_article_html_url(k, t2)}\">{html.escape(t2, quote=False)}</a></li>")
    if related:
        blocks.append("<h2>Related articles</h2>")
        blocks.append("<ul>" + "".join(related) + "</ul>")
    return blocks, title, topic, kind


_TAG_RE = re.compile(r"<[^>]+>")


def _block_words(b: Any) -> int:
    s = b.html() if isinstance(b, _Para) else b
    return len(_TAG_RE.sub(" ", s).split())


def _make_article(rng: random.Random, seed: int, i: int, n_articles: int, mode: str) -> dict[str, Any]:
    rng.seed(_seed_for(seed, _K_ARTICLE, i))
    blocks, title, topic, kind = _build_article_blocks(rng, i, n_articles)
    aid = _article_id(i)
    slot_len = _ARTICLES_SPAN / max(n_articles, 1)
    created = _ARTICLES_START + int(i * slot_len + rng.random() * slot_len)
    last = _SYNC_TIME["initial"] - 3600
    edited = min(created + _ri(rng, 0, 300 * _DAY), last)
    updated = min(edited + _ri(rng, 0, 30 * _DAY), last)
    vote_count = _ri(rng, 0, 60)
    vote_sum = vote_count - 2 * _ri(rng, 0, vote_count // 3) if vote_count else 0
    labels = [topic["key"]] + list(topic["tags"])
    draft = (i % 23 == 17)
    promoted = rng.random() < 0.1
    position = 0 if rng.random() < 0.7 else _ri(rng, 1, 10)
    user_segment_id = None if rng.random() < 0.8 else 360000500001
    if mode != "initial":
        urng = rng  # the body blocks are built: reuse the generator for the update stream
        urng.seed(_seed_for(seed, _K_ARTICLE_UPD[mode], i))
        updated = _SYNC_TIME[mode] - _ri(urng, 3600, 5 * _DAY)
        extra = _ri(urng, 1, 8)
        vote_count += extra
        vote_sum += extra - 2 * _ri(urng, 0, extra // 2)
        labels.append("reviewed" if mode == "update-metadata" else "revised")
        if mode == "update-paragraph":
            edited = updated
            if kind == "guide":
                paras = [k for k, b in enumerate(blocks) if isinstance(b, _Para)]
                # a paragraph in the middle of the article (so not in the first chunk)
                lo, hi = len(paras) * 2 // 5, max(len(paras) * 3 // 5, len(paras) * 2 // 5 + 1)
                k = paras[lo + int(urng.random() * (hi - lo))]
                sents = list(blocks[k].sentences)
                old = sents[-1]
                cands = [r for r in _REVISIONS if r not in sents]
                cands.sort(key=lambda r: (abs(len(r) - len(old)), r))
                sents[-1] = cands[0]
                blocks[k] = _Para(sents)
    body = "\n".join(b.html() if isinstance(b, _Para) else b for b in blocks)
    return {
        "id": aid,
        "url": f"{SUBDOMAIN_URL}/api/v2/help_center/en-us/articles/{aid}.json",
        "html_url": _article_html_url(i, title),
        "author_id": AUTHOR_IDS[i % len(AUTHOR_IDS)],
        "comments_disabled": i % 5 == 3,
        "draft": draft,
        "promoted": promoted,
        "position": position,
        "vote_sum": vote_sum,
        "vote_count": vote_count,
        "section_id": _SECTIONS[topic["group"]],
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "name": title,
        "title": title,
        "source_locale": "en-us",
        "locale": "en-us",
        "outdated": False,
        "outdated_locales": [],
        "edited_at": _iso(edited),
        "user_segment_id": user_segment_id,
        "permission_group_id": 360000600001,
        "content_tag_ids": ["01HN8ZQ4Y0J3K5V7W9X1Z3B5D7"] if topic["group"] == "technical" else [],
        "label_names": labels,
        "body": body,
    }


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def _state(stream: str, cursor: str | None) -> dict[str, Any]:
    return {"type": "STATE", "state": {"type": "STREAM", "stream": {
        "stream_descriptor": {"name": stream}, "stream_state": {"updated_at": cursor}}}}


def generate_messages(
    n_tickets: int = 300,
    n_articles: int = 40,
    *,
    seed: int = 7,
    n_orgs: int = 8,
    state_every: int | None = 100,
    mode: str = "initial",
    raw_types: bool = False,
) -> Iterator[dict[str, Any]]:
    """Yield Airbyte protocol messages: tickets, then articles, with STATE checkpoints.

    ``state_every``: a STATE after every that many records of a stream (None/0: only at the end
    of each stream). ``raw_types=True`` keeps custom field values in their API types (bool, number,
    list) instead of the source connector's normalized strings.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if n_tickets < 0 or n_articles < 0 or n_orgs < 1:
        raise ValueError("n_tickets and n_articles must be >= 0 and n_orgs >= 1")
    orgs = [_org_info(k) for k in range(n_orgs)]
    rng = random.Random()
    emitted_ms = _SYNC_TIME[mode] * 1000
    every = state_every or 0

    def tickets() -> Iterator[dict[str, Any]]:
        for i in range(n_tickets):
            rec = _make_ticket(rng, seed, i, n_tickets, orgs, raw_types).record
            if mode != "initial":
                _update_ticket(rng, seed, i, rec, mode)
            yield rec

    articles = (_make_article(rng, seed, i, n_articles, mode) for i in range(n_articles))
    yield from _with_states("tickets", tickets(), n_tickets, emitted_ms, every)
    yield from _with_states("articles", articles, n_articles, emitted_ms + n_tickets, every)


def _with_states(stream: str, records: Iterator[dict[str, Any]], count: int, first_emitted_ms: int,
                 every: int) -> Iterator[dict[str, Any]]:
    """A stream's RECORD messages (records made as they are read: one rng serves both streams in
    order), a STATE with the highest `updated_at` so far after every `every` of them, and one at the end."""
    cursor: str | None = None
    for i, rec in enumerate(records):
        if cursor is None or rec["updated_at"] > cursor:
            cursor = rec["updated_at"]
        yield {"type": "RECORD", "record": {"stream": stream, "data": rec, "emitted_at": first_emitted_ms + i}}
        if every and (i + 1) % every == 0 and i + 1 < count:
            yield _state(stream, cursor)
    yield _state(stream, cursor)


def dumps(message: dict[str, Any]) -> str:
    """Compact one-line JSON, as written by the CLI (UTF-8, not ASCII-escaped)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def configured_catalog(sync_mode: str = "append_dedup") -> dict[str, Any]:
    """ConfiguredAirbyteCatalog for the tickets and articles streams."""
    streams = []
    for name in ("tickets", "articles"):
        streams.append({
            "stream": {
                "name": name,
                "json_schema": {"type": "object"},
                "supported_sync_modes": ["full_refresh", "incremental"],
                "source_defined_cursor": True,
                "default_cursor_field": ["updated_at"],
                "source_defined_primary_key": [["id"]],
            },
            "sync_mode": "incremental",
            "destination_sync_mode": sync_mode,
            "primary_key": [["id"]],
            "cursor_field": ["updated_at"],
        })
    return {"streams": streams}


def ticket_topic(record: dict[str, Any]) -> str | None:
    """Topic key of a generated ticket (from its ``area_<topic>`` tag)."""
    for t in record.get("tags") or []:
        if t.startswith("area_") and t[5:] in _TOPIC_BY_KEY:
            return t[5:]
    return None


def article_topic(record: dict[str, Any]) -> str | None:
    """Topic key of a generated article (first label)."""
    labels = record.get("label_names") or []
    return labels[0] if labels and labels[0] in _TOPIC_BY_KEY else None


def article_ids_by_topic(n_articles: int = 40) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {k: [] for k in TOPIC_KEYS}
    for i in range(n_articles):
        out[_article_spec(i)[0]["key"]].append(_article_id(i))
    return out


def build_eval_queries(
    n_tickets: int = 300,
    n_articles: int = 40,
    *,
    seed: int = 7,
    n_orgs: int = 8,
    n_duplicates: int = 40,
    n_article_queries: int = 30,
    n_novel: int = 20,
) -> dict[str, Any]:
    """Evaluation set for the support form, derived from the same templates as the data.

    * ``duplicates``: a re-worded description of the problem of a ``new`` ticket (same org):
      ``{"text", "organization_id", "expected_ticket_id", "acceptable_ticket_ids", "topic"}``;
      ``acceptable_ticket_ids`` also lists the org's other new/open/pending tickets about the same
      problem of the same topic (they are duplicates of each other);
    * ``articles``: a customer problem or question with the ids of that topic's articles:
      ``{"text", "expected_article_ids", "topic"}``;
    * ``novel``: a problem of a topic that no ticket of that org is about:
      ``{"text", "organization_id", "expected_ticket_id": None, "topic"}``.
    """
    orgs = [_org_info(k) for k in range(n_orgs)]
    rng = random.Random()
    cores = []
    org_topics: dict[int, set[str]] = {o["id"]: set() for o in orgs}
    for i in range(n_tickets):
        c = _make_ticket(rng, seed, i, n_tickets, orgs, False)
        cores.append((i, c.record["id"], c.record["status"], c.org["id"] if c.org else None, c.topic["key"],
                      c.problem, c.slots))
        if c.org:
            org_topics[c.org["id"]].add(c.topic["key"])
    erng = random.Random(_seed_for(seed, _K_EVAL, 0))

    # (a) duplicates: new tickets with an org, spread over topics round-robin
    by_topic: dict[str, list[tuple]] = {}
    for c in cores:
        if c[2] == "new" and c[3] is not None:
            by_topic.setdefault(c[4], []).append(c)
    chosen: list[tuple] = []
    pools = [by_topic[k] for k in TOPIC_KEYS if k in by_topic]
    depth = 0
    while len(chosen) < n_duplicates and any(depth < len(p) for p in pools):
        for p in pools:
            if depth < len(p) and len(chosen) < n_duplicates:
                chosen.append(p[depth])
        depth += 1
    chosen.sort(key=lambda c: c[0])
    duplicates = []
    for i, tid, _status, org_id, tkey, pi, slots in chosen:
        paras = _TOPIC_BY_KEY[tkey]["problems"][pi][2]
        text = paras[erng.randrange(len(paras))].format(**slots)
        prefix = _DUP_PREFIXES[erng.randrange(len(_DUP_PREFIXES))]
        if prefix.endswith(": "):
            text = prefix + text
        elif prefix:  # "..., but " + sentence continuing in lower case ("I" stays upper case)
            text = prefix + (text if text[:2] in ("I ", "I'") else text[:1].lower() + text[1:])
        # other open-ish tickets of the same org about the same problem are duplicates too
        same = sorted(c[1] for c in cores
                      if c[3] == org_id and c[4] == tkey and c[5] == pi and c[2] in ("new", "open", "pending"))
        duplicates.append({"text": text, "organization_id": org_id, "expected_ticket_id": tid,
                           "acceptable_ticket_ids": same, "topic": tkey})

    # (b) articles: questions and problem descriptions per topic, round-robin over topics
    ids_by_topic = article_ids_by_topic(n_articles)
    articles = []
    j = 0
    while len(articles) < n_article_queries and any(ids_by_topic.values()):
        topic = TOPICS[j % len(TOPICS)]
        rnd = j // len(TOPICS)
        j += 1
        if not ids_by_topic[topic["key"]]:
            continue
        slots = _slot_values(erng, topic)
        if rnd % 2 == 0:
            q = topic["questions"][(rnd // 2) % len(topic["questions"])]
        else:
            pi = erng.randrange(len(topic["problems"]))
            paras = topic["problems"][pi][2]
            q = paras[erng.randrange(len(paras))]
        articles.append({"text": q.format(**slots), "expected_article_ids": list(ids_by_topic[topic["key"]]),
                         "topic": topic["key"]})

    # (c) novel: (org, topic) pairs where the org has no ticket of that topic at all
    pairs = [(o, k) for k in TOPIC_KEYS for o in orgs if k not in org_topics[o["id"]]]
    # spread over orgs and topics deterministically
    pairs.sort(key=lambda p: (TOPIC_KEYS.index(p[1]) * 7 + p[0]["index"] * 3) % 11)
    erng.shuffle(pairs)
    novel = []
    seen_orgs: dict[int, int] = {}
    for o, k in pairs:
        if len(novel) >= n_novel:
            break
        if seen_orgs.get(o["id"], 0) >= max(3, n_novel // max(len(orgs), 1) + 1):
            continue
        seen_orgs[o["id"]] = seen_orgs.get(o["id"], 0) + 1
        topic = _TOPIC_BY_KEY[k]
        slots = _slot_values(erng, topic)
        pi = erng.randrange(len(topic["problems"]))
        paras = topic["problems"][pi][2]
        novel.append({"text": paras[erng.randrange(len(paras))].format(**slots), "organization_id": o["id"],
                      "expected_ticket_id": None, "topic": k})
    return {
        "generator": {"module": "test_support.zendesk_sample", "function": "build_eval_queries",
                      "n_tickets": n_tickets, "n_articles": n_articles, "seed": seed, "n_orgs": n_orgs},
        "duplicates": duplicates,
        "articles": articles,
        "novel": novel,
    }


_UNSOLVED = ("new", "open", "pending")  # the evaluation set's duplicate statuses (as build_eval_queries)
_EXACT_TERM = re.compile(r"[0-9_]|[A-Z].*[A-Z]|^[A-Z][a-z]+$")  # codes, numbers, CamelCase and proper names


_TICKET_UNIQUE = ("inv", "order", "version", "amount", "records", "seats")  # drawn per ticket, not per topic


def _exact_terms(core: _TicketCore) -> list[str]:
    """The ticket's slot values a customer would type verbatim: error codes, invoice and order numbers,
    versions, vendor and product names (canonical forms that occur in its description). Empty unless
    they identify the case: one value drawn per ticket (an invoice number) or two topic values together."""
    text = core.record["description"]
    chosen = [(name, value) for name, value in sorted(core.slots.items()) if _is_exact_term(name, value, text)]
    terms = list(dict.fromkeys(value for _, value in chosen))[:3]
    unique = any(name in _TICKET_UNIQUE for name, _ in chosen)
    return terms if unique or len(terms) >= 2 else []


_NOT_TERMS = ("first", "last", "job", "org", "when", "num", "month", "deadline")


def _is_exact_term(name: str, value: Any, text: str) -> bool:
    """A canonical slot value ({x}, not {x2}/{X}/{qx}) that occurs in the text and looks like a code or name."""
    canonical = name[:1].islower() and not name.endswith("2") and not name.startswith("q") and name not in _NOT_TERMS
    return canonical and isinstance(value, str) and len(value) >= 3 and value in text and bool(_EXACT_TERM.search(value))


def build_exact_term_queries(n_tickets: int = 300, *, seed: int = 7, n_orgs: int = 8, n_queries: int = 40,
                             n_decoys: int = 20) -> dict[str, Any]:
    """Short, keyword-style cases built from a ticket's exact terms plus its topic's name.

    * ``positives``: terms of an unsolved (new/open/pending) ticket, asked for the same organization:
      ``{"text", "organization_id", "expected_ticket_id", "acceptable_ticket_ids", "topic", "terms"}``;
    * ``decoys``: the same kind of text where the only tickets sharing the terms are in ANOTHER
      organization, or solved/closed in the same one (``"decoy": "other_org" | "solved"``): no duplicate
      is expected (``expected_ticket_id`` None), since the form looks at the organization's unsolved tickets.
    """
    orgs = [_org_info(k) for k in range(n_orgs)]
    rng = random.Random()
    cores = [_make_ticket(rng, seed, i, n_tickets, orgs, False) for i in range(n_tickets)]
    erng = random.Random(_seed_for(seed, _K_EVAL, 1))

    def same_problem(c: _TicketCore, org_id: int) -> list[int]:
        """The org's unsolved tickets about the same problem, or mentioning all of c's exact terms."""
        terms = _exact_terms(c)
        return sorted(o.record["id"] for o in cores if o.org and o.org["id"] == org_id
                      and o.record["status"] in _UNSOLVED
                      and ((o.topic is c.topic and o.problem == c.problem)
                           or all(t in o.record["description"] for t in terms)))

    def text_of(c: _TicketCore, terms: list[str]) -> str:
        return f"{' '.join(terms)} {c.topic['name'].lower()}"

    candidates = [c for c in cores if c.org and _exact_terms(c)]
    erng.shuffle(candidates)
    positives, decoys = [], []
    for c in candidates:
        terms = _exact_terms(c)
        if c.record["status"] in _UNSOLVED and len(positives) < n_queries:
            positives.append({"text": text_of(c, terms), "organization_id": c.org["id"],
                              "expected_ticket_id": c.record["id"], "topic": c.topic["key"], "terms": terms,
                              "acceptable_ticket_ids": same_problem(c, c.org["id"])})
        elif len(decoys) < n_decoys:
            decoy = _decoy(c, orgs, same_problem, erng)
            if decoy is not None:
                decoys.append({"text": text_of(c, terms), "organization_id": decoy[0], "expected_ticket_id": None,
                               "topic": c.topic["key"], "terms": terms, "decoy": decoy[1],
                               "decoy_ticket_id": c.record["id"]})
    return {"generator": {"module": "test_support.zendesk_sample", "function": "build_exact_term_queries",
                          "n_tickets": n_tickets, "seed": seed, "n_orgs": n_orgs},
            "positives": positives, "decoys": decoys}


def _decoy(c: _TicketCore, orgs: list[dict[str, Any]], same_problem: Any, rng: random.Random) -> tuple[int, str] | None:
    """(organization to ask for, kind) so that no unsolved ticket there shares the problem, or None."""
    if c.record["status"] in ("solved", "closed") and not same_problem(c, c.org["id"]):
        return c.org["id"], "solved"
    others = [o["id"] for o in orgs if o["id"] != c.org["id"] and not same_problem(c, o["id"])]
    return (others[int(rng.random() * len(others))], "other_org") if others else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m test_support.zendesk_sample",
                                description="Print deterministic Zendesk sample Airbyte messages as JSON lines.")
    p.add_argument("--tickets", type=int, default=300)
    p.add_argument("--articles", type=int, default=40)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--orgs", type=int, default=8)
    p.add_argument("--mode", choices=MODES, default="initial")
    p.add_argument("--state-every", type=int, default=100, help="STATE every K records per stream (0: only at end)")
    p.add_argument("--raw-types", action="store_true",
                   help="custom field values in API types (bool/number/list) instead of normalized strings")
    p.add_argument("--catalog", action="store_true", help="print the configured catalog instead")
    p.add_argument("--sync-mode", default="append_dedup", help="destination_sync_mode for --catalog")
    p.add_argument("--eval-queries", action="store_true", help="print the evaluation query set instead")
    a = p.parse_args(argv)
    out = sys.stdout
    if a.catalog:
        out.write(json.dumps(configured_catalog(a.sync_mode), indent=2) + "\n")
        return 0
    if a.eval_queries:
        out.write(json.dumps(build_eval_queries(a.tickets, a.articles, seed=a.seed, n_orgs=a.orgs), indent=2,
                             ensure_ascii=False) + "\n")
        return 0
    buf = []
    write = sys.stdout.buffer.write if hasattr(sys.stdout, "buffer") else None
    for msg in generate_messages(a.tickets, a.articles, seed=a.seed, n_orgs=a.orgs, state_every=a.state_every,
                                 mode=a.mode, raw_types=a.raw_types):
        buf.append(dumps(msg))
        if len(buf) >= 512:
            chunk = "\n".join(buf) + "\n"
            write(chunk.encode("utf-8")) if write else out.write(chunk)
            buf.clear()
    if buf:
        chunk = "\n".join(buf) + "\n"
        write(chunk.encode("utf-8")) if write else out.write(chunk)
    out.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into `head`
        sys.exit(0)
