"""Submission: admit a caller, accept a prompt, hand it to the model.

In an order that never leaves a record pointing at nothing or an invocation with no record:
(1) the request payload goes to S3, (2) one transaction writes the generation, takes a unit
of the caller's quota (`quota`) and claims the Idempotency-Key if there is one
(`idempotency`), (3) InvokeEndpointAsync with InferenceId = generation id, (4) the record
notes that the endpoint took it. If (3) fails, or the process dies around it, the record says
`invoke_pending` and the sweeper starts it again once the submit's own invocation is over; an
orphaned payload from a failed (2) expires by the inputs bucket's lifecycle rule. Four
requests in all, five with the profile read of `admit`, keyed or not.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib import resources
from chalicelib.adapters import clock, ids, inference, storage
from chalicelib.models.base import lost_a_race, transaction
from chalicelib.models.generations import QUEUED, SWEEP_SHARDS, Generation, find
from chalicelib.models.idempotency import IdempotencyRecord
from chalicelib.models.users import UserProfile
from chalicelib.observability import logger
from chalicelib.services import accounts, consent, idempotency, lifecycle, quota
from chalicelib.services.errors import Conflict, InvalidRequest, PromptRejected
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
    guidance_scale: float = 7.5
    scheduler: str = "euler"
    remix_of: str | None = None  # the published image it starts from
    n: int = 1  # how many generations: seeds seed, seed + 1, ...
    init_upload: str | None = None  # image-to-image: the caller's upload it starts from
    strength: float | None = None
    # That upload's picture at the requested size (PNG), carried in the model's payload; not
    # part of what was asked (the upload id is).
    init_png: bytes | None = field(default=None, compare=False, repr=False)


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


def random_seed(n: int = 1) -> int:
    """A seed from which n consecutive ones stay within range."""
    return secrets.randbelow(MAX_SEED + 2 - n)


def submit(
    admission: Admission,
    request: GenerationRequest,
    idempotency_key: str | None,
    lambda_context: Any = None,
) -> OwnerGeneration:
    """Accept a prompt. With an Idempotency-Key, a retry (the same key and body) answers the
    generation the first made, as it stands, and creates nothing new."""
    if idempotency_key is not None:
        idempotency.check_key(idempotency_key)
    return _create(admission, request, idempotency_key, _own_start_seconds(lambda_context))


def _own_start_seconds(lambda_context: Any) -> float:
    """How long this submit may still call the model itself (its invocation's time left): until
    then neither a retry nor the sweeper starts its generation; after it, the invocation that
    wrote the record is over, whether or not it got to the model."""
    limit = float(get_settings().start_retry_seconds)
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    return min(limit, remaining() / 1000) if callable(remaining) else limit


def _create(
    admission: Admission,
    request: GenerationRequest,
    idempotency_key: str | None,
    own_start_seconds: float,
) -> OwnerGeneration:
    from chalicelib.services.prompt_policy import refusal

    # Only the prompt: a negative prompt names what to keep out ("nude", "gore"), and screening
    # it would refuse exactly the users who are steering away from such content.
    refused = refusal(request.prompt)
    if refused is not None:
        message, category = refused
        raise PromptRejected(message, details={"category": category})
    # What the caller asked, as asked: the seed is drawn below.
    asked = json.dumps(
        {k: v for k, v in dataclasses.asdict(request).items() if k != "init_png"}, sort_keys=True
    )
    if request.seed is not None and request.seed + request.n - 1 > MAX_SEED:
        # A remix's inherited seed, which the body's own check never saw.
        raise InvalidRequest(details={"seed": f"seed + n - 1 must be at most {MAX_SEED}"})
    if request.seed is None:
        # Drawn here, not before: a retry with the same Idempotency-Key and body must match the
        # first request, which named no seed either.
        request = dataclasses.replace(request, seed=random_seed(request.n))
    settings = get_settings()
    generation_ids = [ids.new_id() for _ in range(request.n)]
    if idempotency_key is None:
        input_keys = [f"{resources.INPUT_PREFIX}{gid}.json" for gid in generation_ids]
        for n, key in enumerate(input_keys):
            storage.put_json(settings.inputs_bucket, key, _payload(request, n))
        return _record_and_start(
            Unrecorded(admission, request, generation_ids, input_keys, own_start_seconds)
        )
    # A keyed submit's payload lives at a key derived from the caller, the key and the request,
    # and names its generations (a batch's first payload names them all, and their first
    # seed): a retry of a submit that died part-way (after this write, after the record, after
    # the call to the model) finds them and carries on with the same generations instead of
    # starting others.
    user_id = admission.profile.user_id
    digest = hashlib.sha256("\n".join([user_id, idempotency_key, asked]).encode()).hexdigest()
    first_key = f"{resources.INPUT_PREFIX}keyed-{digest}.json"
    names = {"generation-id": generation_ids[0], "seed": str(request.seed)}
    if request.n > 1:
        names["batch"] = ",".join(generation_ids)
    stored = storage.put_json_once(settings.inputs_bucket, first_key, _payload(request, 0), names)
    named = stored.get("batch", stored.get("generation-id", generation_ids[0])).split(",")
    request = dataclasses.replace(request, seed=int(stored.get("seed") or str(request.seed)))
    input_keys = [first_key, *(f"{first_key[:-5]}-{n}.json" for n in range(1, request.n))]
    for n, key in enumerate(input_keys[1:], start=1):
        storage.put_json(settings.inputs_bucket, key, _payload(request, n))
    key_claim = idempotency.claim(user_id, idempotency_key, asked, named[0], clock.now())
    new = Unrecorded(admission, request, named, input_keys, own_start_seconds, key_claim)
    if named[0] != generation_ids[0]:
        return _carry_on(new)
    try:
        return _record_and_start(new)
    except InvalidRequest:
        # The key was first used with another body: this body's payloads name nothing.
        for key in input_keys:
            storage.delete(settings.inputs_bucket, key)
        raise


def _payload(request: GenerationRequest, n: int) -> bytes:
    """What the model is asked for the batch's n-th generation (its seed: the n-th after)."""
    assert request.seed is not None
    picture: dict[str, Any] = {}
    if request.init_png is not None:
        picture = {
            "init_image": base64.b64encode(request.init_png).decode(),
            "strength": request.strength,
        }
    return json.dumps(
        {
            **picture,
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "width": request.width,
            "height": request.height,
            "steps": request.steps,
            "seed": request.seed + n,
            "guidance_scale": request.guidance_scale,
            "scheduler": request.scheduler,
        }
    ).encode()


@dataclass(frozen=True)
class Unrecorded:
    """The generations of one request about to be recorded (one, or a batch of `n`)."""

    admission: Admission
    request: GenerationRequest
    generation_ids: list[str]
    input_keys: list[str]
    own_start_seconds: float
    key_claim: IdempotencyRecord | None = None


def _carry_on(new: Unrecorded) -> OwnerGeneration:
    """A keyed submit whose payload is there already, naming its generations: a retry of a
    submit that died part-way or is still under way, or the same key and body again after its
    idempotency record expired. Recorded generations (a batch is recorded all at once) are
    answered as they stand, each started again only if the model never took it, the submit
    that recorded it can no longer start it, and this retry wins the claim (as the sweeper
    claims it): never a second model call while the first may still make it, never without
    its quota unit. Ones never recorded are recorded now."""
    first = new.generation_ids[0]
    recorded = find(first)
    if recorded is None:
        return _record_and_start(new)
    for generation_id, input_key in zip(new.generation_ids, new.input_keys, strict=True):
        if lifecycle.claim_restart(generation_id, clock.now()) is not None:
            start(generation_id, input_key)
    return owner_view(find(first) or recorded)


def _record_and_start(new: Unrecorded) -> OwnerGeneration:
    recorded = _record(new)
    if isinstance(recorded, list):
        for generation in recorded:
            start(generation.generation_id, generation.input_key)
        return owner_view(recorded[0])
    # Another submit of the same key and body recorded its generations first, and starts them.
    found = find(recorded)
    if found is None:
        raise Conflict("A request with this Idempotency-Key is still in progress.")
    return owner_view(found)


def _record(new: Unrecorded) -> list[Generation] | str:
    """Write the generations, take a quota unit for each and claim the Idempotency-Key, in one
    transaction: all of them or none. Answers the generations when this call wrote them; the
    id of the first generation the key names when another submit of the same key and body
    recorded it first."""
    request = new.request
    assert request.seed is not None
    user_id = new.admission.profile.user_id
    now = clock.now()
    batch = list(new.generation_ids) if len(new.generation_ids) > 1 else None
    generations = [
        Generation(
            generation_id,
            owner_id=user_id,
            status=QUEUED,
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            width=request.width,
            height=request.height,
            steps=request.steps,
            seed=request.seed + n,
            guidance_scale=request.guidance_scale,
            scheduler=request.scheduler,
            remix_of=request.remix_of,
            init_upload=request.init_upload,
            strength=request.strength,
            batch=batch,
            terms_version=new.admission.terms.version,
            terms_sha256=new.admission.terms.sha256,
            input_key=input_key,
            output_key=resources.output_key(generation_id),
            created_at=now,
            updated_at=now,
            # Until the endpoint has taken it: a short deadline, so that the sweeper starts it
            # again soon if this submit's own call to the model fails or never happens.
            deadline_at=now + timedelta(seconds=new.own_start_seconds),
            invoke_pending=True,
            sweep_shard=str(secrets.randbelow(SWEEP_SHARDS)),
        )
        for n, (generation_id, input_key) in enumerate(
            zip(new.generation_ids, new.input_keys, strict=True)
        )
    ]
    first = generations[0]
    window = quota.Window.current()
    for attempt, slots in enumerate(quota.candidate_sets(user_id, window, len(generations))):
        try:
            with transaction(token=f"{first.generation_id}-{attempt}") as tx:
                for generation, slot in zip(generations, slots, strict=True):
                    tx.save(generation, condition=Generation.generation_id.does_not_exist())
                    quota.claim(tx, user_id, slot, window, generation.generation_id)
                if new.key_claim is not None:
                    tx.save(new.key_claim, condition=idempotency.free(now))
            return generations
        except TransactWriteError as exc:
            if tx.refused(exc, first):
                found = find(first.generation_id)
                if found is not None:
                    # This call's write landed and only its answer was lost (a retry then met
                    # its own write), or another submit of the same key and body wrote first:
                    # the creation time, to the microsecond, tells which.
                    return generations if found.created_at == now else first.generation_id
            if new.key_claim is not None and tx.refused(exc, new.key_claim):
                held = idempotency.holder(new.key_claim)  # refuses another body
                if held is not None:
                    return held
            elif not lost_a_race(exc):
                raise
            # Another submit of the same user took one of those slots first: try others.
    raise AssertionError("quota.candidate_sets ends by raising")


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
