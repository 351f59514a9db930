"""Generations: admit a caller, accept a prompt, track it to a final state.

Submit, in an order that never leaves a record pointing at nothing or an invocation with no
record: (1) the request payload goes to S3, (2) one transaction writes the generation and
takes a unit of the caller's quota, (3) InvokeEndpointAsync with InferenceId = generation id.
If (3) fails the generation is failed at once; an orphaned payload from a failed (2) expires by
the inputs bucket's lifecycle rule.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from chalicelib import resources
from chalicelib.adapters import clock, ids, inference, storage
from chalicelib.models.base import lost_a_race, refused_by_condition, refused_on, transaction
from chalicelib.models.generations import (
    FAILED,
    IN_REVIEW,
    OPEN_STATES,
    PUBLISHED,
    QUEUED,
    REJECTED,
    REMOVED,
    SCANNING,
    SWEEP_SHARDS,
    Generation,
)
from chalicelib.models.users import UserProfile
from chalicelib.observability import logger
from chalicelib.services import accounts, consent, cursors, quota
from chalicelib.services.errors import NotFound, PromptRejected
from chalicelib.services.terms import Terms
from chalicelib.settings import Settings, get_settings

MAX_SEED = 2**32 - 1
USER_SAFE_ERRORS = {
    "model_error": "The model could not paint this image. Try again.",
    "timed_out": "This generation took too long and was stopped. Try again.",
    "could_not_start": "The image generator is unavailable. Try again shortly.",
    "invalid_output": "The model produced no usable image. Try again.",
}


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    negative_prompt: str | None
    width: int
    height: int
    steps: int
    seed: int | None  # None: the service draws one when it creates the generation


@dataclass(frozen=True)
class Admission:
    profile: UserProfile
    terms: Terms


def admit(user_id: str) -> Admission:
    """Checks that come before the body is read: restriction, then consent (one read)."""
    profile = accounts.load_profile(user_id)
    accounts.require_unrestricted(profile)
    terms = consent.require_consent(profile)
    assert profile is not None  # consent implies a profile
    return Admission(profile, terms)


def random_seed() -> int:
    return secrets.randbelow(MAX_SEED + 1)


def submit(
    admission: Admission,
    request: GenerationRequest,
    idempotency_key: str | None,
    lambda_context: Any = None,
) -> dict[str, Any]:
    """Accept a prompt; with an Idempotency-Key, a retry returns the first answer."""
    if idempotency_key is None:
        return _create(admission, request)
    from chalicelib.services.idempotency import once

    return once(
        admission.profile.user_id,
        idempotency_key,
        request,
        lambda: _create(admission, request, idempotency_key),
        lambda_context,
    )


def _create(
    admission: Admission, request: GenerationRequest, idempotency_key: str | None = None
) -> dict[str, Any]:
    from chalicelib.services.prompt_policy import screen_prompt

    # Only the prompt: a negative prompt names what to keep out ("nude", "gore"), and screening
    # it would refuse exactly the users who are steering away from such content.
    verdict = screen_prompt(request.prompt)
    if not verdict.allowed:
        raise PromptRejected(
            f"The prompt breaks the content policy ({verdict.category}).",
            details={"category": verdict.category},
        )
    # What the caller asked, as asked: the seed is drawn below.
    asked = json.dumps(dataclasses.asdict(request), sort_keys=True)
    if request.seed is None:
        # Drawn here, not before: a retry with the same Idempotency-Key and body must match the
        # first request, which named no seed either.
        request = dataclasses.replace(request, seed=random_seed())
    settings = get_settings()
    payload = {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "width": request.width,
        "height": request.height,
        "steps": request.steps,
        "seed": request.seed,
    }
    body = json.dumps(payload).encode()
    generation_id = ids.new_id()
    if idempotency_key is None:
        input_key = f"{resources.INPUT_PREFIX}{generation_id}.json"
        storage.put_json(settings.inputs_bucket, input_key, body)
    else:
        # A keyed submit's payload lives at a key derived from the caller, the key and the
        # request, and names its generation: a retry of a submit that died part-way (after
        # this write, after the record, after the call to the model) finds it and carries on
        # with the same generation instead of starting a second one.
        claim = "\n".join([admission.profile.user_id, idempotency_key, asked])
        digest = hashlib.sha256(claim.encode()).hexdigest()
        input_key = f"{resources.INPUT_PREFIX}keyed-{digest}.json"
        stored = storage.put_json_once(
            settings.inputs_bucket, input_key, body, {"generation-id": generation_id}
        )
        generation_id = stored.get("generation-id", generation_id)
    generation = _record(admission, request, generation_id, input_key)
    _start(generation_id, input_key)
    return view(generation)


def _start(generation_id: str, input_key: str) -> bool:
    """Hand the generation to the model. The record says `invoke_pending` until the endpoint
    has taken it: if the call fails, or the process dies before or after it, the sweeper
    starts it again (the same InferenceId and output key, so a second start of one that did
    get through only repeats its notification, which changes nothing)."""
    settings = get_settings()
    try:
        inference.invoke_async(
            settings.endpoint_name,
            f"s3://{settings.inputs_bucket}/{input_key}",
            generation_id,
            f"{generation_id}.png",
            settings.invocation_timeout_seconds,
        )
    except Exception:
        logger.warning("invoke failed; the sweeper retries", extra={"generation_id": generation_id})
        return False
    deadline = clock.now() + timedelta(seconds=settings.queued_deadline_seconds)
    transition(
        generation_id,
        (QUEUED,),
        [Generation.invoke_pending.remove(), Generation.deadline_at.set(deadline)],
    )
    return True


def _record(
    admission: Admission, request: GenerationRequest, generation_id: str, input_key: str
) -> Generation:
    """Write the generation and take a quota unit for it, in one transaction."""
    settings = get_settings()
    user_id = admission.profile.user_id
    now = clock.now()
    generation = Generation(
        generation_id,
        owner_id=user_id,
        status=QUEUED,
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        width=request.width,
        height=request.height,
        steps=request.steps,
        seed=request.seed,
        terms_version=admission.terms.version,
        terms_sha256=admission.terms.sha256,
        input_key=input_key,
        output_key=resources.output_key(generation_id),
        created_at=now,
        updated_at=now,
        # Until the endpoint has taken it: a short deadline, so that the sweeper starts it
        # again soon if this submit's own call to the model fails or never happens.
        deadline_at=now + timedelta(seconds=settings.start_retry_seconds),
        invoke_pending=True,
        sweep_shard=str(secrets.randbelow(SWEEP_SHARDS)),
    )
    window = quota.Window.current()
    for attempt, slot in enumerate(quota.candidates(user_id, window)):
        try:
            with transaction(token=f"{generation_id}-{attempt}") as tx:
                tx.save(generation, condition=Generation.generation_id.does_not_exist())
                quota.claim(tx, user_id, slot, window, generation_id)
            return generation
        except TransactWriteError as exc:
            if refused_on(exc, 0) and _stored(generation_id) is not None:
                # The write landed and only its answer was lost (a retry then met its own
                # write): it is recorded, so it is accepted.
                return generation
            if not lost_a_race(exc):
                raise
            # Another submit of the same user took that slot first: try another.
    raise AssertionError("quota.candidates ends by raising")


def _stored(generation_id: str) -> Generation | None:
    """The generation as last written (a consistent read), or None."""
    try:
        return Generation.get(generation_id, consistent_read=True)
    except DoesNotExist:
        return None


def get_for_owner(user_id: str, generation_id: str) -> Generation:
    """The generation if `user_id` owns it; anyone else learns nothing (404)."""
    if not ids.is_id(generation_id):
        raise NotFound()
    try:
        generation = Generation.get(generation_id)
    except DoesNotExist as exc:
        raise NotFound() from exc
    if generation.owner_id != user_id:
        raise NotFound()
    return generation


def list_for_owner(
    user_id: str, limit: int, cursor: str | None
) -> tuple[list[Generation], str | None]:
    start = cursors.decode(cursor, f"mine:{user_id}") if cursor else None
    page = Generation.by_owner.query(
        user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start
    )
    items = list(page)
    next_key = page.last_evaluated_key
    return items, (cursors.encode(next_key, f"mine:{user_id}") if next_key else None)


def view(generation: Generation) -> dict[str, Any]:
    """The owner's view of a generation."""
    answer: dict[str, Any] = {
        "id": generation.generation_id,
        "status": generation.status,
        "prompt": generation.prompt,
        "negative_prompt": generation.negative_prompt,
        "width": int(generation.width),
        "height": int(generation.height),
        "steps": int(generation.steps),
        "seed": int(generation.seed),
        "terms_version": int(generation.terms_version),
        "created_at": clock.iso(generation.created_at),
        "updated_at": clock.iso(generation.updated_at),
    }
    if generation.error:
        answer["error"] = {
            "code": generation.error,
            "message": USER_SAFE_ERRORS.get(generation.error, "The generation failed."),
        }
    if generation.model is not None:
        answer["model"] = {"name": generation.model.name, "version": generation.model.version}
    if generation.category and generation.status in (REJECTED, REMOVED, IN_REVIEW):
        answer["category"] = generation.category
    if generation.status == PUBLISHED:
        from chalicelib.services.gallery import image_urls

        answer["image"] = {"id": generation.generation_id, **image_urls(generation.generation_id)}
    return answer


# State changes driven by events ------------------------------------------------------------


def transition(
    generation_id: str,
    from_states: tuple[str, ...],
    actions: list[Any],
    deadline_before: datetime | None = None,
) -> bool:
    """Apply `actions` only if the generation is in one of `from_states`; False if not."""
    condition = Generation.generation_id.exists() & Generation.status.is_in(*from_states)
    if deadline_before is not None:
        condition &= Generation.deadline_at < deadline_before
    try:
        generation = Generation(generation_id)
        generation.update(
            actions=[*actions, Generation.updated_at.set(clock.now())], condition=condition
        )
        return True
    except UpdateError as exc:
        if refused_by_condition(exc):
            return False
        raise


def mark_scanning(generation_id: str) -> bool:
    deadline = clock.now() + timedelta(seconds=get_settings().scanning_deadline_seconds)
    return transition(
        generation_id,
        (QUEUED,),
        [Generation.status.set(SCANNING), Generation.deadline_at.set(deadline)],
    )


def finish_failed(
    generation_id: str,
    reason: str,
    from_states: tuple[str, ...] = OPEN_STATES,
    deadline_before: datetime | None = None,
) -> bool:
    return transition(
        generation_id,
        from_states,
        [
            Generation.status.set(FAILED),
            Generation.error.set(reason),
            Generation.deadline_at.remove(),
            Generation.sweep_shard.remove(),
        ],
        deadline_before,
    )


def record_inference_result(notification: dict[str, Any]) -> str:
    """Apply a SageMaker async success/error notification; duplicates change nothing."""
    generation_id = str(notification.get("inferenceId", ""))
    if not ids.is_id(generation_id):
        raise ValueError("notification names no generation")
    status = notification.get("invocationStatus")
    if status == "Completed":
        moved = mark_scanning(generation_id)
    elif status == "Failed":
        logger.warning(
            "inference failed",
            extra={"generation_id": generation_id, "reason": notification.get("failureReason")},
        )
        moved = finish_failed(generation_id, "model_error", from_states=(QUEUED,))
    else:
        raise ValueError(f"unknown invocation status {status!r}")
    return "applied" if moved else "ignored"


def sweep_stale(limit_per_shard: int = 100) -> int:
    """Start again what the model never took; finish what is stuck past its deadline."""
    now = clock.now()
    settings = get_settings()
    finished = 0
    for shard in range(SWEEP_SHARDS):
        for item in Generation.open_work.query(
            str(shard), Generation.deadline_at < now, limit=limit_per_shard
        ):
            generation_id = item.generation_id
            claimed = _claim_restart(generation_id, now, settings)
            if claimed is not None:
                started = _start(generation_id, claimed.input_key)
                logger.info("restarted", extra={"generation_id": generation_id, "ok": started})
                continue
            reason = "could_not_start" if _pending(generation_id) else "timed_out"
            if finish_failed(generation_id, reason, deadline_before=now):
                logger.info("swept", extra={"generation_id": generation_id, "reason": reason})
                finished += 1
    return finished


def _claim_restart(generation_id: str, now: datetime, settings: Settings) -> Generation | None:
    """Take the next start attempt of a generation the model never took (one sweeper wins),
    unless it has waited longer than the queued deadline since it was accepted."""
    condition = (
        Generation.generation_id.exists()
        & (Generation.status == QUEUED)
        & Generation.invoke_pending.exists()
        & (Generation.deadline_at < now)
        & (Generation.created_at > now - timedelta(seconds=settings.queued_deadline_seconds))
    )
    claimed = Generation(generation_id)
    try:
        claimed.update(  # answers with the whole item (input_key included)
            actions=[
                Generation.deadline_at.set(now + timedelta(seconds=settings.start_retry_seconds)),
                Generation.updated_at.set(now),
            ],
            condition=condition,
        )
        return claimed
    except UpdateError as exc:
        if refused_by_condition(exc):
            return None
        raise


def _pending(generation_id: str) -> bool:
    item = _stored(generation_id)
    return item is not None and bool(item.invoke_pending) and item.status == QUEUED
