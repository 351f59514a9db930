"""API Gateway's @connections management API: send a message down an open WebSocket.

In AWS the endpoint is the WebSocket API's stage (settings.websocket_management_url,
https://{api-id}.execute-api.{region}.amazonaws.com/{stage}); locally it is left empty and
boto3 reads AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI, which names the local stand-in.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.aws import retries
from chalicelib.once import built_once
from chalicelib.settings import get_settings


class ConnectionGone(Exception):
    """The connection is closed (410 GoneException): it will never take a message again."""


@built_once
def _client() -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    config = Config(
        region_name=settings.region,
        retries=retries(),
        connect_timeout=2,
        read_timeout=5,
        max_pool_connections=32,
    )
    return boto3.session.Session().client(
        "apigatewaymanagementapi",
        endpoint_url=settings.websocket_management_url or None,
        config=config,
    )


def post(connection_id: str, data: bytes) -> None:
    """PostToConnection; ConnectionGone when the connection no longer exists. Other errors
    (throttling after botocore's retries, a 5xx, a lost connection) are raised as they are."""
    from botocore.exceptions import ClientError

    client = _client()
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=data)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if error.get("Code") == "GoneException" or status == 410:
            raise ConnectionGone(connection_id) from exc
        raise


def reset() -> None:
    """Forget the client (tests that change the endpoint)."""
    _client.cache_clear()


class LazySession:
    """What Chalice's `app.websocket_api.session` is asked for (the region; a client, should
    `app.websocket_api.send` ever be called), without importing boto3 at a cold start."""

    @property
    def region_name(self) -> str:
        return get_settings().region

    def client(self, service_name: str, **kwargs: Any) -> Any:
        import boto3

        return boto3.session.Session(region_name=self.region_name).client(service_name, **kwargs)
