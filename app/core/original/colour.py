"""Converting 8-bit sRGB results back into a photo's own colour space and depth.

The working copy was made from the photo by little-cms with the perceptual intent
(app.core.photo); results come back in it. Going back, for a pixel:

- 8-bit RGB or CMYK with a profile: little-cms again (Pillow's ImageCms), sRGB to the
  profile, perceptual intent as on the way in, so an unchanged pixel lands where it came
  from. (For a matrix/TRC profile little-cms has no perceptual table and uses the
  colorimetric conversion, which is the same thing.)
- 16-bit RGB with a matrix/TRC profile: the same colorimetric conversion in float32, so
  the 16 bits carry more than 8 bits of precision (``MatrixInto``).
- 16-bit RGB with a LUT-based profile: ImageCms takes only 8-bit RGB, so little-cms at 8
  bits and the result spread over 16 (x 257); such photos are rare and the loss is only in
  the pasted area.
- No profile, or an sRGB one (which the working copy did not convert either): the values
  as they are, x 257 at 16 bits.
- Grey: the working copy used the grey values unchanged, so the inverse is the luma of
  the result (Pillow's ITU-R 601-2 weights, which keep R = G = B greys exactly), x 257
  at 16 bits.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageCms

from app.core.imageio import ImageFileError
from app.core.original.icc import MatrixShaper, matrix_shaper
from app.core.original.reading import Original

_SRGB = ImageCms.createProfile("sRGB")
# The colorants of little-cms's own sRGB profile (its primaries adapted to D50 with the
# Bradford transform), read back with the same parser as the photo's profile, so that the
# float path and little-cms share their idea of sRGB.
_SRGB_SHAPER = matrix_shaper(ImageCms.ImageCmsProfile(_SRGB).tobytes())
assert _SRGB_SHAPER is not None
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601-2, as Pillow's convert("L")
_SPREAD = np.float32(65535 / 255)  # 257: an 8-bit level onto the 16-bit scale


def _srgb_to_linear() -> np.ndarray:
    """The 256 8-bit sRGB levels as linear light (IEC 61966-2-1, section 5.2):
    V / 12.92 up to V = 0.04045, ((V + 0.055) / 1.055) ^ 2.4 above."""
    v = np.arange(256, dtype=np.float64) / 255
    linear = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return linear.astype(np.float32)


_SRGB_LINEAR = _srgb_to_linear()

Convert = Callable[[np.ndarray], np.ndarray]
"""(h, w, 3) uint8 sRGB -> (h, w, C) float32 in the original's colour channels and on its
scale (0..255 or 0..65535), not yet rounded."""


def is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    """The rule app.core.photo uses: a profile described as sRGB is left alone."""
    description = ImageCms.getProfileDescription(profile)
    return "srgb" in description.lower().replace(" ", "")


class MatrixInto:
    """sRGB -> a matrix/TRC RGB profile in float32 (relative colorimetric):
    sRGB levels -> linear (IEC 61966-2-1) -> XYZ D50 (sRGB colorants) -> the profile's
    linear RGB (inverse of its colorant matrix) -> clipped to its gamut -> its inverse
    tone curves -> 0..65535."""

    def __init__(self, target: MatrixShaper, scale: float = 65535.0) -> None:
        assert _SRGB_SHAPER is not None
        combined = np.linalg.inv(target.matrix) @ _SRGB_SHAPER.matrix
        self._matrix = combined.astype(np.float32)
        self._curves = target.curves
        self._scale = np.float32(scale)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        linear = _SRGB_LINEAR[rgb]  # (h, w, 3) float32 by table lookup
        device = linear @ self._matrix.T
        np.clip(device, 0.0, 1.0, out=device)  # out of the target's gamut: clipped
        for channel, curve in enumerate(self._curves):
            device[..., channel] = curve.inverse(np.ascontiguousarray(device[..., channel]))
        device *= self._scale
        return device


def _lcms_into(
    profile: ImageCms.ImageCmsProfile, mode: str, scale: np.float32, label: str
) -> Convert:
    try:
        transform = ImageCms.buildTransform(
            _SRGB, profile, "RGB", mode, renderingIntent=ImageCms.Intent.PERCEPTUAL
        )
    except ImageCms.PyCMSError as exc:
        raise ImageFileError(
            f"{label}: its colour profile does not fit the picture ({exc}).",
            "invalid_icc_profile",
        ) from None

    def convert(rgb: np.ndarray) -> np.ndarray:
        image = Image.fromarray(np.ascontiguousarray(rgb))
        converted = np.asarray(ImageCms.applyTransform(image, transform), np.float32)
        return converted * scale if scale != 1 else converted

    return convert


def _plain_into(mode: str, scale: np.float32) -> Convert:
    def convert(rgb: np.ndarray) -> np.ndarray:
        if mode in ("L", "LA"):
            return (rgb.astype(np.float32) @ _LUMA)[..., None] * scale
        if mode == "CMYK":  # untagged CMYK: Pillow's naive conversion, as on the way in
            cmyk = Image.fromarray(np.ascontiguousarray(rgb)).convert("CMYK")
            return np.asarray(cmyk, np.float32) * scale
        return rgb.astype(np.float32) * scale

    return convert


def srgb_into(original: Original, label: str = "the photo") -> Convert:
    """The conversion of sRGB results into ``original``'s colour channels and depth;
    ``label`` names the photo in errors about its profile."""
    scale = _SPREAD if original.bits == 16 else np.float32(1)
    if original.mode in ("L", "LA") or original.icc is None:
        return _plain_into(original.mode, scale)
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(original.icc))
        srgb = is_srgb(profile)
    except (OSError, ImageCms.PyCMSError) as exc:
        raise ImageFileError(
            f"{label}: its colour profile is damaged ({exc}); export it again with an sRGB or "
            "Adobe RGB profile.",
            "invalid_icc_profile",
        ) from None
    if srgb and original.mode != "CMYK":
        return _plain_into(original.mode, scale)
    shaper = matrix_shaper(original.icc) if original.bits == 16 else None
    if shaper is not None:
        return MatrixInto(shaper)
    return _lcms_into(profile, "CMYK" if original.mode == "CMYK" else "RGB", scale, label)
