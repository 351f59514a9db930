"""The Rekognition back end's request and response mapping, with botocore's Stubber and a
response shaped as DetectModerationLabels answers (moto answers that call with a 500)."""

from __future__ import annotations

import io

import boto3
import pytest
from botocore.stub import ANY, Stubber
from PIL import Image

from chalicelib.adapters import aws, image_scanner
from chalicelib.services.scan_policy import decide

RECORDED = {
    "ModerationLabels": [
        {
            "Confidence": 97.2,
            "Name": "Graphic Violence",
            "ParentName": "Violence",
            "TaxonomyLevel": 2,
        },
        {"Confidence": 97.2, "Name": "Violence", "ParentName": "", "TaxonomyLevel": 1},
        {"Confidence": 51.0, "Name": "Weapons", "ParentName": "Violence", "TaxonomyLevel": 2},
    ],
    "ModerationModelVersion": "7.0",
    "ContentTypes": [],
}


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Stubber:
    client = boto3.client(
        "rekognition", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    monkeypatch.setattr(aws, "client", lambda service: client)
    stubber.activate()
    yield stubber
    stubber.deactivate()


def picture() -> tuple[Image.Image, bytes]:
    image = Image.new("RGB", (512, 512), (10, 20, 30))
    out = io.BytesIO()
    image.save(out, "PNG")
    return image, out.getvalue()


def test_labels_and_their_parents_become_scores(stubbed: Stubber) -> None:
    image, png = picture()
    stubbed.add_response(
        "detect_moderation_labels", RECORDED, {"Image": {"Bytes": png}, "MinConfidence": 40}
    )
    found = image_scanner.RekognitionScanner().scan(image, png)
    assert {label.name: label.score for label in found} == {
        "Graphic Violence": pytest.approx(0.972),
        "Violence": pytest.approx(0.972),
        "Weapons": pytest.approx(0.51),
    }
    decision = decide(found)
    assert decision.outcome == "rejected" and decision.category == "violent"
    stubbed.assert_no_pending_responses()


def test_an_image_over_the_inline_limit_is_sent_as_jpeg(
    stubbed: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    image, png = picture()
    monkeypatch.setattr(image_scanner.RekognitionScanner, "MAX_BYTES", 10)
    stubbed.add_response(
        "detect_moderation_labels",
        {"ModerationLabels": []},
        {"Image": {"Bytes": ANY}, "MinConfidence": 40},
    )
    assert image_scanner.RekognitionScanner().scan(image, png) == []
    stubbed.assert_no_pending_responses()


def test_a_clean_image_publishes(stubbed: Stubber) -> None:
    image, png = picture()
    stubbed.add_response(
        "detect_moderation_labels",
        {"ModerationLabels": []},
        {"Image": {"Bytes": png}, "MinConfidence": 40},
    )
    assert decide(image_scanner.RekognitionScanner().scan(image, png)).outcome == "published"
