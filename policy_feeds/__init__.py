"""Policy sources (RSS/Atom, JSON, local folder, `policy add`) and the policy store: 送政策.

For the broadcast side: `PolicyStore(app.db)` (`candidates`, `search`, `recent`, `get`)
and `ingest_all(app)` / `ingest_job` to run every source once.
"""

from policy_feeds.ingest import IngestReport, SourceReport, build_sources, ingest_all, ingest_job
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
