"""Generation parameters beyond the prompt: what the dataset record and the published page say
of a generation's guidance, scheduler and remix source, including one recorded before they
could be chosen (painted at 7.5 with Euler)."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.api.schemas import ASPECTS, SCHEDULERS
from chalicelib.models.generations import Generation
from chalicelib.services import dataset, gallery
from functions.inference import pipeline


def generation(**extra: object) -> Generation:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    return Generation(
        "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        owner_id="someone",
        status="published",
        prompt="a kettle",
        negative_prompt=None,
        width=512,
        height=512,
        steps=2,
        seed=7,
        terms_version=1,
        terms_sha256="0" * 64,
        input_key="inputs/x.json",
        output_key="outputs/x.png",
        created_at=now,
        updated_at=now,
        published_at=now,
        **extra,
    )


def test_the_dataset_record_names_the_parameters_and_the_remix_source() -> None:
    record = dataset.record(
        generation(guidance_scale=4.5, scheduler="ddim", remix_of="01ARZ3NDEKTSV4RRFFQ69G5FAW")
    )
    assert (record["guidance_scale"], record["scheduler"]) == (4.5, "ddim")
    assert record["remix_of"] == "01ARZ3NDEKTSV4RRFFQ69G5FAW"
    assert "owner_id" not in record and "someone" not in record.values()


def test_a_generation_from_before_the_controls_reads_as_what_painted_it() -> None:
    old = generation()
    assert dataset.record(old)["guidance_scale"] == 7.5
    shown = gallery.parameters(old)
    assert shown == {
        "negative_prompt": None,
        "steps": 2,
        "seed": 7,
        "guidance_scale": 7.5,
        "scheduler": "euler",
        "remixes": 0,
    }
    assert gallery.parameters(generation(remixes=3, remix_of="X"))["remix_of"] == "X"


def test_the_api_and_the_container_name_the_same_schedulers_and_sizes_fit() -> None:
    assert set(SCHEDULERS) == set(pipeline.SCHEDULERS)
    for width, height in ASPECTS.values():
        assert width % 64 == 0 and height % 64 == 0 and min(width, height) >= 256
        assert max(width, height) <= 1024
