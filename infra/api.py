"""The Chalice app through Chalice's CDK construct, finished where `chalice package` stops.

`chalice.cdk.Chalice` packages the app (routes → one API Gateway REST API and `api_handler`;
each event handler → its own function with its SQS or schedule source) into a SAM template and
includes it. Through the construct, Chalice's config applies to the whole stage only (its
per-function settings live in .chalice/config.json under a stage named after the stack), and it
has no setting for partial batch responses or gateway responses; so the template is adjusted
here through the construct's escape hatches:
- each function gets its own role (infra/functions.py), runtime (the layers' python3.12), name,
  size, timeout, layers, log group, and a background function its reserved concurrency;
- each SQS source points at the queue this stack creates, reports batch item failures and polls
  with no more concurrency than its function has;
- the generations stream's source reads this stack's table's stream (its ARN is unknown when
  Chalice packages), reports batch item failures, bisects a failing batch and sends one that
  keeps failing to its failures queue;
- the REST API gets the contract's gateway responses, access logs and throttling, and names the
  route function by its name rather than by reference (see `_invoke_by_name`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sam as sam
from aws_cdk import aws_sqs as sqs
from chalice.app import Chalice as ChaliceApp
from chalice.app import SQSEventConfig
from chalice.cdk import Chalice
from chalice.utils import to_cfn_resource_name

from infra import gateway_responses
from infra.config import DeployConfig
from infra.functions import API_HANDLER, FUNCTIONS, FunctionSpec, Wiring, statements
from infra.layers import ARCHITECTURE, RUNTIME
from infra.messaging import alarm_on_first_message
from infra.nag import acknowledge, acknowledge_object_prefixes

API_STAGE = "api"
# Tries of a stream batch after its first before it goes to the on-failure destination.
STREAM_RETRIES = 10
# The smallest MaximumConcurrency of an SQS event source mapping.
MIN_SQS_CONCURRENCY = 2
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
# Who called is not logged: no address, no user agent. The path is the route's template, so
# user and image ids stay out of the access log too.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "time": "$context.requestTime",
        "method": "$context.httpMethod",
        "route": "$context.resourcePath",
        "status": "$context.status",
        "latencyMs": "$context.responseLatency",
        "integrationMs": "$context.integration.latency",
        "bytes": "$context.responseLength",
        "gatewayError": "$context.error.responseType",
    },
    separators=(",", ":"),
)

# How cdk-nag writes the WebSocket connections' ARN (see ChaliceApi._websocket_connections_arn).
CONNECTIONS_FINDING = (
    "arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<WebsocketAPI>/"
    f"{API_STAGE}/POST/@connections/*"
)
# The WebSocket API's access log: the route and the outcome, never the query string (the
# connect's token) nor who connected.
WEBSOCKET_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "time": "$context.requestTime",
        "route": "$context.routeKey",
        "event": "$context.eventType",
        "status": "$context.status",
        "integrationMs": "$context.integrationLatency",
        "gatewayError": "$context.error.messageString",
    },
    separators=(",", ":"),
)


def function_name(stage: str, spec: FunctionSpec) -> str:
    return f"objektify-{stage}-{spec.name.replace('_', '-')}"


class ChaliceApi:
    """Packages the app into `scope` (the stack: Chalice names its stage after its scope)."""

    def __init__(
        self,
        scope: cdk.Stack,
        project_dir: Path,
        app: ChaliceApp,
        config: DeployConfig,
        wiring: Wiring,
        environment: dict[str, str],
        layers: dict[str, lambda_.ILayerVersion],
    ) -> None:
        self.scope, self.config, self.wiring, self.app = scope, config, wiring, app
        self.chalice = Chalice(
            scope,
            "Api",
            source_dir=str(project_dir),
            stage_config={
                "api_gateway_stage": API_STAGE,
                "environment_variables": environment,
                # Roles are made per function below; Chalice must not make its own. The ARN is
                # replaced for every function: left anywhere, it would fail the deploy.
                "manage_iam_role": False,
                "iam_role_arn": "replaced-per-function",
                "autogen_policy": False,
            },
        )
        self._check_specs()
        self.wiring = replace(wiring, websocket_connections_arn=self._websocket_connections_arn())
        sqs_sources = {
            source.name: source
            for source in app.event_sources
            if isinstance(source, SQSEventConfig)
        }
        for spec in FUNCTIONS:
            self._function(spec, layers, sqs_sources.get(spec.name))
        self._rest_api()
        self._websocket_api()

    @property
    def rest_api_id(self) -> str:
        api = self.chalice.sam_template.get_resource("RestAPI")
        return api.ref

    @property
    def websocket_api_id(self) -> str:
        return str(self.chalice.sam_template.get_resource("WebsocketAPI").ref)

    @property
    def websocket_url(self) -> str:
        """What clients connect to (GET /client-config): wss://{api-id}.execute-api…/{stage}."""
        return cdk.Fn.sub(
            f"wss://${{Api}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{API_STAGE}",
            {"Api": self.websocket_api_id},
        )

    @property
    def websocket_management_url(self) -> str:
        """The @connections API the app pushes through: the same stage over https."""
        return cdk.Fn.sub(
            f"https://${{Api}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{API_STAGE}",
            {"Api": self.websocket_api_id},
        )

    def _websocket_connections_arn(self) -> str:
        # Any connection of the stage: their ids are API Gateway's, made as clients connect.
        return cdk.Fn.sub(
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
            f"${{WebsocketAPI}}/{API_STAGE}/POST/@connections/*"
        )

    @property
    def stage_name(self) -> str:
        """The stage's name through SAM's `<api>.Stage` reference, so whatever names it waits
        for the stage SAM makes."""
        return cdk.Fn.ref("RestAPI.Stage")

    def _check_specs(self) -> None:
        packaged = {
            child.node.id  # CfnInclude names each child after its logical id
            for child in self.chalice.sam_template.node.children
            if isinstance(child, sam.CfnFunction)
        }
        declared = {spec.logical_id for spec in FUNCTIONS}
        if packaged != declared:
            raise ValueError(
                f"Chalice functions {sorted(packaged)} ≠ infra/functions.py {sorted(declared)}"
            )

    def _function(
        self,
        spec: FunctionSpec,
        layers: dict[str, lambda_.ILayerVersion],
        source: SQSEventConfig | None,
    ) -> None:
        stage, id = self.config.stage, spec.logical_id
        name = function_name(stage, spec)
        log_group = logs.LogGroup(
            self.scope,
            f"{id}Logs",
            log_group_name=f"/aws/lambda/{name}",
            retention=LOG_RETENTION,
            # Operational logs only; a stack created again must be able to make the group anew.
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        failures = self._stream_failures(spec) if spec.stream else None
        role = iam.Role(
            self.scope,
            f"{id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Objektify {spec.name}: only what its code calls",
            # Inline, so the role carries its permissions from the moment it exists: an SQS
            # event source is refused if its function's role cannot yet receive messages.
            inline_policies={
                "function": iam.PolicyDocument(
                    statements=statements(spec, self.wiring, log_group, failures)
                )
            },
        )
        acknowledge_object_prefixes(
            role,
            [(self.wiring.buckets[o.bucket], o.prefix) for o in spec.objects],
            "The function reads or writes objects whose names it makes.",
        )
        if spec.stream:
            acknowledge(
                role,
                "IAM5",
                "dynamodb:ListStreams, which a stream's event source mapping calls, has no "
                "resource in IAM; the stream itself is named.",
                finding="Resource::*",
            )
        if spec.manages_connections:
            acknowledge(
                role,
                "IAM5",
                "POST to any connection of the WebSocket API's stage: connection ids are made "
                "by API Gateway as clients connect; nothing else of the API is granted.",
                finding=f"Resource::{CONNECTIONS_FINDING}",
            )
        if spec.detects_moderation_labels:
            acknowledge(
                role,
                "IAM5",
                "rekognition:DetectModerationLabels takes the image bytes in the call and has "
                "no resource in IAM.",
                finding="Resource::*",
            )
        function = self.chalice.sam_template.get_resource(id)
        assert isinstance(function, sam.CfnFunction)
        function.add_override("Properties.FunctionName", name)
        function.add_override("Properties.Role", role.role_arn)
        function.add_override("Properties.Timeout", spec.timeout)
        # Where clients connect and where the app pushes (unknown when Chalice packages).
        function.add_override(
            "Properties.Environment.Variables.OBJEKTIFY_WEBSOCKET_URL", self.websocket_url
        )
        function.add_override(
            "Properties.Environment.Variables.OBJEKTIFY_WEBSOCKET_MANAGEMENT_URL",
            self.websocket_management_url,
        )
        function.add_override("Properties.MemorySize", spec.memory)
        # Chalice writes the runtime of the Python it runs in; the layers are built for this one.
        function.add_override("Properties.Runtime", RUNTIME.name)
        function.add_override("Properties.Architectures", [ARCHITECTURE.name])
        function.add_override(
            "Properties.Layers", [layers[layer].layer_version_arn for layer in spec.layers]
        )
        if spec.reserved_concurrency is not None:
            function.add_override(
                "Properties.ReservedConcurrentExecutions", spec.reserved_concurrency
            )
        # Lambda would create the group itself on a first invocation, and then this one fails.
        function.add_resource_dependency(_cfn(log_group))
        if spec.queue:
            self._sqs_source(spec, function, source)
        if spec.stream and failures is not None:
            self._stream_source(spec, function, failures)

    def _stream_failures(self, spec: FunctionSpec) -> sqs.Queue:
        """Where a batch of stream records that keeps failing is described (shard and sequence
        numbers, not the records: they stay in the stream for 24 h to be read again). An
        operator reads it; what cannot be handled after a few receives moves to its own DLQ."""
        name = f"objektify-{self.config.stage}-{spec.name.replace('_', '-')}-failures"
        kept = cdk.Duration.days(14)
        dead_letters = sqs.Queue(
            self.scope,
            f"{spec.logical_id}FailuresDlq",
            queue_name=f"{name}-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=kept,
        )
        failures = sqs.Queue(
            self.scope,
            f"{spec.logical_id}Failures",
            queue_name=name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=kept,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead_letters, max_receive_count=self.wiring.settings.queue_max_receives
            ),
        )
        # Each message is a batch of changes that no retry could handle: the operator is told
        # at the first, while its records are still in the stream to be read again.
        alarm_on_first_message(
            self.scope,
            f"{spec.logical_id}FailuresDepth",
            failures,
            f"Stream records {spec.name} could not handle after every retry",
            self.wiring.alarms,
        )
        return failures

    def _stream_source(
        self, spec: FunctionSpec, function: sam.CfnFunction, failures: sqs.Queue
    ) -> None:
        table = self.wiring.tables[str(spec.stream)]
        event = to_cfn_resource_name(f"{spec.name}-dynamodb-event-source")
        path = f"Properties.Events.{event}.Properties"
        # Chalice packages the ARN the handler names, which no one knows before the table
        # exists: the mapping reads this stack's table's stream instead.
        function.add_override(f"{path}.Stream", table.table_stream_arn)
        # The handler reports the records that failed (chalicelib/events/changes.py): Lambda
        # reads again from the first one instead of the whole batch.
        function.add_override(f"{path}.FunctionResponseTypes", ["ReportBatchItemFailures"])
        # A batch whose invocation fails is split in halves to find the record that fails; one
        # that still fails after its retries (or a day) is described to the failures queue and
        # the stream goes on.
        function.add_override(f"{path}.BisectBatchOnFunctionError", True)
        function.add_override(f"{path}.MaximumRetryAttempts", STREAM_RETRIES)
        function.add_override(f"{path}.MaximumRecordAgeInSeconds", 86400)
        # One batch of a shard at a time: an item's changes are handled in their order.
        function.add_override(f"{path}.ParallelizationFactor", 1)
        function.add_override(
            f"{path}.DestinationConfig",
            {"OnFailure": {"Type": "SQS", "Destination": failures.queue_arn}},
        )

    def _sqs_source(
        self, spec: FunctionSpec, function: sam.CfnFunction, source: SQSEventConfig | None
    ) -> None:
        queue_name = getattr(self.wiring.settings, str(spec.queue))
        if source is None or source.queue != queue_name:
            raise ValueError(f"{spec.name} consumes {source and source.queue}, not {queue_name}")
        event = to_cfn_resource_name(f"{spec.name}-sqs-event-source")
        path = f"Properties.Events.{event}.Properties"
        # A reference instead of Chalice's ARN built from the name: the mapping waits for the
        # queue this stack creates.
        function.add_override(f"{path}.Queue", self.wiring.queues[queue_name].queue_arn)
        # The handlers answer with Powertools' batchItemFailures; without this Lambda would
        # ignore the answer and delete the failed messages along with the others.
        function.add_override(f"{path}.FunctionResponseTypes", ["ReportBatchItemFailures"])
        if spec.reserved_concurrency is not None:
            # Lambda polls with no more than the function may run: a poller beyond the
            # reservation would be throttled, and its messages counted as failed deliveries.
            if spec.reserved_concurrency < MIN_SQS_CONCURRENCY:
                raise ValueError(f"{spec.name}: an SQS source needs {MIN_SQS_CONCURRENCY} or more")
            function.add_override(
                f"{path}.ScalingConfig", {"MaximumConcurrency": spec.reserved_concurrency}
            )

    def _rest_api(self) -> None:
        api = self.chalice.sam_template.get_resource("RestAPI")
        assert isinstance(api, sam.CfnApi)
        self._invoke_by_name(api)
        api.add_override(
            "Properties.DefinitionBody.x-amazon-apigateway-gateway-responses",
            gateway_responses.openapi_extension(),
        )
        access_logs = logs.LogGroup(
            self.scope,
            "ApiAccessLogs",
            retention=LOG_RETENTION,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # API Gateway writes logs only once the region's account settings name a role for it;
        # the stage (through the log group it logs to) waits for that setting.
        self._account = self._logging_role()
        _cfn(access_logs).add_resource_dependency(self._account)
        # The group's own ARN, without the `:*` of its streams that GetAtt would give.
        destination = cdk.Stack.of(self.scope).format_arn(
            service="logs",
            resource="log-group",
            resource_name=access_logs.log_group_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        api.add_override(
            "Properties.AccessLogSetting",
            {"DestinationArn": destination, "Format": ACCESS_LOG_FORMAT},
        )
        api.add_override(
            "Properties.MethodSettings",
            [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": self.config.api_rate_limit,
                    "ThrottlingBurstLimit": self.config.api_burst_limit,
                    "MetricsEnabled": True,
                    # Execution logs would hold request bodies (prompts): off.
                    "LoggingLevel": "OFF",
                    "DataTraceEnabled": False,
                }
            ],
        )

    def _websocket_api(self) -> None:
        """Chalice's WebSocket API ($connect, $disconnect and $default to their functions, a
        stage named as the REST API's) gets access logs without the query string (the token
        travels there) and the REST API's throttling."""
        stage = self.chalice.sam_template.get_resource("WebsocketAPIStage")
        access_logs = logs.LogGroup(
            self.scope,
            "WebsocketAccessLogs",
            retention=LOG_RETENTION,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        _cfn(access_logs).add_resource_dependency(self._account)
        stage.add_override(
            "Properties.AccessLogSettings",
            {"DestinationArn": _group_arn(self.scope, access_logs), "Format": WEBSOCKET_LOG_FORMAT},
        )
        stage.add_override(
            "Properties.DefaultRouteSettings",
            {
                "ThrottlingRateLimit": self.config.api_rate_limit,
                "ThrottlingBurstLimit": self.config.api_burst_limit,
                "DetailedMetricsEnabled": True,
                "LoggingLevel": "OFF",
                "DataTraceEnabled": False,
            },
        )
        acknowledge(
            stage,
            "APIG1",
            "Access logging is set on the stage (AccessLogSettings, added to the stage Chalice "
            "packages as an override that cdk-nag does not read).",
        )
        for route in ("Connect", "Disconnect", "Message"):
            acknowledge(
                self.chalice.sam_template.get_resource(f"Websocket{route}Route"),
                "APIG4",
                "A WebSocket connect is authorized by the app itself: the $connect handler "
                "verifies the access token (the token query parameter) as every route does "
                "and refuses the upgrade otherwise; messages and disconnects belong to a "
                "connection that was authorized so.",
            )
        cdk.CfnOutput(self.scope, "WebsocketUrl", value=self.websocket_url)

    def _invoke_by_name(self, api: sam.CfnApi) -> None:
        """Each route's integration names the route function by its fixed name, not by a
        reference to it: the API must not wait for the function, because the function waits
        (through its environment: the image links and the web client's id) for the CloudFront
        distribution, which sends the API's paths to this API."""
        (spec,) = [s for s in FUNCTIONS if s.name == API_HANDLER]
        name = function_name(self.config.stage, spec)
        uri = cdk.Fn.sub(
            "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
            f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{name}"
            "/invocations"
        )
        for path, methods in self.app.routes.items():
            for method in methods:
                api.add_override(
                    f"Properties.DefinitionBody.paths.{path}.{method.lower()}"
                    ".x-amazon-apigateway-integration.uri",
                    uri,
                )

    def _logging_role(self) -> apigateway.CfnAccount:
        role = iam.Role(
            self.scope,
            "ApiGatewayLoggingRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
        acknowledge(
            role,
            "IAM4",
            "AWS's policy for exactly this role (API Gateway's account-level logging role), "
            "which API Gateway checks for when the role is set.",
            finding="Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs",
        )
        account = apigateway.CfnAccount(
            self.scope, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn
        )
        # A setting of the whole region: leave it in place if this stack goes.
        account.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        role.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        return account


def _cfn(construct: Any) -> cdk.CfnResource:
    child = construct.node.default_child
    assert isinstance(child, cdk.CfnResource)
    return child


def _group_arn(scope: cdk.Stack, group: logs.LogGroup) -> str:
    """The group's own ARN, without the `:*` of its streams that GetAtt would give."""
    return cdk.Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=group.log_group_name,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
