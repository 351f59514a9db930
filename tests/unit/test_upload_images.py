"""The image rules of the upload scan: what is refused, and what the clean copy keeps."""

from __future__ import annotations

import contextlib
import io
import random
import zlib

import pytest
from PIL import Image, ImageDraw, PngImagePlugin

from chalicelib import imaging, upload_images
from chalicelib.imaging import InvalidImage

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def picture(size: tuple[int, int] = (320, 200)) -> Image.Image:
    """Textured enough for PDQ's quality to count (its hash is looked up), and not symmetric
    (a rotation shows): a gradient, a red top-left corner and a grid of shapes."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    width, height = size
    for n in range(1, 8):
        box = (n * width // 9, (n % 3) * height // 4 + 4, n * width // 9 + width // 12, height - 4)
        draw.ellipse(box, fill=((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))
    image.paste((200, 30, 30), (0, 0, width // 4, height // 4))
    return image


def jpeg_with_gps(orientation: int = 1, size: tuple[int, int] = (320, 200)) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD).update(
        {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # Berlin
    )
    out = io.BytesIO()
    picture(size).save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at home")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret</x:xmpmeta>")
    out = io.BytesIO()
    picture().save(out, "PNG", pnginfo=info)
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    picture().save(out, "WEBP", quality=80)
    return out.getvalue()


def chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def test_a_jpeg_with_gps_becomes_a_png_without_any_metadata() -> None:
    data = jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the test's own premise
    clean = upload_images.clean_png(upload_images.verify_upload(data, "image/jpeg"))
    again = Image.open(io.BytesIO(clean.png))
    assert again.format == "PNG" and again.size == (320, 200)
    assert not again.getexif() and not again.info
    for marker in (b"eXIf", b"Exif", b"tEXt", b"iTXt", b"zTXt", b"iCCP", b"PhoneMaker"):
        assert marker not in clean.png


def test_the_exif_orientation_is_applied_before_it_is_dropped() -> None:
    # Orientation 6: the camera was turned; a viewer rotates 90° clockwise to show it upright.
    clean = upload_images.clean_png(
        upload_images.verify_upload(jpeg_with_gps(orientation=6), "image/jpeg")
    )
    assert clean.image.size == (200, 320)
    red = clean.image.getpixel((190, 10))  # the red corner moved to the top right
    assert isinstance(red, tuple) and red[0] > 150 and red[1] < 100


def test_png_text_and_xmp_chunks_are_gone_and_transparency_is_flattened() -> None:
    clean = upload_images.clean_png(upload_images.verify_upload(png_with_text(), "image/png"))
    assert b"taken at home" not in clean.png and b"xmpmeta" not in clean.png
    rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    out = io.BytesIO()
    rgba.save(out, "PNG")
    flat = upload_images.clean_png(upload_images.verify_upload(out.getvalue(), "image/png"))
    assert flat.image.mode == "RGB" and flat.image.getpixel((5, 5)) == (255, 255, 255)


def channels_swapped_profile() -> bytes:
    """An ICC profile that is sRGB with its red and green primaries swapped: a file tagged with
    it means green where its pixels say red (as a Display P3 photo means other colours than
    the same numbers in sRGB)."""
    import struct

    from PIL import ImageCms

    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack_from(">I", data, 128)
    entries = {}
    for index in range(count):
        signature, offset, size = struct.unpack_from(">4sII", data, 132 + 12 * index)
        entries[signature] = (index, offset, size)
    (red, red_at, red_size), (green, green_at, green_size) = entries[b"rXYZ"], entries[b"gXYZ"]
    struct.pack_into(">4sII", data, 132 + 12 * red, b"rXYZ", green_at, green_size)
    struct.pack_into(">4sII", data, 132 + 12 * green, b"gXYZ", red_at, red_size)
    return bytes(data)


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "RGBA PNG"])
def test_a_picture_with_a_colour_profile_keeps_its_colours_in_srgb(kind: str) -> None:
    mode, file_format = ("RGBA", "PNG") if kind == "RGBA PNG" else ("RGB", kind)
    tagged = io.BytesIO()
    Image.new(mode, (64, 48), (255, 0, 0, 255)[: len(mode)]).save(
        tagged, file_format, icc_profile=channels_swapped_profile(), quality=95
    )
    content_type = f"image/{file_format.lower()}"
    clean = upload_images.clean_png(upload_images.verify_upload(tagged.getvalue(), content_type))
    r, g, b = clean.image.getpixel((10, 10))  # type: ignore[misc]
    assert g > 230 and r < 30 and b < 30  # green, as the profile says, not the numbers' red
    assert b"iCCP" not in clean.png  # the profile itself is dropped


def test_an_unreadable_colour_profile_is_ignored() -> None:
    tagged = io.BytesIO()
    Image.new("RGB", (64, 48), (255, 0, 0)).save(tagged, "JPEG", icc_profile=b"not a profile")
    clean = upload_images.clean_png(upload_images.verify_upload(tagged.getvalue(), "image/jpeg"))
    r, g, b = clean.image.getpixel((10, 10))  # type: ignore[misc]
    assert r > 230 and g < 30 and b < 30  # taken as sRGB, as browsers take it


def test_webp_is_accepted() -> None:
    clean = upload_images.clean_png(upload_images.verify_upload(webp(), "image/webp"))
    assert Image.open(io.BytesIO(clean.png)).format == "PNG"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"<html><script>alert(1)</script></html>", "image/png"),
        (b"<html><body>hi</body></html>", "text/html"),
        (b"GIF89a" + b"\x00" * 40, "image/gif"),
        (jpeg_with_gps(), "image/png"),  # a JPEG declared as a PNG
        (png_with_text(), "image/jpeg"),
        (webp(), "image/png"),
        (png_with_text()[:-300], "image/png"),  # truncated
        (jpeg_with_gps()[:-300], "image/jpeg"),
    ],
)
def test_wrong_or_broken_types_are_refused(data: bytes, content_type: str) -> None:
    with pytest.raises(InvalidImage):
        upload_images.verify_upload(data, content_type)


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    header = (40000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    bomb = (
        imaging.PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 10_000))
        + chunk(b"IEND", b"")
    )
    with pytest.raises(InvalidImage, match=r"pixels|Decompression"):
        upload_images.verify_upload(bomb, "image/png")


def test_more_pixels_than_an_upload_may_have_are_refused() -> None:
    out = io.BytesIO()
    Image.new("L", (upload_images.MAX_UPLOAD_PIXELS // 1000 + 1, 1000)).save(out, "PNG")
    with pytest.raises(InvalidImage, match="too many pixels"):
        upload_images.verify_upload(out.getvalue(), "image/png")


def test_a_phone_sized_photo_is_accepted_and_its_clean_copy_fits_the_service() -> None:
    out = io.BytesIO()
    Image.new("RGB", (3024, 4032), (40, 90, 160)).save(out, "JPEG")  # 12 megapixels
    clean = upload_images.clean_png(upload_images.verify_upload(out.getvalue(), "image/jpeg"))
    assert (clean.width, clean.height) == (1536, 2048)
    assert Image.open(io.BytesIO(clean.png)).size == (1536, 2048)
    assert Image.MAX_IMAGE_PIXELS == imaging.MAX_PIXELS  # the service's own guard is back


@pytest.mark.parametrize(
    "tail",
    [
        b"<html><script>alert(1)</script></html>",
        b"PK\x03\x04" + b"\x00" * 26 + b"PK\x05\x06" + b"\x00" * 18,  # a ZIP after the image
        b"%PDF-1.4\n",
    ],
)
def test_polyglots_with_a_tail_are_refused(tail: bytes) -> None:
    for data, content_type in (
        (png_with_text(), "image/png"),
        (jpeg_with_gps(), "image/jpeg"),
    ):
        with pytest.raises(InvalidImage, match="polyglot"):
            upload_images.verify_upload(data + tail, content_type)
    riff = webp() + tail + (b"\x00" if len(tail) % 2 else b"")
    riff = riff[:4] + (len(riff) - 8).to_bytes(4, "little") + riff[8:]  # the tail inside RIFF
    with pytest.raises(InvalidImage, match="polyglot"):
        upload_images.verify_upload(riff, "image/webp")


def test_a_second_format_hidden_in_metadata_is_refused() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<html><script>fetch('/me')</script></html>")
    out = io.BytesIO()
    picture().save(out, "PNG", pnginfo=info)
    with pytest.raises(InvalidImage, match="polyglot"):
        upload_images.verify_upload(out.getvalue(), "image/png")
    jpeg = io.BytesIO()
    picture().save(jpeg, "JPEG", comment=b"PK\x03\x04 zip inside")
    with pytest.raises(InvalidImage, match="polyglot"):
        upload_images.verify_upload(jpeg.getvalue(), "image/jpeg")


def test_a_phone_jpeg_with_a_second_picture_appended_and_padding_is_accepted() -> None:
    # The Multi-Picture Format (gain maps, depth maps): whole JPEGs after the first one's EOI.
    second = io.BytesIO()
    picture((80, 50)).save(second, "JPEG")
    data = jpeg_with_gps() + second.getvalue() + b"\x00" * 64
    image = upload_images.verify_upload(data, "image/jpeg")
    assert image.size == (320, 200)


def test_damaged_files_are_refused_cleanly_or_accepted_never_crash() -> None:
    """Bytes flipped, cut out or inserted: InvalidImage or a clean copy, no other exception
    (which would leave the upload `scanning` until its message reached the dead-letter queue)."""
    draw = random.Random(7)
    seeds = [
        (png_with_text(), "image/png"),
        (jpeg_with_gps(), "image/jpeg"),
        (webp(), "image/webp"),
    ]
    for _ in range(400):
        data, content_type = draw.choice(seeds)
        damaged = bytearray(data)
        for _ in range(draw.randint(1, 8)):
            at, kind = draw.randrange(len(damaged)), draw.random()
            if kind < 0.6:
                damaged[at] = draw.randrange(256)
            elif kind < 0.8:
                del damaged[at : at + draw.randint(1, 50)]
            else:
                damaged[at:at] = draw.randbytes(draw.randint(1, 20))
        with contextlib.suppress(InvalidImage):
            upload_images.clean_png(upload_images.verify_upload(bytes(damaged), content_type))
