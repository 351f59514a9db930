"""The whole service in one stack: data, storage, messaging, sign-in, inference, configuration,
the Chalice app wired to all of them, its per-client rate limits, and the web client served
beside the API.

Import this only after `infra.app` has set the environment for the stage: chalicelib reads its
settings (and so every resource name) once, at import.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from chalicelib.models import TABLE_MODELS
from chalicelib.settings import PREFIX, Settings
from infra.api import API_STAGE, ChaliceApi
from infra.config import DeployConfig
from infra.credentials import ContentCredentials
from infra.data import Tables
from infra.firewall import Firewall
from infra.functions import FUNCTIONS, Wiring
from infra.headers import ResponseHeaders, review_origins, site_content_security_policy
from infra.identity import WEB_SCOPES, Identity
from infra.inference import Inference
from infra.layers import function_layers
from infra.messaging import Messaging
from infra.service_config import ServiceConfig
from infra.site import Site, web_config
from infra.storage import Storage

# Settings whose AWS value differs from the local default.
DEPLOYED_SETTINGS = {"image_scanner": "rekognition"}
POWERTOOLS = {
    "POWERTOOLS_SERVICE_NAME": "objektify",
    "POWERTOOLS_METRICS_NAMESPACE": "Objektify",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}


class ObjektifyStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeployConfig,
        settings: Settings,
        project_dir: Path,
        layers_dir: Path,
        env: cdk.Environment,
    ) -> None:
        super().__init__(
            scope, id, env=env, description=f"Objektify ({config.stage}): the whole service"
        )
        self.settings = settings
        tables = Tables(self, "Tables", settings, TABLE_MODELS)
        identity = Identity(self, "Identity", config)
        headers = ResponseHeaders(
            self,
            "ResponseHeaders",
            site_content_security_policy(
                identity.hosted_ui_url,
                review_origins(settings.originals_bucket, config.region),
                config.region,
                upload_origins=review_origins(settings.uploads_bucket, config.region),
            ),
        )
        storage = Storage(
            self, "Storage", settings, site_headers=headers.site, image_headers=headers.served
        )
        web_client = identity.add_web_client(storage.site_url)
        consumers = {
            getattr(settings, spec.queue): spec.timeout for spec in FUNCTIONS if spec.queue
        }
        messaging = Messaging(self, "Messaging", settings, consumers, config.alarm_email)
        messaging.notify(storage.by_name)
        inference = Inference(
            self,
            "Inference",
            settings,
            config,
            inputs=storage.by_setting["inputs_bucket"],
            originals=storage.by_setting["originals_bucket"],
            success=messaging.topics[settings.success_topic],
            error=messaging.topics[settings.error_topic],
        )
        service_config = ServiceConfig(self, "ServiceConfig", settings)
        credentials = ContentCredentials(self, "ContentCredentials", settings)
        wired: dict[str, str] = {
            "stage": config.stage,
            **{setting: table.table_name for setting, table in tables.by_setting.items()},
            **{setting: bucket.bucket_name for setting, bucket in storage.by_setting.items()},
            **{
                f: messaging.queues[getattr(settings, f)].queue_name
                for f in named(settings, "_queue")
            },
            **{
                f: messaging.topics[getattr(settings, f)].topic_name
                for f in named(settings, "_topic")
            },
            "endpoint_name": inference.endpoint.attr_endpoint_name,
            "public_base_url": storage.public_base_url,
            **identity.token_settings(),
            **service_config.settings(),
            **credentials.settings(),
            **DEPLOYED_SETTINGS,
        }
        wiring = Wiring(
            settings=settings,
            tables=tables.by_setting,
            buckets=storage.by_setting,
            queues=messaging.queues,
            endpoint_arn=inference.endpoint_arn,
            flags=service_config.flags,
            secrets=(service_config.signing_keys, service_config.address_hash_key),
            user_pool_arn=identity.pool.user_pool_arn,
            credentials_key=credentials.key,
            credentials_chain=credentials.chain,
            alarms=messaging.alarms,
        )
        import app as chalice_app  # the app's import reads the settings prepared for this stage

        self.api = ChaliceApi(
            self,
            project_dir,
            chalice_app.app,
            config,
            wiring,
            environment={**app_environment(wired), **POWERTOOLS},
            layers=function_layers(self, layers_dir, config.stage),
        )
        firewall = Firewall(
            self,
            "Firewall",
            rest_api_id=self.api.rest_api_id,
            stage_name=self.api.stage_name,
            user_pool_arn=identity.pool.user_pool_arn,
            config=config,
        )
        Site(
            self,
            "Site",
            distribution=storage.distribution,
            bucket=storage.by_setting["public_bucket"],
            rest_api_id=self.api.rest_api_id,
            api_stage=API_STAGE,
            routes=chalice_app.app.routes,
            headers=headers.served,
            config=web_config(
                hosted_ui_url=identity.hosted_ui_url,
                client_id=web_client.user_pool_client_id,
                scopes=[scope.scope_name for scope in WEB_SCOPES],
                site_url=storage.site_url,
            ),
            origin_headers=firewall.origin_headers,
            viewer_request=firewall.viewer_address,
        )
        self._outputs(identity, storage, inference)

    def _outputs(self, identity: Identity, storage: Storage, inference: Inference) -> None:
        cdk.CfnOutput(self, "UserPoolId", value=identity.pool.user_pool_id)
        cdk.CfnOutput(self, "WebClientId", value=identity.web_client.user_pool_client_id)
        cdk.CfnOutput(self, "PublicBaseUrl", value=storage.public_base_url)
        cdk.CfnOutput(self, "SiteUrl", value=storage.site_url)
        cdk.CfnOutput(self, "SignInDomain", value=identity.hosted_ui_url)
        cdk.CfnOutput(self, "GeneratorEndpoint", value=inference.endpoint.attr_endpoint_name)


def named(settings: Settings, suffix: str) -> list[str]:
    """The settings fields that name a resource of one kind (`_queue`, `_topic`, …)."""
    return [f.name for f in fields(settings) if f.name.endswith(suffix)]


def app_environment(wired: dict[str, str]) -> dict[str, str]:
    """`OBJEKTIFY_*` variables for settings fields; an unknown field is a mistake here."""
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(wired) - known)
    if unknown:
        raise ValueError(f"not settings fields: {unknown}")
    return {PREFIX + name.upper(): value for name, value in wired.items()}
