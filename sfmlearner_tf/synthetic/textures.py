"""Band-limited procedural textures fixed in world coordinates.

Each texture is a tileable 1/f ("pink") noise image with a mip pyramid. A lookup takes surface coordinates in
metres and the pixel footprint on the surface (metres) and blends the two pyramid levels around it
(trilinear), so detail is as fine as the image can hold and never finer: brightness constancy then holds
under bilinear warping, at every resolution. Hard patterns (lane markings, windows) are box-filtered with the
same footprint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TEXTURE_SIZE = 512


def pink_noise(rng: np.random.Generator, size: int = TEXTURE_SIZE, exponent: float = 0.8) -> np.ndarray:
    """Tileable noise with power ~ 1/f^(2 exponent), zero mean and unit standard deviation, float32 [size, size]."""
    freq = np.fft.fftfreq(size)
    radius = np.hypot(freq[:, None], freq[None, :])
    radius[0, 0] = 1.0
    spectrum = np.fft.fft2(rng.standard_normal((size, size))) / radius**exponent
    spectrum[0, 0] = 0.0
    image = np.real(np.fft.ifft2(spectrum))
    return ((image - image.mean()) / image.std()).astype(np.float32)


def mip_pyramid(image: np.ndarray) -> list[np.ndarray]:
    """[level0, level1, ...] by 2x2 averaging down to 1x1."""
    levels = [image]
    while levels[-1].shape[0] > 1:
        top = levels[-1]
        levels.append(0.25 * (top[0::2, 0::2] + top[1::2, 0::2] + top[0::2, 1::2] + top[1::2, 1::2]))
    return levels


@dataclass(frozen=True)
class TextureBank:
    """A few noise pyramids shared by all surfaces of a data set."""

    pyramids: tuple[list[np.ndarray], ...]

    @classmethod
    def create(cls, rng: np.random.Generator, count: int = 4) -> TextureBank:
        return cls(tuple(mip_pyramid(pink_noise(rng)) for _ in range(count)))

    def sample(self, texture: int, u: np.ndarray, v: np.ndarray, footprint: np.ndarray, texel: float) -> np.ndarray:
        """Trilinear lookup of texture `texture` at (u, v) metres, texel size `texel` metres at level 0."""
        pyramid = self.pyramids[texture]
        lod = np.clip(np.log2(np.maximum(footprint, 1e-9) / texel), 0.0, len(pyramid) - 1.0)
        low = np.floor(lod).astype(np.int32)
        frac = (lod - low).astype(np.float32)
        out = np.zeros(u.shape, dtype=np.float32)
        for level in np.unique(low):
            sel = low == level
            lo = _bilinear(pyramid[level], u[sel] / texel, v[sel] / texel, level)
            if level + 1 < len(pyramid):
                hi = _bilinear(pyramid[level + 1], u[sel] / texel, v[sel] / texel, level + 1)
                lo = lo + frac[sel] * (hi - lo)
            out[sel] = lo
        return out


def _bilinear(image: np.ndarray, u: np.ndarray, v: np.ndarray, level: int) -> np.ndarray:
    """Wrapping bilinear lookup at level-0 texel coordinates (u, v); texel centres at integers."""
    size = image.shape[0]
    scale = 0.5**level
    x = u * scale - 0.5 + 0.5 * scale  # level-l texel i covers level-0 texels [i 2^l, (i+1) 2^l)
    y = v * scale - 0.5 + 0.5 * scale
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0).astype(np.float32), (y - y0).astype(np.float32)
    mask = size - 1
    x0 = x0.astype(np.int64) & mask
    y0 = y0.astype(np.int64) & mask
    x1, y1 = (x0 + 1) & mask, (y0 + 1) & mask
    top = image[y0, x0] + fx * (image[y0, x1] - image[y0, x0])
    bottom = image[y1, x0] + fx * (image[y1, x1] - image[y1, x0])
    return top + fy * (bottom - top)


def box_filtered_band(coord: np.ndarray, centre: float | np.ndarray, half_width: float | np.ndarray,
                      footprint: np.ndarray) -> np.ndarray:
    """Coverage in [0, 1] of the band |coord - centre| < half_width, box-filtered over `footprint`."""
    fp = np.maximum(footprint, 1e-6)
    lo = np.clip((coord - (centre - half_width)) / fp + 0.5, 0.0, 1.0)
    hi = np.clip((coord - (centre + half_width)) / fp + 0.5, 0.0, 1.0)
    return (lo - hi).astype(np.float32)


def box_filtered_grid(coord: np.ndarray, period: float | np.ndarray, duty: float | np.ndarray,
                      footprint: np.ndarray) -> np.ndarray:
    """Coverage of periodic bands (width duty*period centred in each period), fading to the mean duty when the
    footprint approaches the period (where the pattern can no longer be resolved)."""
    phase = np.mod(coord, period)
    coverage = box_filtered_band(phase, 0.5 * period, 0.5 * duty * period, footprint)
    fade = np.clip(2.0 * footprint / period - 0.5, 0.0, 1.0).astype(np.float32)
    return coverage + fade * (duty - coverage)
