"""The gallery's ETag names what a viewer sees: the same image data in the same presign period
validates (304), even though each answer's presigned URLs were signed in a different second."""

from __future__ import annotations

from chalicelib.services.gallery import etag


def answer(signed_at: str, title: str = "a red fox") -> dict:
    def url(name: str) -> str:
        return f"http://s3.local/public/{name}?X-Amz-Date={signed_at}&X-Amz-Signature=ab{signed_at}"

    image = {
        "id": "01J0000000000000000000000",
        "prompt": title,
        "thumbnail_url": url("thumb.webp"),
        "image_url": url("web.webp"),
    }
    return {"items": [image], "next_cursor": None}


def test_urls_signed_in_another_second_keep_the_validator() -> None:
    assert etag(answer("20261202T071001Z")) == etag(answer("20261202T071003Z"))


def test_changed_data_changes_the_validator() -> None:
    assert etag(answer("20261202T071001Z")) != etag(answer("20261202T071001Z", "a blue fox"))
