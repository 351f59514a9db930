"""Submission: admit a caller, accept a prompt, hand it to the model.

In an order that never leaves a record pointing at nothing or an invocation with no record:
(1) the request payload goes to S3, (2) one transaction writes the generation and takes a unit
of the caller's quota (`quota`), (3) InvokeEndpointAsync with InferenceId = generation id. If
(3) fails, or the process dies around it, the record says `invoke_pending` and the sweeper
starts it again; an orphaned payload from a failed (2) expires by the inputs bucket's
lifecycle rule.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib import resources
from chalicelib.adapters import clock, ids, inference, storage
from chalicelib.models.base import lost_a_race, transaction
from chalicelib.models.generations import QUEUED, SWEEP_SHARDS, Generation, find
from chalicelib.models.users import UserProfile
from chalicelib.observability import logger
from chalicelib.services import accounts, consent, lifecycle, quota
from chalicelib.services.errors import PromptRejected
from chalicelib.services.generation import OwnerGeneration, owner_view
from chalicelib.services.terms import Terms
from chalicelib.settings import get_settings

MAX_SEED = 2**32 - 1


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
) -> OwnerGeneration:
    """Accept a prompt; with an Idempotency-Key, a retry returns the first answer."""
    if idempotency_key is None:
        return _create(admission, request)
    from chalicelib.services.idempotency import once

    first = once(
        admission.profile.user_id,
        idempotency_key,
        request,
        lambda: dataclasses.asdict(_create(admission, request, idempotency_key)),
        lambda_context,
    )
    return OwnerGeneration(**first)


def _create(
    admission: Admission, request: GenerationRequest, idempotency_key: str | None = None
) -> OwnerGeneration:
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
        if stored.get("generation-id", generation_id) != generation_id:
            return _carry_on(admission, request, stored["generation-id"], input_key)
    generation = _record(admission, request, generation_id, input_key)
    start(generation_id, input_key)
    return owner_view(generation)


def _carry_on(
    admission: Admission, request: GenerationRequest, generation_id: str, input_key: str
) -> OwnerGeneration:
    """A keyed submit whose payload is there already, naming its generation: a retry of a
    submit that died part-way, or the same key and body again after its idempotency record
    expired. A recorded generation is answered as it stands, and started again only if the
    model never took it and this retry wins the claim (as the sweeper claims it): never a
    second model call, never without its quota unit. One never recorded is recorded now."""
    generation = find(generation_id)
    if generation is None:
        generation = _record(admission, request, generation_id, input_key)
        start(generation_id, input_key)
        return owner_view(generation)
    if lifecycle.claim_restart(generation_id, clock.now(), waited=False) is not None:
        start(generation_id, input_key)
        generation = find(generation_id) or generation
    return owner_view(generation)


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
            if tx.refused(exc, generation) and find(generation_id) is not None:
                # The write landed and only its answer was lost (a retry then met its own
                # write): it is recorded, so it is accepted.
                return generation
            if not lost_a_race(exc):
                raise
            # Another submit of the same user took that slot first: try another.
    raise AssertionError("quota.candidates ends by raising")


def start(generation_id: str, input_key: str) -> bool:
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
    lifecycle.start(generation_id)
    return True
