"""Policy sources (RSS/Atom, JSON, local folder, `policy add`) and the policy store: 送政策.

The policies feature's service is the library (`services.service(PolicyLibrary)`: its
`store` — `candidates`, `search`, `recent`, `get` — its settings, tagger and sources);
`ingest_all(app)` / `ingest_job` run every source once.
"""

from policy_feeds.ingest import IngestReport, SourceReport, ingest_all, ingest_job
from policy_feeds.library import PolicyLibrary, build_sources
from policy_feeds.model import FeedState, FetchResult, Item, Policy, Source, Status
from policy_feeds.store import Outcome, PolicyStore, Stored
from policy_feeds.tagging import Tagger

__all__ = [
    "FeedState",
    "FetchResult",
    "IngestReport",
    "Item",
    "Outcome",
    "Policy",
    "PolicyLibrary",
    "PolicyStore",
    "Source",
    "SourceReport",
    "Status",
    "Stored",
    "Tagger",
    "build_sources",
    "ingest_all",
    "ingest_job",
]
