"""The Chalice app: creates it, registers blueprints, middleware and event handlers. No logic.

What each Lambda function loads at its cold start (tests/unit/test_import_budget.py,
bench/coldstart.py):
- Every route and handler is registered here, always: `chalice package`, its CDK construct, the
  local API server and `chalice.test.Client` read them all from this one app, and an app that
  registered less in some process (from `_HANDLER` or the function's name) would be one more
  difference between local and AWS for no gain, since:
- an event handler's function never imports this module. Chalice configures a blueprint's
  handler by the module that defines it (`chalicelib.events.scan.on_output_created`), so the
  scan function loads chalicelib.events.scan and what it imports, not the web routes;
- `api_handler` (`app.app`) loads this module, so every blueprint, but a blueprint module
  holds only route declarations and HTTP glue: each route imports its services (PynamoDB,
  and behind them Pillow, PyJWT, pydantic, Powertools' utilities) when it is first called, and
  event handlers import theirs when their first event comes. A cold API function then pays
  for Chalice and the Powertools logger, and its first request for what that route needs.
"""

from chalice.app import Chalice, WebsocketEvent

from chalicelib.adapters import connections_api
from chalicelib.api import (
    admin,
    api_keys,
    consents,
    decisions,
    gallery,
    generations,
    live,
    me,
    moderation,
    notices,
    provenance,
    reports,
    system,
    terms,
    transparency,
    uploads,
    webhooks,
)
from chalicelib.api.http import http_middleware
from chalicelib.events import changes, privacy, results, scan, sweeper, upload_scan
from chalicelib.events import decisions as decision_changes
from chalicelib.events import webhooks as webhook_deliveries

app = Chalice(app_name="objektify")
# Images sent to POST /provenance/check arrive as bytes (API Gateway's binary media types);
# Chalice's defaults already name PNG and JPEG.
app.api.binary_types.append("image/webp")
app.register_middleware(http_middleware, "http")

for blueprint in (
    system.bp,
    terms.bp,
    me.bp,
    consents.bp,
    generations.bp,
    gallery.bp,
    reports.bp,
    notices.bp,
    moderation.bp,
    decisions.bp,
    admin.bp,
    transparency.bp,
    provenance.bp,
    webhooks.bp,
    api_keys.bp,
    live.bp,
    uploads.bp,
):
    app.register_blueprint(blueprint)

for handlers in (
    results.bp,
    scan.bp,
    upload_scan.bp,
    sweeper.bp,
    privacy.bp,
    changes.bp,
    decision_changes.bp,
):
    app.register_blueprint(handlers)
app.register_blueprint(webhook_deliveries.bp)

# The WebSocket API (issue 18): Chalice wraps WebSocket handlers only when they are the app's own.
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api.session = connections_api.LazySession()


@app.on_ws_connect()
def websocket_connect(event: WebsocketEvent) -> dict[str, object]:
    return live.on_connect(event)


@app.on_ws_message()
def websocket_message(event: WebsocketEvent) -> dict[str, object]:
    return live.on_message(event)


@app.on_ws_disconnect()
def websocket_disconnect(event: WebsocketEvent) -> dict[str, object]:
    return live.on_disconnect(event)
