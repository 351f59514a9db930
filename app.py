"""The Chalice app: creates it, registers blueprints, middleware and event handlers. No logic."""

from chalice.app import Chalice

from chalicelib.api import (
    admin,
    consents,
    decisions,
    gallery,
    generations,
    me,
    moderation,
    notices,
    reports,
    system,
    terms,
    transparency,
)
from chalicelib.api.http import http_middleware
from chalicelib.events import privacy, results, scan, sweeper

app = Chalice(app_name="objektify")
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
):
    app.register_blueprint(blueprint)

for handlers in (results.bp, scan.bp, sweeper.bp, privacy.bp):
    app.register_blueprint(handlers)
