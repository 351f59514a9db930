"""The public gallery: browse, view, download; creators (and moderators) delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.api import views
from chalicelib.api.http import caller_of, endpoint, query_params

if TYPE_CHECKING:
    from chalicelib.services import feed

bp = Blueprint(__name__)
PUBLIC_CACHE = "public, max-age=30"


def _cached(request_headers: Any, body: dict[str, Any]) -> Response:
    """A public answer with a validator: a matching If-None-Match gets 304 and no body."""
    from chalicelib.services import gallery

    tag = gallery.etag(body)
    headers: dict[str, str | list[str]] = {"ETag": tag, "Cache-Control": PUBLIC_CACHE}
    if request_headers.get("if-none-match") == tag:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=body, headers=headers)


def _page(page: feed.Page) -> dict[str, Any]:
    from chalicelib.services import gallery

    items = [views.public_image(gallery.public_image(e)) for e in page.items]
    return {"items": items, "next_cursor": page.next_cursor}


@bp.route("/gallery", methods=["GET"])
@endpoint
def newest() -> Response:
    from chalicelib.services import cursors, feed, flags

    flags.require_enabled("gallery")
    request = bp.current_request
    params = query_params(request)
    limit = cursors.page_limit(params.get("limit"))
    page = _discover(params, limit) or feed.feed(limit, params.get("cursor"))
    return _cached(request.headers, _page(page))


def _discover(params: dict[str, str], limit: int) -> feed.Page | None:
    """`?q=` (search) or `?sort=top&period=` (ranking); None for the newest-first feed."""
    from chalicelib.services import feed, ranking, search
    from chalicelib.services.errors import InvalidRequest

    sort, period, q = params.get("sort", "new"), params.get("period"), params.get("q")
    if sort not in ("new", "top"):
        raise InvalidRequest(details={"sort": "one of new, top"})
    if period is not None and sort != "top":
        raise InvalidRequest(details={"period": "only with sort=top"})
    if q is not None:
        if sort != "new":
            raise InvalidRequest(details={"sort": "search answers newest first: sort=new"})
        return feed.Page(*search.search(q, limit, params.get("cursor")))
    if sort == "top":
        return feed.Page(*ranking.top(ranking.period_of(period), limit, params.get("cursor")))
    return None


@bp.route("/gallery/{image_id}", methods=["GET"])
@endpoint
def image(image_id: str) -> Response:
    from chalicelib.services import flags, gallery

    flags.require_enabled("gallery")
    published = gallery.published(image_id)
    detail = views.image_detail(gallery.public_image(published), bool(published.copies_signed))
    detail |= gallery.parameters(published)
    request = bp.current_request
    if request.headers.get("authorization"):  # liked_by_me: this caller's answer, not cached
        from chalicelib.services import likes

        detail["liked_by_me"] = likes.liked_by(image_id, caller_of(request).user_id)
        return Response(body=detail, headers={"Cache-Control": "private, no-store"})
    return _cached(request.headers, detail)


@bp.route("/gallery/{image_id}/like", methods=["PUT", "DELETE"])
@endpoint
def like(image_id: str) -> Response:
    from chalicelib.services import flags, likes

    flags.require_enabled("gallery")
    request = bp.current_request
    caller = caller_of(request)
    if request.method == "PUT":
        likes.like(image_id, caller.user_id)
    else:
        likes.unlike(image_id, caller.user_id)
    return Response(body="", status_code=204)


@bp.route("/gallery/{image_id}/download", methods=["GET"])
@endpoint
def download(image_id: str) -> Response:
    from chalicelib.services import flags, gallery

    flags.require_enabled("gallery")
    return Response(body="", status_code=302, headers={"Location": gallery.download_url(image_id)})


@bp.route("/users/{user_id}/gallery", methods=["GET"])
@endpoint
def creator(user_id: str) -> Response:
    from chalicelib.services import cursors, feed, flags

    flags.require_enabled("gallery")
    request = bp.current_request
    params = query_params(request)
    limit = cursors.page_limit(params.get("limit"))
    if len(user_id) > 128:  # not a user id: an unknown user has no images
        return _cached(request.headers, {"items": [], "next_cursor": None})
    page = feed.creator_page(user_id, limit, params.get("cursor"))
    return _cached(request.headers, _page(page))


@bp.route("/gallery/{image_id}", methods=["DELETE"])
@endpoint
def delete(image_id: str) -> Response:
    from chalicelib.services import gallery, identity

    caller = caller_of(bp.current_request)
    gallery.delete_image(image_id, caller.user_id, identity.acts_as_moderator(caller))
    return Response(body="", status_code=204)
