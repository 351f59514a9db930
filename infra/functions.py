"""The Chalice app's Lambda functions: size, timeout, and exactly what each one's code does in AWS.

Chalice puts every route in one function (`api_handler`) and each event handler in its own.
Each gets a role of its own whose policy lists the actions its code path calls, on the tables,
object prefixes, queue and endpoint it touches (read from the services it reaches; tests/infra
holds the expected policies). A handler added in app.py without an entry here stops the synth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from chalice.utils import to_cfn_resource_name

from chalicelib import resources
from chalicelib.settings import Settings

API_HANDLER = "api_handler"
GET, PUT, UPDATE, DELETE, QUERY = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
)
BATCH_GET, BATCH_WRITE = "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"
# A transaction's ConditionCheck of an item it does not write.
CONDITION_CHECK = "dynamodb:ConditionCheckItem"
SEND = ("sqs:SendMessage", "sqs:GetQueueUrl")
# Layers: what every function imports, and the content credentials' and detection's native
# libraries, only where a function publishes or checks (layers/README.md).
LAYERS = ("runtime", "imaging")
PROVENANCE_LAYERS = (*LAYERS, "provenance")
# What a Lambda SQS event source needs of its function's role.
CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
# What a Lambda DynamoDB stream source needs of its function's role, on the stream; ListStreams
# has no resource in IAM.
READ_STREAM = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
LIST_STREAMS = "dynamodb:ListStreams"


@dataclass(frozen=True)
class TableAccess:
    table: str  # the settings field naming it
    actions: tuple[str, ...] = ()
    query_indexes: tuple[str, ...] = ()  # GSIs it queries


@dataclass(frozen=True)
class ObjectAccess:
    bucket: str  # the settings field naming it
    prefix: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # Chalice's name for the function
    timeout: int  # seconds
    memory: int  # MB
    queue: str | None = None  # the settings field of the queue it consumes
    stream: str | None = None  # the settings field of the table whose stream it reads
    tables: tuple[TableAccess, ...] = ()
    objects: tuple[ObjectAccess, ...] = ()
    invokes_endpoint: bool = False
    detects_moderation_labels: bool = False
    reads_secrets: bool = False
    # Sends to open WebSocket connections (POST @connections/{id} on the WebSocket API's stage).
    manages_connections: bool = False
    flags: tuple[str, ...] = ()  # SSM actions on the service switches
    sends: tuple[str, ...] = ()  # the settings fields of the queues it sends to
    # Hides a message of its own queue for a backoff before its next try (webhook retries).
    delays_retries: bool = False
    # Cognito admin calls on the user pool: finding an account by its sub, then reading its
    # groups (the API, to know a restriction's target's role) or deleting it (erasure).
    user_pool: tuple[str, ...] = ()
    # Publishes images, so signs their C2PA manifests: kms:Sign with the content credentials'
    # key and reads its certificate chain (never the key's public half: operators' CLI only).
    signs_credentials: bool = False
    layers: tuple[str, ...] = field(default=LAYERS)
    # Concurrent executions set aside for (and the most allowed to) a background function, so
    # a burst of events cannot take the account's concurrency from the API (None: the API,
    # which draws on what is left). An SQS source polls with as many at most.
    reserved_concurrency: int | None = None

    @property
    def logical_id(self) -> str:
        """The function's resource in Chalice's SAM template."""
        return "APIHandler" if self.name == API_HANDLER else to_cfn_resource_name(self.name)


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        API_HANDLER,
        # API Gateway gives up after 29 s; end first, so the failure is logged as ours.
        timeout=28,
        memory=1024,
        tables=(
            # The profile with the erasure marker (one BatchGetItem), consent, quota,
            # restrictions, the erasure marker itself; a new API key's and an approval's
            # transactions check the owner's standing (ConditionCheck).
            TableAccess("users_table", (GET, BATCH_GET, PUT, UPDATE, CONDITION_CHECK)),
            TableAccess("terms_table", (GET, PUT)),
            TableAccess("consents_table", (PUT,)),
            TableAccess("consent_evidence_table", (PUT,)),
            TableAccess(
                "generations_table",
                (GET, PUT, UPDATE),
                query_indexes=("by_owner", "review_queue"),
            ),
            # A rename rewrites the creator's entries (creator page and feed) with the name.
            TableAccess("gallery_table", (QUERY, PUT, UPDATE, DELETE)),
            # A display name's claim, taken and released in the rename's transaction.
            TableAccess("names_table", (GET, PUT, DELETE)),
            # An Idempotency-Key's claim, in the submit's transaction; read when refused.
            TableAccess("idempotency_table", (GET, PUT)),
            TableAccess("reports_table", (PUT,)),
            TableAccess("audit_table", (PUT, BATCH_WRITE, QUERY)),
            # An export and the user's one place in progress, in one transaction; both go
            # again if the message that starts the work was not sent.
            TableAccess("exports_table", (GET, PUT, DELETE)),
            # A submit claims a quota slot in its transaction; a lost claim reads the slots.
            TableAccess("quota_table", (UPDATE, QUERY)),
            # Statements of reasons with moderators' decisions; the user's page; appeals.
            TableAccess(
                "statements_table",
                (GET, PUT, UPDATE),
                query_indexes=("by_subject", "open_appeals"),
            ),
            # Notices from anyone; a queue page reads its items' open notices in one batch; a
            # decision answers them and shortens the contact's life.
            TableAccess(
                "notices_table", (GET, BATCH_GET, PUT, UPDATE), query_indexes=("by_image",)
            ),
            TableAccess("notice_contacts_table", (PUT, UPDATE)),
            # The transparency report's day counters: added to with each decision, appeal and
            # notice, in its transaction; the report reads its period's in batches.
            TableAccess("report_days_table", (BATCH_GET, UPDATE)),
            # POST /provenance/check: a fingerprint's 16 band partitions, queried at once.
            TableAccess("fingerprints_table", (QUERY,)),
            # A removal blocks the image's PDQ hash for uploads (16 items in one batch); a
            # reversed decision deletes them again.
            TableAccess("blocked_hashes_table", (BATCH_WRITE,)),
            # PUT, GET and DELETE /me/webhook: the hook, its deliveries (one Query), deleted
            # in batches.
            TableAccess("webhooks_table", (GET, PUT, QUERY, BATCH_WRITE)),
            # A queued generation's place: the endpoint's counters in one batch.
            TableAccess("queue_counters_table", (BATCH_GET,)),
            # Personal API keys: one GetItem per request with a key and its last use noted
            # (UpdateItem); made and revoked in a transaction with the count (Put, Delete,
            # Update), whose ConditionCheck of the owner's standing is on the users table;
            # the owner's list is a Query and one BatchGetItem.
            TableAccess("api_keys_table", (GET, PUT, UPDATE, DELETE, QUERY, BATCH_GET)),
            # POST /uploads records a pending upload (in the transaction that takes a unit of the
            # upload quota); GET reads it; a generation made from it marks it used.
            TableAccess("uploads_table", (GET, PUT, UPDATE)),
        ),
        objects=(
            # A keyed submit writes its payload only if it is not there, else reads its metadata;
            # it deletes its own payload when the key turns out to be another body's.
            ObjectAccess(
                "inputs_bucket",
                resources.INPUT_PREFIX,
                ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"),
            ),
            # Download links of published copies; deletion; approval writes the copies.
            ObjectAccess(
                "public_bucket",
                resources.PUBLIC_PREFIX,
                ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
            ),
            # Review links of the private originals; approval reads the original.
            ObjectAccess("originals_bucket", resources.OUTPUT_PREFIX, ("s3:GetObject",)),
            # Links to finished exports.
            ObjectAccess("exports_bucket", resources.EXPORT_PREFIX, ("s3:GetObject",)),
            # The presigned POST of an upload is signed with this role: its policy allows one
            # object under incoming/ (the key, type and size it fixes), nothing else.
            ObjectAccess("uploads_bucket", resources.UPLOAD_PREFIX, ("s3:PutObject",)),
            # A generation reads its upload's clean copy and keeps it from expiring (its tag
            # goes); a moderator's audited link to it.
            ObjectAccess(
                "uploads_bucket",
                resources.CLEAN_UPLOAD_PREFIX,
                ("s3:GetObject", "s3:DeleteObjectTagging"),
            ),
            # A moderator's audited link to a rejected upload's evidence.
            ObjectAccess(
                "uploads_bucket",
                resources.quarantine_key(resources.UPLOAD_PREFIX),
                ("s3:GetObject",),
            ),
        ),
        invokes_endpoint=True,
        reads_secrets=True,
        # The service switches: read on requests, written by operators (PUT /admin/flags).
        flags=("ssm:GetParameter", "ssm:PutParameter"),
        sends=("exports_queue", "erasures_queue"),
        user_pool=("cognito-idp:ListUsers", "cognito-idp:AdminListGroupsForUser"),
        # An approval, a reversed removal or a lifted ban publishes; the check reads manifests.
        signs_credentials=True,
        layers=PROVENANCE_LAYERS,
    ),
    FunctionSpec(
        "on_inference_result",
        timeout=30,
        memory=256,
        reserved_concurrency=10,  # notifications follow the model's few instances
        queue="results_queue",
        tables=(TableAccess("generations_table", (UPDATE,)),),
    ),
    FunctionSpec(
        "on_output_created",
        # Up to five images per batch, each decoded, scanned and re-encoded three times.
        timeout=120,
        memory=1769,  # one full vCPU
        reserved_concurrency=10,  # scans follow the model's output
        queue="scan_queue",
        tables=(
            TableAccess("generations_table", (GET, UPDATE)),
            # A strike with a rejection; the strike policy reads the profile and may suspend.
            # A published image's entries carry the creator's display name (GetItem); the
            # publish's transaction checks the creator's standing (ConditionCheck).
            TableAccess("users_table", (GET, BATCH_GET, UPDATE, CONDITION_CHECK)),
            TableAccess("gallery_table", (PUT,)),
            TableAccess("audit_table", (PUT,)),
            # The statement of reasons of a rejection, and of the suspension it may cause,
            # each counted in the transparency report's day counters.
            TableAccess("statements_table", (PUT,)),
            TableAccess("report_days_table", (UPDATE,)),
            # Every valid output's fingerprint, 16 band items in one batch, whatever the scan
            # decides.
            TableAccess("fingerprints_table", (BATCH_WRITE,)),
            # A rejected output's PDQ hash is blocked for uploads: 16 items in one batch.
            TableAccess("blocked_hashes_table", (BATCH_WRITE,)),
        ),
        objects=(
            ObjectAccess(
                "originals_bucket", resources.OUTPUT_PREFIX, ("s3:GetObject", "s3:DeleteObject")
            ),
            ObjectAccess("originals_bucket", resources.QUARANTINE_PREFIX, ("s3:PutObject",)),
            ObjectAccess("public_bucket", resources.PUBLIC_PREFIX, ("s3:PutObject",)),
        ),
        detects_moderation_labels=True,
        # A clean output is published at once.
        signs_credentials=True,
        layers=PROVENANCE_LAYERS,
    ),
    FunctionSpec(
        "on_upload_created",
        # Up to five uploads per batch, each verified, re-encoded, hashed and scanned.
        timeout=120,
        memory=1769,  # one full vCPU
        reserved_concurrency=5,  # uploads follow users' POSTs, at most 20 an hour each
        queue="upload_scan_queue",
        tables=(
            TableAccess("uploads_table", (GET, UPDATE)),
            # A rejection's strike; the strike policy reads the profile and may suspend.
            TableAccess("users_table", (GET, BATCH_GET, UPDATE)),
            TableAccess("audit_table", (PUT,)),
            # The statement of reasons of a rejection, and of the suspension it may cause,
            # each counted in the transparency report's day counters.
            TableAccess("statements_table", (PUT,)),
            TableAccess("report_days_table", (UPDATE,)),
            # The blocked hash lists' look-up: the bands' partitions (Queries).
            TableAccess("blocked_hashes_table", (QUERY,)),
        ),
        objects=(
            # HEAD and GET the posted original; CopyObject's source; deleted once decided.
            ObjectAccess(
                "uploads_bucket", resources.UPLOAD_PREFIX, ("s3:GetObject", "s3:DeleteObject")
            ),
            # The clean PNG, tagged for the bucket's expiry rule (deleted again when the
            # upload was decided meanwhile).
            ObjectAccess(
                "uploads_bucket",
                resources.CLEAN_UPLOAD_PREFIX,
                ("s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject"),
            ),
            # A rejected original kept as evidence.
            ObjectAccess(
                "uploads_bucket",
                resources.quarantine_key(resources.UPLOAD_PREFIX),
                ("s3:PutObject", "s3:DeleteObject"),
            ),
        ),
        detects_moderation_labels=True,
        layers=PROVENANCE_LAYERS,  # pdqhash
    ),
    FunctionSpec(
        "sweep_stale_generations",
        timeout=60,
        memory=256,
        reserved_concurrency=1,  # one sweep at a time
        # Starts again what the model never took (InvokeEndpointAsync), fails what is stuck.
        tables=(TableAccess("generations_table", (GET, UPDATE), query_indexes=("open_work",)),),
        invokes_endpoint=True,
    ),
    FunctionSpec(
        "on_export_requested",
        timeout=300,
        memory=1024,
        reserved_concurrency=5,  # a few users' archives at once; the rest wait in the queue
        queue="exports_queue",
        tables=(
            # Ready, and the user's place in progress freed, in one transaction.
            TableAccess("exports_table", (GET, UPDATE, DELETE)),
            TableAccess("users_table", (BATCH_GET,)),
            TableAccess("consents_table", (QUERY,)),
            TableAccess("consent_evidence_table", (QUERY,)),
            TableAccess("generations_table", (), query_indexes=("by_owner",)),
            TableAccess("reports_table", (), query_indexes=("by_reporter",)),
            TableAccess("audit_table", (), query_indexes=("by_target",)),
            TableAccess("quota_table", (QUERY,)),
            TableAccess("statements_table", (), query_indexes=("by_subject",)),
            # The webhook's URL and deliveries; a queued generation's place.
            TableAccess("webhooks_table", (GET, QUERY)),
            TableAccess("queue_counters_table", (BATCH_GET,)),
            # The user's API keys (a Query) and their last uses (one BatchGetItem).
            TableAccess("api_keys_table", (QUERY, BATCH_GET)),
            # The user's uploads, and the clean copies of the ready ones.
            TableAccess("uploads_table", (), query_indexes=("owner_index",)),
        ),
        objects=(
            ObjectAccess("originals_bucket", resources.OUTPUT_PREFIX, ("s3:GetObject",)),
            ObjectAccess("uploads_bucket", resources.CLEAN_UPLOAD_PREFIX, ("s3:GetObject",)),
            # The archive is streamed as a multipart upload (PutObject covers its parts); a
            # failed one is aborted.
            ObjectAccess(
                "exports_bucket",
                resources.EXPORT_PREFIX,
                ("s3:PutObject", "s3:AbortMultipartUpload"),
            ),
        ),
    ),
    FunctionSpec(
        "on_erasure_requested",
        timeout=300,
        memory=512,
        reserved_concurrency=5,
        queue="erasures_queue",
        tables=(
            # The display name leaves the profile before the profile goes; its claim is freed.
            TableAccess("users_table", (GET, UPDATE, DELETE)),
            TableAccess("names_table", (DELETE,)),
            TableAccess("generations_table", (UPDATE, DELETE), query_indexes=("by_owner",)),
            TableAccess("gallery_table", (DELETE,)),
            TableAccess("reports_table", (QUERY, BATCH_WRITE), query_indexes=("by_reporter",)),
            TableAccess("consents_table", (QUERY, PUT, DELETE)),
            TableAccess("consent_evidence_table", (QUERY, BATCH_WRITE)),
            TableAccess("audit_table", (PUT,), query_indexes=("by_target", "by_actor")),
            TableAccess("exports_table", (QUERY, DELETE)),
            TableAccess("quota_table", (QUERY, BATCH_WRITE)),
            TableAccess("statements_table", (PUT,), query_indexes=("by_subject",)),
            TableAccess("webhooks_table", (QUERY, BATCH_WRITE)),  # the hook and its deliveries
            # Every key of the user: its entries, credentials and count, found by one Query.
            TableAccess("api_keys_table", (QUERY, BATCH_WRITE)),
            TableAccess("connections_table", (QUERY, BATCH_WRITE)),  # open WebSockets
            # Every upload of the user, found on its owner index, deleted after its objects.
            TableAccess("uploads_table", (DELETE,), query_indexes=("owner_index",)),
        ),
        objects=(
            ObjectAccess("inputs_bucket", resources.INPUT_PREFIX, ("s3:DeleteObject",)),
            ObjectAccess("originals_bucket", resources.OUTPUT_PREFIX, ("s3:DeleteObject",)),
            ObjectAccess("originals_bucket", resources.QUARANTINE_PREFIX, ("s3:DeleteObject",)),
            ObjectAccess("originals_bucket", resources.FAILURE_PREFIX, ("s3:DeleteObject",)),
            ObjectAccess("public_bucket", resources.PUBLIC_PREFIX, ("s3:DeleteObject",)),
            ObjectAccess("exports_bucket", resources.EXPORT_PREFIX, ("s3:DeleteObject",)),
            # Every object of each upload: posted, clean, and rejected evidence.
            ObjectAccess("uploads_bucket", resources.UPLOAD_PREFIX, ("s3:DeleteObject",)),
            ObjectAccess("uploads_bucket", resources.CLEAN_UPLOAD_PREFIX, ("s3:DeleteObject",)),
            ObjectAccess(
                "uploads_bucket",
                resources.quarantine_key(resources.UPLOAD_PREFIX),
                ("s3:DeleteObject",),
            ),
        ),
        user_pool=("cognito-idp:ListUsers", "cognito-idp:AdminDeleteUser"),
    ),
    FunctionSpec(
        "on_webhook_delivery",
        # Up to five deliveries a batch, each waiting at most webhook_timeout_seconds (10).
        timeout=90,
        memory=256,
        reserved_concurrency=10,  # receivers' slowness stays within these
        queue="webhooks_queue",
        # The delivery record and the hook (its URL and secret); each try's outcome.
        tables=(TableAccess("webhooks_table", (GET, UPDATE)),),
        delays_retries=True,
    ),
    FunctionSpec(
        "on_generation_change",
        # A batch of up to 100 status changes: counters, a read, a webhook's record and message.
        timeout=60,
        memory=256,
        reserved_concurrency=5,  # one poller per shard; a burst of shards stays within these
        stream="generations_table",
        tables=(
            # A new queued job's ticket (read, then set); a finish takes it off in a
            # transaction; a queued body reads the ticket just taken.
            TableAccess("generations_table", (GET, UPDATE)),
            # The endpoint's accepted/finished counters and the minute's; read for a place.
            TableAccess("queue_counters_table", (UPDATE, BATCH_GET)),
            # The owner's hook; a final state's delivery record, taken back if not queued.
            TableAccess("webhooks_table", (GET, PUT, DELETE)),
            # The owner's open WebSocket connections (one Query); a gone one is forgotten.
            TableAccess("connections_table", (QUERY, DELETE)),
        ),
        sends=("webhooks_queue",),
        manages_connections=True,  # pushes each change to the owner's connections
    ),
    FunctionSpec(
        "on_decision_change",
        # A batch of up to 100 statements: each one Query of its subject's connections, a push.
        timeout=60,
        memory=256,
        reserved_concurrency=2,  # decisions are few; one poller per shard
        stream="statements_table",
        tables=(
            # The subject's open WebSocket connections (one Query); a gone one is forgotten.
            TableAccess("connections_table", (QUERY, DELETE)),
        ),
        manages_connections=True,  # pushes each new decision and appeal outcome to its subject
    ),
    # The WebSocket API's routes (app.py; chalicelib/api/live.py). A connect verifies the
    # token (the user pool's keys over HTTPS, the profile with the erasure marker in one
    # BatchGetItem) and records the connection; a disconnect forgets it; a message may be a
    # ping, answered with a pong through @connections.
    FunctionSpec(
        "websocket_connect",
        timeout=10,
        memory=256,
        reserved_concurrency=20,  # a connect is one verification and one write
        layers=PROVENANCE_LAYERS,  # its handler is app.py's, which registers every route
        tables=(
            TableAccess("users_table", (BATCH_GET,)),
            TableAccess("connections_table", (PUT,)),
        ),
    ),
    FunctionSpec(
        "websocket_message",
        timeout=10,
        memory=256,
        reserved_concurrency=10,
        layers=PROVENANCE_LAYERS,  # its handler is app.py's, which registers every route
        # A pong to a connection gone meanwhile forgets it (its owner read first).
        tables=(TableAccess("connections_table", (GET, DELETE)),),
        manages_connections=True,
    ),
    FunctionSpec(
        "websocket_disconnect",
        timeout=10,
        memory=256,
        reserved_concurrency=10,
        layers=PROVENANCE_LAYERS,  # its handler is app.py's, which registers every route
        tables=(TableAccess("connections_table", (GET, DELETE)),),
    ),
    FunctionSpec(
        "dataset_export",
        timeout=900,
        memory=1024,
        reserved_concurrency=1,  # an operator's occasional run
        tables=(
            TableAccess("gallery_table", (QUERY,)),
            TableAccess("generations_table", (BATCH_GET,)),
        ),
        objects=(
            ObjectAccess("public_bucket", resources.PUBLIC_PREFIX, ("s3:GetObject",)),
            ObjectAccess(
                "exports_bucket",
                resources.DATASET_PREFIX,
                ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
            ),
        ),
    ),
)


@dataclass(frozen=True)
class Wiring:
    """The deployed resources a function's policy may name."""

    settings: Settings
    tables: dict[str, dynamodb.Table]  # by settings field
    buckets: dict[str, s3.Bucket]  # by settings field
    queues: dict[str, sqs.Queue]  # by queue name
    endpoint_arn: str
    flags: ssm.StringParameter
    secrets: tuple[secretsmanager.Secret, ...]
    user_pool_arn: str = ""
    credentials_key: kms.IKey | None = None
    credentials_chain: ssm.IStringParameter | None = None
    # POST @connections/* on the WebSocket API's stage (execute-api:ManageConnections).
    websocket_connections_arn: str = ""
    # Where an alarm tells the operator (a stream batch that failed every retry, for one).
    alarms: sns.ITopic | None = None


def statements(
    spec: FunctionSpec,
    wiring: Wiring,
    log_group: logs.LogGroup,
    stream_failures: sqs.IQueue | None = None,
) -> list[iam.PolicyStatement]:
    """The function's whole policy: its log group, then what its code calls (and, for a
    stream's function, what its event source mapping does with the role: read the stream, send
    a batch that keeps failing to `stream_failures`)."""
    found = [
        iam.PolicyStatement(
            sid="Logs",
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn],
        )
    ]
    for access in spec.tables:
        table = wiring.tables[access.table]
        sid = "".join(part.title() for part in access.table.split("_"))
        if access.actions:
            found.append(
                iam.PolicyStatement(
                    sid=sid, actions=list(access.actions), resources=[table.table_arn]
                )
            )
        if access.query_indexes:
            found.append(
                iam.PolicyStatement(
                    sid=f"{sid}Indexes",
                    actions=[QUERY],
                    resources=[f"{table.table_arn}/index/{name}" for name in access.query_indexes],
                )
            )
    for n, objects in enumerate(spec.objects):
        bucket = wiring.buckets[objects.bucket]
        found.append(
            iam.PolicyStatement(
                sid=f"Objects{n}",
                actions=list(objects.actions),
                resources=[bucket.arn_for_objects(f"{objects.prefix}*")],
            )
        )
    if spec.queue:
        queue = wiring.queues[getattr(wiring.settings, spec.queue)]
        found.append(
            iam.PolicyStatement(sid="Consume", actions=list(CONSUME), resources=[queue.queue_arn])
        )
    if spec.stream:
        table = wiring.tables[spec.stream]
        if stream_failures is None:
            raise ValueError(f"{spec.name} reads a stream: wire its on-failure destination")
        found.append(
            iam.PolicyStatement(
                sid="ReadStream",
                actions=list(READ_STREAM),
                resources=[str(table.table_stream_arn)],
            )
        )
        found.append(
            iam.PolicyStatement(sid="ListStreams", actions=[LIST_STREAMS], resources=["*"])
        )
        found.append(
            iam.PolicyStatement(
                sid="StreamFailures",
                actions=["sqs:SendMessage"],
                resources=[stream_failures.queue_arn],
            )
        )
    if spec.invokes_endpoint:
        found.append(
            iam.PolicyStatement(
                sid="InvokeEndpoint",
                actions=["sagemaker:InvokeEndpointAsync"],
                resources=[wiring.endpoint_arn],
            )
        )
    if spec.detects_moderation_labels:
        # DetectModerationLabels acts on bytes sent with the call: IAM has no resource to name.
        found.append(
            iam.PolicyStatement(
                sid="ModerationLabels",
                actions=["rekognition:DetectModerationLabels"],
                resources=["*"],
            )
        )
    if spec.manages_connections:
        if not wiring.websocket_connections_arn:
            raise ValueError(f"{spec.name} pushes to connections: wire the WebSocket API")
        found.append(
            iam.PolicyStatement(
                sid="ManageConnections",
                actions=["execute-api:ManageConnections"],
                resources=[wiring.websocket_connections_arn],
            )
        )
    if spec.reads_secrets:
        found.append(
            iam.PolicyStatement(
                sid="ReadKeys",
                actions=["secretsmanager:GetSecretValue"],
                resources=[secret.secret_arn for secret in wiring.secrets],
            )
        )
    if spec.sends:
        found.append(
            iam.PolicyStatement(
                sid="Send",
                actions=list(SEND),
                resources=[
                    wiring.queues[getattr(wiring.settings, q)].queue_arn for q in spec.sends
                ],
            )
        )
    if spec.delays_retries:
        queue = wiring.queues[getattr(wiring.settings, str(spec.queue))]
        found.append(
            iam.PolicyStatement(
                sid="DelayRetry",
                actions=["sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"],
                resources=[queue.queue_arn],
            )
        )
    if spec.user_pool:
        found.append(
            iam.PolicyStatement(
                sid="UserPool", actions=list(spec.user_pool), resources=[wiring.user_pool_arn]
            )
        )
    if spec.signs_credentials:
        if wiring.credentials_key is None or wiring.credentials_chain is None:
            raise ValueError(f"{spec.name} signs content credentials: wire the key and chain")
        found.append(
            iam.PolicyStatement(
                sid="SignCredentials",
                actions=["kms:Sign"],
                resources=[wiring.credentials_key.key_arn],
            )
        )
        found.append(
            iam.PolicyStatement(
                sid="CredentialsChain",
                actions=["ssm:GetParameter"],
                resources=[wiring.credentials_chain.parameter_arn],
            )
        )
    if spec.flags:
        found.append(
            iam.PolicyStatement(
                sid="Switches", actions=list(spec.flags), resources=[wiring.flags.parameter_arn]
            )
        )
    return found
