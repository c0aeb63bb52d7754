"""Deterministic text for files the simulator did not receive bytes for."""

from __future__ import annotations

import hashlib
import random
from functools import lru_cache

TOPICS: dict[str, list[str]] = {
    "support": [
        "To reset your password, open Settings and choose Security, then Reset password.",
        "Refunds are issued to the original payment method within five business days.",
        "Our return policy allows returns within 30 days of delivery for unused items.",
        "Support is available around the clock by chat and by email.",
        "If the invoice total looks wrong, check the billing period and any prorated charges.",
        "Shipping to Canada and Mexico takes between four and seven business days.",
    ],
    "engineering": [
        "The deployment pipeline runs unit tests, builds the container image and promotes it.",
        "Every service exposes a health endpoint that the load balancer polls every ten seconds.",
        "Database migrations must be backwards compatible for one release.",
        "On-call engineers acknowledge pages within fifteen minutes.",
        "Feature flags are evaluated at the edge and cached for sixty seconds.",
        "Rate limits are applied per organization and per project.",
    ],
    "legal": [
        "This agreement is governed by the laws of the State of Delaware.",
        "Either party may terminate the agreement with thirty days written notice.",
        "The supplier shall indemnify the customer against third party claims.",
        "Confidential information excludes information that is publicly available.",
        "Personal data is processed only on documented instructions from the controller.",
        "Liability is capped at the fees paid in the twelve months before the claim.",
    ],
    "research": [
        "Retrieval augmented generation grounds model answers in retrieved passages.",
        "Chunk overlap improves recall when answers span chunk boundaries.",
        "Dense retrieval outperforms keyword search on paraphrased questions.",
        "Re-ranking the top fifty candidates improves precision at five.",
        "Evaluation uses exact match and an answer relevance score judged by a model.",
        "Embedding drift after a model upgrade requires re-indexing the corpus.",
    ],
    "sales": [
        "The enterprise plan includes single sign-on, audit logs and a dedicated manager.",
        "Annual contracts receive a fifteen percent discount over monthly billing.",
        "The pricing page lists usage tiers for storage and for requests.",
        "Customers in healthcare need a business associate agreement before onboarding.",
        "Quarterly business reviews cover adoption, support tickets and the roadmap.",
        "Discounts above twenty percent need approval from the regional director.",
    ],
}
TOPIC_NAMES = tuple(TOPICS)


def _rng(key: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))


def topic_for(key: str) -> str:
    return TOPIC_NAMES[_rng("topic:" + key).randrange(len(TOPIC_NAMES))]


@lru_cache(maxsize=4096)
def generated_text(file_id: str, filename: str, size: int) -> str:
    """Plausible prose for a file, the same every time for the same file."""
    rng = _rng(file_id)
    topic = topic_for(filename or file_id)
    sentences = TOPICS[topic]
    target = max(200, min(size, 24_000))
    title = filename.rsplit(".", 1)[0].replace("-", " ").replace("_", " ").strip() or file_id
    parts = [title.capitalize() + "\n"]
    length = len(parts[0])
    section = 1
    while length < target:
        paragraph = " ".join(rng.choice(sentences) for _ in range(rng.randint(3, 6)))
        if rng.random() < 0.2:
            heading = f"\nSection {section}\n"
            section += 1
            parts.append(heading)
            length += len(heading)
        parts.append(paragraph + "\n")
        length += len(paragraph) + 1
    return "".join(parts)
