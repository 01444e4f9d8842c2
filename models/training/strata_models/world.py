"""The procedural world: layered scenes rendered from a seed with NumPy.

Every background and every object is drawn from a small vector of appearance
parameters in [0, 1].  Each parameter is the standard-normal CDF of one noise
coordinate, so the first dimensions of the generators' noise vectors *are* the
world's parameters (see ``params_from_noise``); the remaining dimensions are
free noise.  That is what lets a generator trained with a reconstruction loss
give a seed a meaning.

Coordinates: x to the right, y downwards, both in [0, 1] over the canvas.
Colours are float RGB in [0, 1] while rendering; images leave as uint8.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

STYLES: Tuple[str, ...] = ("day", "dusk", "night")
CATEGORIES: Tuple[str, ...] = ("tree", "pine", "house", "horse", "rock", "bush")

NOISE_BACKGROUND = 32
NOISE_FOREGROUND = 32
NOISE_SHAPE = 16
BG_PARAMS = 16  # meaningful leading dims of the background noise
FG_PARAMS = 8  # meaningful leading dims of the foreground noise
SHAPE_PARAMS = 8  # meaningful leading dims of the shape noise
DILATION = 2

Array = np.ndarray


# ---------------------------------------------------------------- helpers

def erf(x: Array) -> Array:
    """Vectorised erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7)."""
    x = np.asarray(x, dtype=np.float64)
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * np.exp(-a * a)
    return s * y


def params_from_noise(z: Array) -> Array:
    """Standard-normal coordinates -> parameters in (0, 1) (the normal CDF)."""
    return 0.5 * (1.0 + erf(np.asarray(z, dtype=np.float64) / np.sqrt(2.0)))


def hsv_to_rgb(h: Array, s: Array, v: Array) -> Array:
    """Vectorised HSV -> RGB; returns [..., 3]."""
    h = np.mod(np.asarray(h, dtype=np.float64), 1.0)
    s = np.clip(s, 0, 1)
    v = np.clip(v, 0, 1)
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    p = v * (1 - s)
    q = v * (1 - s * f)
    t = v * (1 - s * (1 - f))
    i = i.astype(np.int64) % 6
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-1)


def lerp(a: Array, b: Array, t: Array) -> Array:
    return a + (b - a) * t


def smoothstep(e0: float, e1: float, x: Array) -> Array:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def grid(res: int) -> Tuple[Array, Array]:
    c = (np.arange(res, dtype=np.float64) + 0.5) / res
    y, x = np.meshgrid(c, c, indexing="ij")
    return x, y


def dilate(mask: Array, d: int = DILATION) -> Array:
    """Binary dilation with a (2d+1)^2 square, same as max_pool2d(k=2d+1, s=1, p=d)."""
    m = mask.astype(bool)
    h, w = m.shape
    p = np.pad(m, d)
    out = np.zeros_like(m)
    for dy in range(2 * d + 1):
        for dx in range(2 * d + 1):
            out |= p[dy:dy + h, dx:dx + w]
    return out


def to_uint8(img: Array) -> Array:
    return np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- background

SKY = {
    # top colour, horizon colour
    "day": ((0.22, 0.45, 0.88), (0.72, 0.86, 0.98)),
    "dusk": ((0.22, 0.16, 0.42), (0.98, 0.55, 0.28)),
    "night": ((0.01, 0.02, 0.08), (0.07, 0.10, 0.22)),
}
GROUND = {  # base colours of grass, sand, snow
    "grass": (0.30, 0.55, 0.20),
    "sand": (0.84, 0.74, 0.50),
    "snow": (0.92, 0.94, 0.97),
}
LIGHT = {  # tint, ambient, diffuse (signed: + means light from the left)
    "day": ((1.0, 1.0, 0.96), 0.78, 0.30),
    "dusk": ((1.12, 0.78, 0.58), 0.62, 0.30),
    "night": ((0.42, 0.52, 0.85), 0.52, -0.10),
}


def horizon_of(p: Array) -> float:
    return 0.42 + 0.16 * float(p[8])


def _ridge(x: Array, phase: float, seedf: Sequence[float]) -> Array:
    r = np.zeros_like(x)
    for k, f in enumerate(seedf):
        r += np.abs(np.sin(np.pi * (f * x + phase * (k + 1.3) + 0.37 * k))) / (k + 1)
    return r / sum(1.0 / (k + 1) for k in range(len(seedf)))


def render_background(style: int, p: Array, res: int) -> Array:
    """Render a background from style index and 16 params in [0,1]; float RGB [res,res,3]."""
    name = STYLES[style]
    x, y = grid(res)
    hz = horizon_of(p)
    top, bot = (np.array(c) for c in SKY[name])
    # sky tint variation and brightness
    hue_shift = (p[13] - 0.5) * 0.25
    top = np.clip(top + np.array([hue_shift, -0.5 * abs(hue_shift), -hue_shift]) * 0.6, 0, 1)
    bright = 0.85 + 0.3 * p[1] if name != "night" else 0.8 + 0.4 * p[1]
    t = np.clip(y / hz, 0, 1)[..., None] ** 0.8
    img = lerp(top, bot, t) * bright

    # stars at night (deterministic pattern scrolled by the cloud phase)
    if name == "night":
        sx = np.sin(x * 91.7 + p[3] * 20.0) * np.sin(y * 73.3 + 1.7)
        stars = (sx > 0.985).astype(np.float64) * (y < hz * 0.85)
        img = img + stars[..., None] * 0.6

    # sun / moon
    if name == "day":
        cx, cy, rad, col = 0.08 + 0.4 * p[0], 0.08 + 0.25 * p[1] * hz, 0.07, np.array([1.0, 0.97, 0.8])
    elif name == "dusk":
        cx, cy, rad, col = 0.08 + 0.35 * p[0], hz * (0.55 + 0.35 * p[1]), 0.10, np.array([1.0, 0.72, 0.35])
    else:
        cx, cy, rad, col = 0.55 + 0.37 * p[0], 0.08 + 0.3 * p[1] * hz, 0.06, np.array([0.92, 0.93, 0.85])
    d = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    glow = np.exp(-((d / (rad * 3.0)) ** 2)) * (0.35 if name != "night" else 0.15)
    img = img + glow[..., None] * col
    disc = smoothstep(rad, rad * 0.8, d)
    img = lerp(img, col, disc[..., None])

    # clouds: a band of soft blobs, cover p2, phase p3
    cover = p[2]
    ph = p[3] * 2 * np.pi
    f = (np.sin(x * 7.0 + ph) * 0.5 + np.sin(x * 13.0 - 1.3 * ph + y * 5.0) * 0.3
         + np.sin(x * 3.0 + 2.1 * ph) * 0.4)
    band = np.exp(-(((y - hz * (0.35 + 0.2 * p[1])) / (0.12 + 0.1 * cover)) ** 2))
    dens = np.clip((f * band + band * (cover * 1.2 - 0.55)) * 2.2, 0, 1) * (y < hz)
    ccol = {"day": (0.97, 0.97, 0.98), "dusk": (0.95, 0.55, 0.50), "night": (0.16, 0.18, 0.26)}[name]
    img = lerp(img, np.array(ccol), (dens * 0.9)[..., None])

    haze_col = bot * bright
    haze = 0.25 + 0.5 * p[14]
    # far mountains
    far_h = 0.06 + 0.16 * p[4]
    ridge = hz - far_h * (0.35 + 0.65 * _ridge(x, p[5], (2.1, 4.7, 9.3)))
    mcol = {"day": (0.35, 0.42, 0.55), "dusk": (0.35, 0.22, 0.35), "night": (0.05, 0.06, 0.12)}[name]
    mcol = lerp(np.array(mcol), haze_col, haze)
    snowcap = (y < ridge + 0.025) & (p[4] > 0.6) & (name != "dusk")
    m = (y >= ridge) & (y < hz + 0.01)
    img = np.where(m[..., None], mcol * (1 + 0.25 * snowcap[..., None]), img)
    # near hills
    near_h = 0.03 + 0.1 * p[6]
    ridge2 = hz - near_h * (0.3 + 0.7 * _ridge(x, p[7], (1.3, 3.1)))
    hcol = {"day": (0.22, 0.38, 0.22), "dusk": (0.25, 0.16, 0.20), "night": (0.03, 0.05, 0.07)}[name]
    hcol = lerp(np.array(hcol), haze_col, haze * 0.45)
    m2 = (y >= ridge2) & (y < hz + 0.01)
    img = np.where(m2[..., None], hcol * (0.9 + 0.2 * (y - ridge2)[..., None] / max(near_h, 1e-3)), img)

    # ground
    kind = "grass" if p[11] < 0.5 else ("sand" if p[11] < 0.75 else "snow")
    g = np.array(GROUND[kind]) * (0.85 + 0.3 * p[12])
    g = g + np.array([(p[12] - 0.5) * 0.12, 0, -(p[12] - 0.5) * 0.06])
    tint, amb, _ = LIGHT[name]
    g = g * np.array(tint) * (amb + 0.25)
    gt = np.clip((y - hz) / (1 - hz), 0, 1)[..., None]
    tex = (np.sin(x * 40.0 + np.sin(y * 25.0 + p[15] * 6.0) * 2.0) * np.sin(y * 55.0 * (1 + gt[..., 0])))[..., None]
    gcol = g * (1.0 + 0.18 * gt - 0.1 * (1 - gt)) * (1 + 0.06 * tex)
    gcol = lerp(gcol, haze_col, (1 - gt) ** 4 * 0.35 * haze)
    ground = y >= hz
    img = np.where(ground[..., None], gcol, img)

    # water: none / lake / river, centred at p10
    wx = 0.15 + 0.7 * p[10]
    wcol = lerp(bot, top, 0.5) * bright * 0.8
    if p[9] > 0.7:  # river: widens to the bottom, meanders
        half = 0.02 + 0.22 * ((y - hz) / (1 - hz)) * (0.6 + 0.4 * p[9])
        cxr = wx + 0.08 * np.sin((y - hz) * 9.0 + p[10] * 4.0)
        water = ground & (np.abs(x - cxr) < half)
    elif p[9] > 0.35:  # lake just below the horizon
        depth = 0.05 + 0.15 * (p[9] - 0.35) / 0.35
        ww = 0.2 + 0.25 * p[10]
        water = ground & (((x - wx) / ww) ** 2 + ((y - hz) / depth) ** 2 < 1)
    else:
        water = np.zeros_like(ground)
    sparkle = (np.sin(y * 120.0) > 0.75) * (0.06 if name != "night" else 0.03)
    wimg = wcol + sparkle[..., None] + 0.05 * np.sin(x * 30.0 + y * 80.0)[..., None]
    img = np.where(water[..., None], wimg, img)
    return np.clip(img, 0, 1)


# ---------------------------------------------------------------- objects

@dataclass
class Shape:
    inside: Array  # bool
    part: Array  # int role: 0 primary, 1 secondary, 2 dark detail, 3 light detail
    nx: Array  # lateral normal in [-1, 1] (negative = facing left)


def _ellipse(u: Array, v: Array, cu: float, cv: float, ru: float, rv: float) -> Tuple[Array, Array]:
    du = (u - cu) / ru
    dv = (v - cv) / rv
    return du * du + dv * dv <= 1.0, np.clip(du, -1, 1)


def _rect(u: Array, v: Array, u0: float, u1: float, v0: float, v1: float) -> Array:
    return (u >= u0) & (u <= u1) & (v >= v0) & (v <= v1)


def shape_tree(u: Array, v: Array, q: Array) -> Shape:
    tw = 0.07 + 0.08 * q[0]
    th = 0.22 + 0.2 * q[1]
    rw = 0.30 + 0.18 * q[2]
    crown_bot = 1.0 - th + 0.08
    rv = crown_bot / 2.0
    lean = (q[6] - 0.5) * 0.1
    cu = 0.5 + lean
    inside_c, nx_c = _ellipse(u, v, cu, rv, rw, rv)
    side = 0.4 + 0.5 * q[3]
    lr = 0.45 + 0.35 * q[4]
    for s in (-1.0, 1.0):
        e, _ = _ellipse(u, v, cu + s * rw * side, rv * (1.1 + 0.3 * q[5]), rw * lr, rv * lr)
        inside_c |= e
    nx_c = np.clip((u - cu) / rw, -1, 1)
    trunk = _rect(u, v, 0.5 - tw / 2, 0.5 + tw / 2, rv, 1.0)
    inside = inside_c | trunk
    part = np.where(inside_c, 0, 1)
    nx = np.where(inside_c, nx_c, np.clip((u - 0.5) / (tw / 2), -1, 1))
    return Shape(inside, part, nx)


def shape_pine(u: Array, v: Array, q: Array) -> Shape:
    tw = 0.06 + 0.06 * q[0]
    th = 0.07 + 0.1 * q[1]
    tiers = 2 + int(min(q[2], 0.999) * 3)
    wb = 0.34 + 0.14 * q[3]
    top = 0.0
    bot = 1.0 - th
    inside = np.zeros(u.shape, dtype=bool)
    span = (bot - top)
    nxc = np.zeros(u.shape)
    for i in range(tiers):
        t0 = top + span * i / (tiers + 0.6)
        t1 = top + span * (i + 1.6) / (tiers + 0.6)
        w = wb * (0.45 + 0.55 * (i + 1) / tiers)
        frac = np.clip((v - t0) / (t1 - t0), 0, 1)
        hw = w * frac * (1.0 + 0.08 * q[4] * np.sin(frac * 12.0))
        tier = (v >= t0) & (v <= t1) & (np.abs(u - 0.5) <= hw)
        inside |= tier
        nxc = np.where(tier, np.clip((u - 0.5) / np.maximum(hw, 1e-3), -1, 1), nxc)
    trunk = _rect(u, v, 0.5 - tw / 2, 0.5 + tw / 2, bot - 0.05, 1.0) & ~inside
    part = np.where(inside, 0, 1)
    inside = inside | trunk
    nx = np.where(trunk, np.clip((u - 0.5) / (tw / 2), -1, 1), nxc)
    return Shape(inside, part, nx)


def shape_house(u: Array, v: Array, q: Array) -> Shape:
    bw = 0.62 + 0.34 * q[0]
    bh = 0.45 + 0.2 * q[1]
    over = 0.03 + 0.05 * q[2]
    b0, b1 = 0.5 - bw / 2, 0.5 + bw / 2
    v_top = 1.0 - bh
    body = _rect(u, v, b0, b1, v_top, 1.0)
    # roof: gable (triangle) or hip (trapezoid)
    ridge = 0.0 if q[3] < 0.5 else 0.25 * bw * (q[3] - 0.5) * 2
    fr = np.clip((v - 0.0) / max(v_top, 1e-3), 0, 1)
    hw = ridge + (bw / 2 + over - ridge) * fr
    roof = (v >= 0.0) & (v < v_top) & (np.abs(u - 0.5) <= hw) & (v >= 0.02 + (1 - q[3]) * 0.0)
    chim = _rect(u, v, 0.5 + bw * 0.22, 0.5 + bw * 0.22 + 0.07, 0.02, v_top * 0.6) if q[4] > 0.5 else np.zeros_like(body)
    inside = body | roof | chim
    part = np.where(body, 0, 1)
    # door and windows as details inside the body
    du = 0.5 + (q[5] - 0.5) * bw * 0.5
    door = _rect(u, v, du - 0.07, du + 0.07, 1.0 - bh * 0.55, 1.0)
    wy0, wy1 = v_top + bh * 0.18, v_top + bh * 0.42
    win = np.zeros_like(body)
    for wu in (b0 + bw * 0.2, b1 - bw * 0.2):
        if abs(wu - du) > 0.14:
            win |= _rect(u, v, wu - 0.06, wu + 0.06, wy0, wy1)
    part = np.where(body & door, 2, part)
    part = np.where(body & win, 3, part)
    nx = np.where(body, np.clip((u - 0.5) / (bw / 2), -1, 1) * 0.5, np.clip((u - 0.5) / (bw / 2), -1, 1))
    return Shape(inside, part, nx)


def shape_horse(u: Array, v: Array, q: Array) -> Shape:
    if q[0] >= 0.5:  # facing right: mirror
        u = 1.0 - u
    bl = 0.26 + 0.06 * q[1]
    bh = 0.14 + 0.05 * q[2]
    cy = 0.40 + 0.1 * q[5]
    cu = 0.55
    body, nxb = _ellipse(u, v, cu, cy, bl, bh)
    legs = np.zeros_like(body)
    leg_w = 0.045
    for lu in (cu - bl * 0.75, cu - bl * 0.5, cu + bl * 0.5, cu + bl * 0.75):
        legs |= _rect(u, v, lu - leg_w / 2, lu + leg_w / 2, cy, 1.0)
    # neck: a slanted band from the front of the body up to the head
    ang = 0.5 + 0.5 * q[3]
    nu0, nv0 = cu - bl * 0.75, cy - bh * 0.3
    nu1, nv1 = nu0 - 0.12 * (1.2 - ang), 0.1 + 0.08 * (1 - ang)
    t = np.clip(((u - nu0) * (nu1 - nu0) + (v - nv0) * (nv1 - nv0)) / ((nu1 - nu0) ** 2 + (nv1 - nv0) ** 2), 0, 1)
    pu, pv = nu0 + t * (nu1 - nu0), nv0 + t * (nv1 - nv0)
    neck = (u - pu) ** 2 + (v - pv) ** 2 <= (0.07 - 0.02 * t) ** 2
    hs = 0.07 + 0.03 * q[4]
    head, _ = _ellipse(u, v, nu1 - hs * 0.6, nv1 + 0.03, hs * 1.2, hs * 0.6)
    mane = neck & ((u - pu) * (nv1 - nv0) - (v - pv) * (nu1 - nu0) < -0.0)
    tail = (np.abs(u - (cu + bl + 0.03 + 0.1 * (v - cy))) < 0.025) & (v > cy - bh * 0.5) & (v < cy + 0.3)
    inside = body | legs | neck | head | tail
    part = np.where(mane | tail, 2, 0)
    part = np.where(legs & (v > 0.93), 2, part)  # hooves
    nx = np.clip((u - cu) / bl, -1, 1)
    if q[0] >= 0.5:
        nx = -nx
    return Shape(inside, part, nx)


def shape_rock(u: Array, v: Array, q: Array) -> Shape:
    rx = 0.46 - 0.08 * q[2]
    ry = 0.75 + 0.25 * q[3]
    du = (u - 0.5) / rx
    dv = (v - 1.0) / ry
    ang = np.arctan2(dv, du)
    r = 1.0 + 0.12 * np.sin(3 * ang + 6.28 * q[0]) + 0.07 * np.sin(5 * ang + 6.28 * q[1]) + 0.05 * np.sin(8 * ang + 3 * q[4])
    inside = (du * du + dv * dv <= r * r) & (v <= 1.0)
    crack = np.abs(u - 0.5 - 0.2 * (q[5] - 0.5) - 0.15 * (v - 0.6)) < 0.025
    part = np.where(crack & (v > 1.0 - ry * 0.8), 2, 0)
    nx = np.clip(du, -1, 1)
    return Shape(inside, part, nx)


def shape_bush(u: Array, v: Array, q: Array) -> Shape:
    n = 3 + int(min(q[0], 0.999) * 3)
    inside = np.zeros(u.shape, dtype=bool)
    for i in range(n):
        fu = (i + 0.5) / n
        cu = 0.12 + 0.76 * fu
        r = 0.20 + 0.12 * q[1] + 0.08 * np.sin(i * 2.3 + q[2] * 6.0)
        cv = 1.0 - r * (0.9 + 0.5 * (1 - abs(fu - 0.5) * 2) * q[3])
        e, _ = _ellipse(u, v, cu, cv, r * 0.85, r)
        inside |= e
    inside |= _rect(u, v, 0.12, 0.88, 0.75, 1.0)
    inside &= v <= 1.0
    part = np.zeros(u.shape, dtype=np.int64)
    nx = np.clip((u - 0.5) / 0.45, -1, 1)
    return Shape(inside, part, nx)


SHAPES = {
    "tree": shape_tree, "pine": shape_pine, "house": shape_house,
    "horse": shape_horse, "rock": shape_rock, "bush": shape_bush,
}
# box size relative to the perspective scale: (height, width)
BOX = {
    "tree": (1.7, 1.2), "pine": (1.8, 0.9), "house": (1.15, 1.35),
    "horse": (0.85, 1.15), "rock": (0.5, 0.8), "bush": (0.55, 1.0),
}


def shape_mask(category: int, q: Array, res: int) -> Array:
    """Object-centred mask [res,res] bool: the object fills the unit box, touching the bottom."""
    x, y = grid(res)
    return SHAPES[CATEGORIES[category]](x, y, q).inside


def _colours(cat: str, a: Array, style: str) -> Tuple[Array, Array, Array, Array]:
    """Return role colours (primary, secondary, dark detail, light detail) as RGB arrays."""
    if cat == "tree":
        prim = hsv_to_rgb(0.07 + 0.3 * a[0], 0.55 + 0.35 * a[2], 0.35 + 0.35 * a[1])
        sec = hsv_to_rgb(0.07, 0.5, 0.22 + 0.2 * a[7])
        dark, light = prim * 0.6, prim * 1.2
    elif cat == "pine":
        prim = hsv_to_rgb(0.3 + 0.15 * a[0], 0.5 + 0.4 * a[2], 0.22 + 0.25 * a[1])
        sec = hsv_to_rgb(0.06, 0.55, 0.2 + 0.15 * a[7])
        dark, light = prim * 0.6, prim * 1.2
    elif cat == "house":
        prim = hsv_to_rgb(a[0], 0.1 + 0.5 * a[2], 0.55 + 0.4 * a[1])
        sec = hsv_to_rgb(0.0 + 0.65 * a[3] ** 2, 0.35 + 0.4 * a[2], 0.3 + 0.3 * a[7])
        dark = hsv_to_rgb(0.07, 0.6, 0.25)
        light = np.array([0.55, 0.7, 0.85]) if style != "night" else np.array([1.0, 0.85, 0.4])
    elif cat == "horse":
        prim = hsv_to_rgb(0.04 + 0.06 * a[0], 0.2 + 0.5 * a[2], 0.15 + 0.75 * a[1])
        sec = prim
        dark = prim * 0.35 if a[6] < 0.5 else np.array([0.85, 0.82, 0.75])
        light = prim * 1.2
    elif cat == "rock":
        prim = hsv_to_rgb(0.05 + 0.6 * a[0], 0.05 + 0.2 * a[2], 0.35 + 0.4 * a[1])
        sec, dark, light = prim, prim * 0.5, prim * 1.2
    else:  # bush
        prim = hsv_to_rgb(0.2 + 0.2 * a[0], 0.5 + 0.4 * a[2], 0.25 + 0.3 * a[1])
        sec = hsv_to_rgb(a[3], 0.7, 0.95)  # flowers
        dark, light = prim * 0.6, prim * 1.2
    return prim, sec, dark, light


def paint_object(canvas: Array, category: int, q: Array, a: Array, box: Tuple[float, float, float, float],
                 style: int) -> Tuple[Array, Array]:
    """Paint one object onto a float canvas [R,R,3]; returns (new canvas, instance mask bool [R,R]).

    box = (x0, y0, w, h) normalised.  Only pixels inside the dilated mask change.
    """
    res = canvas.shape[0]
    name = CATEGORIES[category]
    sname = STYLES[style]
    x, y = grid(res)
    bx, by, bw, bh = box
    u = (x - bx) / bw
    v = (y - by) / bh
    sh = SHAPES[name](u, v, q)
    mask = sh.inside & (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)
    prim, sec, dark, light = _colours(name, a, sname)
    col = np.where((sh.part == 0)[..., None], prim, sec)
    col = np.where((sh.part == 2)[..., None], dark, col)
    col = np.where((sh.part == 3)[..., None], light, col)
    # texture
    ph = a[4] * 6.283
    st = 0.1 + 0.25 * a[5]
    if name in ("tree", "pine", "bush"):
        tex = np.sin(u * 31.0 + ph) * np.sin(v * 27.0 + 1.7 * ph) + 0.5 * np.sin((u + v) * 17.0 - ph)
        col = col * (1 + st * 0.6 * tex)[..., None]
        if name == "bush" and a[6] > 0.5:
            dots = (np.sin(u * 41.0 + ph) * np.sin(v * 37.0 + ph) > 0.8) & (sh.part == 0)
            col = np.where(dots[..., None], sec, col)
    elif name == "rock":
        tex = np.sin(u * 23.0 + v * 9.0 + ph) * np.sin(v * 19.0 - ph)
        col = col * (1 + st * 0.5 * tex)[..., None]
    elif name == "horse":
        col = col * (1 + 0.08 * st * np.sin(v * 25.0 + ph))[..., None]
    elif name == "house":
        bricks = (np.sin(v * 60.0) > 0.85) & (sh.part == 0)
        col = col * (1 - st * 0.3 * bricks)[..., None]
        roof_lines = (np.sin(u * 45.0 + ph) > 0.7) & (sh.part == 1)
        col = col * (1 - st * 0.4 * roof_lines)[..., None]
    # lighting from the background's time of day
    tint, amb, diff = LIGHT[sname]
    shade = amb + diff * (-sh.nx) + 0.12 * (0.5 - np.clip(v, 0, 1)) * (1 if sname != "night" else 0.3)
    if sname == "dusk":
        shade = shade - 0.10 * (sh.nx > 0.2)  # long shadow side away from the low sun
    lit = col * shade[..., None] * np.array(tint)
    if name == "house" and sname == "night":
        lit = np.where((sh.part == 3)[..., None], light, lit)  # windows glow at night
    out = canvas.copy()
    out = np.where(mask[..., None], np.clip(lit, 0, 1), out)
    # contact shadow in the dilation band near the base
    dil = dilate(mask)
    band = dil & ~mask
    base = mask.any(axis=1)
    if base.any():
        ybot = np.nonzero(base)[0].max()
        near = (y * res >= ybot - max(2.0, 0.18 * bh * res)) & (y * res <= ybot + DILATION + 0.5)
        factor = {"day": 0.55, "dusk": 0.5, "night": 0.75}[sname]
        sh_band = band & near
        if sname == "dusk":
            sh_band = sh_band | (band & (u > 0.5) & (v > 0.6))
        out = np.where(sh_band[..., None], out * factor, out)
    return out, mask


# ---------------------------------------------------------------- scenes

@dataclass
class SceneObject:
    category: int
    box: Tuple[float, float, float, float]
    z_shape: Array  # [NOISE_SHAPE]
    z_fg: Array  # [NOISE_FOREGROUND]
    mask: Array = field(default=None)  # bool [R,R]


@dataclass
class Scene:
    style: int
    z_bg: Array
    background: Array  # uint8 [R,R,3]
    canvases: List[Array]  # uint8, canvases[0] = background, canvases[t] after object t
    objects: List[SceneObject]


def random_box(rng: np.random.Generator, category: int, hz: float) -> Tuple[float, float, float, float]:
    base = rng.uniform(hz + 0.06, 1.02)
    depth = (base - hz) / (1.0 - hz)
    scale = 0.16 + 0.30 * depth
    hf, wf = BOX[CATEGORIES[category]]
    h = scale * hf * rng.uniform(0.85, 1.15)
    w = scale * wf * rng.uniform(0.85, 1.15)
    h = min(h, base - 0.02)
    cx = rng.uniform(0.08, 0.92)
    return (cx - w / 2, base - h, w, h)


def render_scene(seed: int, res: int, n_objects: Optional[int] = None, max_objects: int = 4,
                 style: Optional[int] = None, layout: Optional[List[Tuple[int, Tuple[float, float, float, float]]]] = None) -> Scene:
    """A layered scene, deterministic from ``seed``; objects painted back to front."""
    rng = np.random.default_rng(seed)
    st = int(rng.integers(len(STYLES))) if style is None else style
    z_bg = rng.standard_normal(NOISE_BACKGROUND).astype(np.float32)
    p = params_from_noise(z_bg[:BG_PARAMS])
    bg = render_background(st, p, res)
    hz = horizon_of(p)
    if layout is None:
        k = int(rng.integers(1, max_objects + 1)) if n_objects is None else n_objects
        cats = rng.integers(len(CATEGORIES), size=k)
        layout = [(int(c), random_box(rng, int(c), hz)) for c in cats]
        layout.sort(key=lambda cb: cb[1][1] + cb[1][3])  # far (small base y) first
    canv = bg
    canvases = [to_uint8(bg)]
    objs: List[SceneObject] = []
    for c, box in layout:
        zs = rng.standard_normal(NOISE_SHAPE).astype(np.float32)
        zf = rng.standard_normal(NOISE_FOREGROUND).astype(np.float32)
        canv = canvases[-1].astype(np.float64) / 255.0
        canv, m = paint_object(canv, c, params_from_noise(zs[:SHAPE_PARAMS]), params_from_noise(zf[:FG_PARAMS]), box, st)
        canvases.append(to_uint8(canv))
        objs.append(SceneObject(c, box, zs, zf, m))
    return Scene(st, z_bg, canvases[0], canvases, objs)


def background_image(style: int, z_bg: Array, res: int) -> Array:
    return to_uint8(render_background(style, params_from_noise(np.asarray(z_bg)[:BG_PARAMS]), res))


def main(argv: Optional[List[str]] = None) -> None:
    """Render a sheet of world scenes (each row: x0 ... xT):  python -m strata_models.world --out world.png"""
    import argparse

    from PIL import Image

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--out", default="world.png")
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--rows", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    R = a.resolution
    rows = []
    for r in range(a.rows):
        s = render_scene(a.seed + r, R, n_objects=4, style=r % len(STYLES))
        rows.append(np.concatenate(s.canvases, 1))
    img = np.concatenate(rows, 0)
    Image.fromarray(img).resize((img.shape[1] * 3, img.shape[0] * 3), Image.NEAREST).save(a.out)
    print(a.out)


if __name__ == "__main__":
    main()
