"""Accounts to start the simulator with: ``demo``, ``empty`` and ``large``."""

from __future__ import annotations

import random
from collections.abc import Callable

from .account import Account
from .clock import Clock
from .entities import DAY, SimFile, Store

# name, env, team, files, expired, days-since-last-active, expiry days
_DEMO_STORES: list[tuple[str, str, str, int, bool, float, int | None]] = [
    ("support-faq", "prod", "support", 14, False, 0.2, None),
    ("Product docs (prod)", "prod", "docs", 22, False, 0.05, None),
    ("legal-contracts-2025", "prod", "legal", 9, False, 3, None),
    ("eng-handbook", "prod", "platform", 17, False, 1, None),
    ("customer-tickets-q3", "prod", "support", 25, False, 6, 30),
    ("sales-enablement", "prod", "sales", 11, False, 2, None),
    ("hr-policies", "prod", "people", 6, False, 12, None),
    ("research-papers", "dev", "research", 19, False, 4, 60),
    ("api-reference-v2", "prod", "docs", 13, False, 0.5, None),
    ("onboarding-kb", "prod", "people", 8, False, 9, None),
    ("pricing-pages", "staging", "sales", 5, False, 1.5, 14),
    ("release-notes", "prod", "docs", 12, False, 0.8, None),
    ("incident-postmortems", "prod", "platform", 10, False, 20, None),
    ("security-whitepapers", "prod", "security", 7, False, 30, None),
    ("marketing-copy", "staging", "marketing", 9, False, 5, 30),
    ("changelog-archive", "prod", "docs", 16, False, 45, None),
    ("partner-integrations", "prod", "platform", 6, False, 2.5, None),
    ("eval-golden-set", "dev", "research", 4, False, 0.3, 7),
    ("contracts-redlines", "dev", "legal", 3, False, 1, 3),
    ("kb-migration-test", "dev", "support", 5, False, 2, 2),
    ("ingest-2026-11", "prod", "platform", 0, False, 0.0, None),
    ("pdf-manuals", "prod", "docs", 0, False, 0.0, None),
    ("tickets-backfill", "staging", "support", 0, False, 0.0, 30),
    ("tmp-eval-run-0412", "dev", "research", 6, True, 12, 1),
    ("tmp-eval-run-0419", "dev", "research", 5, True, 9, 1),
    ("staging-support-faq", "staging", "support", 8, True, 40, 7),
    ("demo-customer-acme", "dev", "sales", 4, True, 21, 7),
    ("hackweek-chatbot", "dev", "platform", 7, True, 60, 14),
    ("old-docs-snapshot-2024", "prod", "docs", 12, True, 120, 30),
    ("qa-regression-corpus", "staging", "platform", 6, True, 15, 3),
    ("scratch", "dev", "platform", 2, True, 33, 1),
    ("", "dev", "research", 1, False, 70, None),
]

_OWNERS = ["maria", "dev-bot", "li.wei", "jsmith", "priya", "ops", "tomasz"]
_SOURCES = ["confluence", "gdrive", "s3", "zendesk", "github", "notion"]
_STEMS = {
    "support": ["refund-policy", "shipping-faq", "password-reset", "billing-guide", "sla"],
    "docs": ["getting-started", "api-overview", "authentication", "webhooks", "errors"],
    "legal": ["msa-template", "dpa", "nda-mutual", "terms-of-service", "privacy-policy"],
    "platform": ["runbook", "deploy-guide", "oncall", "architecture", "slo-report"],
    "sales": ["pricing-2026", "battlecard", "case-study", "proposal-template", "roi-calculator"],
    "people": ["benefits", "pto-policy", "handbook", "code-of-conduct", "expenses"],
    "research": ["rag-survey", "chunking-ablation", "reranker-eval", "embedding-drift", "notes"],
    "security": ["soc2-summary", "pentest-2025", "encryption", "incident-response", "vendors"],
    "marketing": ["brand-voice", "launch-plan", "newsletter", "landing-copy", "press-kit"],
}
_EXTENSIONS = [("pdf", 0.45), ("md", 0.2), ("docx", 0.15), ("txt", 0.1), ("html", 0.1)]


def _ext(rng: random.Random) -> str:
    roll, acc = rng.random(), 0.0
    for ext, weight in _EXTENSIONS:
        acc += weight
        if roll < acc:
            return ext
    return "pdf"


def _size(rng: random.Random, ext: str) -> int:
    if ext == "pdf":
        return int(rng.lognormvariate(13.2, 0.9))
    if ext == "docx":
        return int(rng.lognormvariate(11.5, 0.7))
    return int(rng.lognormvariate(9.5, 0.8))


def _new_file(account: Account, rng: random.Random, team: str, created: int) -> SimFile:
    ext = _ext(rng)
    stem = rng.choice(_STEMS[team])
    name = f"{stem}-{rng.randint(1, 99):02d}.{ext}"
    return account.add_file(name, _size(rng, ext), created_at=created)


def build_demo(account: Account) -> None:
    """A believable account: live and expired stores, failures, shared files, batches."""
    rng = random.Random(account.seed)
    now = int(account.now())
    shared: list[SimFile] = []
    by_name: dict[str, Store] = {}
    for i, (name, env, team, count, expired, idle_days, expiry) in enumerate(_DEMO_STORES):
        age = int((400 - i * 9) * DAY * (0.6 + 0.4 * rng.random()))
        created = now - age
        last_active = max(created, now - int(idle_days * DAY))
        metadata = {"env": env, "team": team, "owner": rng.choice(_OWNERS)}
        if rng.random() < 0.6:
            metadata["source"] = rng.choice(_SOURCES)
        if expired and expiry is not None:
            # Expired a while ago: the last activity is older than the policy allows.
            last_active = min(last_active, now - expiry * DAY - int(rng.uniform(1, 5) * DAY))
            last_active = max(last_active, created)
            if last_active + expiry * DAY > now:
                created = now - (expiry + 10) * DAY
                last_active = created
        store = account.create_store(
            name=name,
            metadata=metadata,
            expires_after={"anchor": "last_active_at", "days": expiry} if expiry else None,
            created_at=created,
            last_active_at=last_active,
            description=(
                f"{team.capitalize()} knowledge base ({env})" if rng.random() < 0.5 else None
            ),
        )
        by_name[name] = store
        for j in range(count):
            file_created = created + int(rng.uniform(0, max(1, last_active - created)))
            if shared and rng.random() < 0.12:
                sim_file = rng.choice(shared)
            else:
                sim_file = _new_file(account, rng, team, file_created)
                if rng.random() < 0.15:
                    shared.append(sim_file)
            outcome: tuple[str, tuple[str, str] | None] = ("completed", None)
            if j == 0 and i % 5 == 2:
                outcome = (
                    "failed",
                    ("server_error", "An internal error occurred while processing the file."),
                )
            attributes = {"team": team, "version": rng.randint(1, 5)}
            if rng.random() < 0.3:
                attributes["public"] = rng.random() < 0.5
            account.attach(
                store,
                sim_file,
                attributes=attributes,
                ready_at=file_created + rng.uniform(5, 120),
                outcome=outcome,
                created_at=file_created,
            )
    _demo_failures(account, by_name, now)
    _demo_shared(account, by_name, rng)
    _demo_orphans(account, rng, now)
    _demo_batches(account, by_name, rng)


def _demo_failures(account: Account, stores: dict[str, Store], now: int) -> None:
    """Files that fail the way real uploads do."""
    target = stores["customer-tickets-q3"]
    for name, size in (("export.zip", 4_500_000), ("dump.bin", 90_000), ("empty-notes.txt", 0)):
        sim_file = account.add_file(name, size, created_at=now - 6 * DAY)
        plan = account._plan(sim_file, now - 6 * DAY)
        account.attach(
            target,
            sim_file,
            ready_at=plan[0],
            outcome=(plan[1], plan[2]),
            created_at=now - 6 * DAY,
        )


def _demo_shared(account: Account, stores: dict[str, Store], rng: random.Random) -> None:
    """Files shared between an expired and a live store, and files only expired stores hold.

    Two big crawls make the storage bill (and the clean-up's saving) worth looking at.
    """
    expired = stores["old-docs-snapshot-2024"]
    live = stores["Product docs (prod)"]
    for store, name, size in (
        (expired, "docs-site-crawl-2024.html", 880_000_000),
        (live, "product-catalog-2026.csv", 610_000_000),
    ):
        crawl = account.add_file(name, size, created_at=store.created_at + 3_600)
        account.attach(
            store,
            crawl,
            ready_at=store.created_at + 4_000,
            outcome=("completed", None),
            created_at=store.created_at + 3_600,
        )
    for attachment in list(expired.files.values())[:3]:
        account.attach(
            live,
            attachment.file,
            ready_at=attachment.ready_at,
            outcome=("completed", None),
            created_at=attachment.created_at,
        )


def _demo_orphans(account: Account, rng: random.Random, now: int) -> None:
    """Uploaded but never attached (or left behind when a store was deleted)."""
    for name in ("draft-faq-v0.md", "old-pricing.pdf", "meeting-notes-0309.txt"):
        account.add_file(name, int(rng.uniform(2_000, 300_000)), created_at=now - 50 * DAY)
    for name, purpose in (("train-0913.jsonl", "fine-tune"), ("batch-input.jsonl", "batch")):
        account.add_file(name, int(rng.uniform(50_000, 900_000)), purpose=purpose)


def _demo_batches(account: Account, stores: dict[str, Store], rng: random.Random) -> None:
    """Three batches still ingesting that finish over the next few minutes."""
    now = int(account.now())
    plans = [
        ("ingest-2026-11", "platform", 40, (15, 150), False),
        ("pdf-manuals", "docs", 12, (40, 240), False),
        ("tickets-backfill", "support", 24, (10, 100), True),
    ]
    for name, team, count, (low, high), with_failures in plans:
        store = stores[name]
        entries = []
        durations = []
        for k in range(count):
            sim_file = _new_file(account, rng, team, now - 30)
            if with_failures and k % 8 == 5:
                sim_file.filename = sim_file.filename.rsplit(".", 1)[0] + ".zip"
            entries.append((sim_file, {"team": team}, None))
            durations.append(rng.uniform(low, high))
        account.new_batch(store, entries, durations=durations)


def build_large(account: Account, stores: int = 10_000, files: int = 10_000) -> None:
    """10,000 stores, one of which holds 10,000 files: for load and responsiveness."""
    rng = random.Random(account.seed)
    now = int(account.now())
    teams = list(_STEMS)
    big: Store | None = None
    for i in range(stores):
        team = teams[i % len(teams)]
        created = now - (stores - i) * 600
        expiry = 7 if i % 23 == 0 else None
        last_active = created if expiry else now - rng.randint(0, 90) * DAY
        store = account.create_store(
            name=f"{team}-{rng.choice(_STEMS[team])}-{i:05d}",
            metadata={"team": team, "shard": str(i % 16)},
            expires_after={"anchor": "last_active_at", "days": expiry} if expiry else None,
            created_at=created,
            last_active_at=max(created, last_active),
        )
        if i == stores // 2:
            big = store
        elif i % 7 == 0:
            sim_file = account.add_file(f"doc-{i:05d}.pdf", 40_000 + i, created_at=created)
            account.attach(
                store,
                sim_file,
                ready_at=created + 30,
                outcome=("completed", None),
                created_at=created,
            )
    assert big is not None
    big.name = "corpus-all-documents"
    for k in range(files):
        created = big.created_at + k
        sim_file = account.add_file(
            f"chunk-{k:05d}.md", 2_000 + (k * 37) % 9_000, created_at=created
        )
        outcome: tuple[str, tuple[str, str] | None] = ("completed", None)
        if k % 97 == 0:
            outcome = ("failed", ("invalid_file", "The file could not be parsed."))
        account.attach(big, sim_file, ready_at=created + 10, outcome=outcome, created_at=created)


def build_huge(account: Account) -> None:
    """100,000 stores (the ``large`` shape, ten times over): for streaming benchmarks."""
    build_large(account, stores=100_000, files=1_000)


def build_empty(account: Account) -> None:
    """Nothing at all."""


SCENARIOS: dict[str, Callable[[Account], None]] = {
    "demo": build_demo,
    "empty": build_empty,
    "large": build_large,
    "huge": build_huge,
}


def make_account(
    scenario: str,
    clock: Clock,
    *,
    seed: int = 0,
    auto_create: bool = False,
    file_failure_rate: float = 0.0,
    flavor: str = "openai",
) -> Account:
    """A fresh account holding ``scenario``; ``flavor`` (``openai``, ``llama-stack``)
    is the kind of server it behaves like (:mod:`.flavors`)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    account = Account(
        clock,
        seed=seed,
        auto_create=auto_create,
        file_failure_rate=file_failure_rate,
        flavor=flavor,
    )
    SCENARIOS[scenario](account)
    return account
