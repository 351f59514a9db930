"""PynamoDB models and the access patterns they serve (each module's docstring lists them)."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.models.api_keys import ApiKeyCount, ApiKeyCredential, ApiKeyEntry
from chalicelib.models.audit import AuditEntry
from chalicelib.models.blocked_hashes import BlockedHash
from chalicelib.models.connections import LiveConnection
from chalicelib.models.consents import ConsentEvidence, ConsentRecord, ConsentTombstone
from chalicelib.models.exports import Export
from chalicelib.models.fingerprints import FingerprintBand
from chalicelib.models.gallery import GalleryEntry
from chalicelib.models.generations import Generation
from chalicelib.models.idempotency import IdempotencyRecord
from chalicelib.models.names import NameClaim
from chalicelib.models.notices import Notice, NoticeContact
from chalicelib.models.queue_counters import QueueCounter
from chalicelib.models.quota import QuotaSlot
from chalicelib.models.report_days import ReportDay
from chalicelib.models.reports import Report
from chalicelib.models.statements import Statement
from chalicelib.models.terms import TermsDocument, TermsPointer
from chalicelib.models.uploads import Upload
from chalicelib.models.users import UserProfile
from chalicelib.models.webhooks import Webhook, WebhookDelivery

# One entry per DynamoDB table, the model that owns its key schema. The local stack creates
# exactly these, and the infrastructure code declares the same names.
TABLE_MODELS: tuple[type[Model], ...] = (
    UserProfile,
    TermsDocument,
    ConsentRecord,
    ConsentEvidence,
    Generation,
    GalleryEntry,
    IdempotencyRecord,
    Report,
    AuditEntry,
    Export,
    QuotaSlot,
    Statement,
    Notice,
    NoticeContact,
    ReportDay,
    FingerprintBand,
    NameClaim,
    Webhook,
    QueueCounter,
    ApiKeyCredential,
    LiveConnection,
    BlockedHash,
    Upload,
)

__all__ = [
    "TABLE_MODELS",
    "ApiKeyCount",
    "ApiKeyCredential",
    "ApiKeyEntry",
    "AuditEntry",
    "BlockedHash",
    "ConsentEvidence",
    "ConsentRecord",
    "ConsentTombstone",
    "Export",
    "FingerprintBand",
    "GalleryEntry",
    "Generation",
    "IdempotencyRecord",
    "LiveConnection",
    "NameClaim",
    "Notice",
    "NoticeContact",
    "QueueCounter",
    "QuotaSlot",
    "Report",
    "ReportDay",
    "Statement",
    "TermsDocument",
    "TermsPointer",
    "Upload",
    "UserProfile",
    "Webhook",
    "WebhookDelivery",
]
