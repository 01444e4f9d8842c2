"""The v2 procedural world: the v1 world (``strata_models.world``) with more detail and two more categories.

Changes against v1 (v1 stays as it is for ``--resolution 64``):
  * categories: the six of v1 plus ``person`` and ``sheep`` (8 in all, in this one-hot order);
  * backgrounds: crisp sun and moon discs (a one-pixel edge at any resolution, the moon with a crescent
    shadow), more and sharper stars at night, lakes and rivers more frequent and clearly visible
    (sky-coloured water with a darker shore line and ripples);
  * objects: every instance mask is one 4-connected component (the largest one is kept; the horse's tail
    now joins its body), textures as in v1 (leaves, bricks, roof lines, windows lit at night, bush
    flowers), plus the person's clothes and the sheep's wool;
  * ``paint_object`` works in any frame: the foreground crop of v2 is painted by calling it on the crop
    with the box mapped into the crop (see ``crop_box``), so the training target of the object-centric
    generator is the world's own rendering at crop resolution, crisp at every object size.

The noise layout is v1's: every parameter is the normal CDF of one noise coordinate (16 of the 32
background dims, 8 of the 32 foreground dims, 8 of the 16 shape dims).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np

from .. import world as W1
from ..world import (BG_PARAMS, DILATION, FG_PARAMS, LIGHT, NOISE_BACKGROUND, NOISE_FOREGROUND, NOISE_SHAPE,
                     SHAPE_PARAMS, STYLES, Shape, _ellipse, _rect, dilate, grid, hsv_to_rgb, horizon_of, lerp,
                     params_from_noise, smoothstep, to_uint8)

Array = np.ndarray

CATEGORIES: Tuple[str, ...] = W1.CATEGORIES + ("person", "sheep")
WORLD_VERSION = 3

# --- the object-centric crop (see engine.py): the box is mapped onto the central CROP_BOX x CROP_BOX
# pixels of a CROP x CROP crop; the margin on each side is MARGIN of the box's width / height.
CROP = 64
CROP_BOX = 48
MARGIN = (CROP - CROP_BOX) / 2 / CROP_BOX  # = 1/6


def crop_box(crop: int = CROP) -> Tuple[float, float, float, float]:
    """The object's box in the crop's normalised coordinates: (m, m, 1 - 2m, 1 - 2m) with m = MARGIN / (1 + 2 MARGIN)."""
    f = MARGIN / (1 + 2 * MARGIN)
    return (f, f, 1 - 2 * f, 1 - 2 * f)


def largest_component(m: Array) -> Array:
    """Keep the largest 4-connected component of a boolean mask (label propagation, no SciPy)."""
    m = np.asarray(m, dtype=bool)
    if not m.any():
        return m
    ys, xs = np.nonzero(m)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    sub = m[y0:y1, x0:x1]
    lab = np.where(sub, np.arange(1, sub.size + 1).reshape(sub.shape), 0)
    while True:
        p = np.pad(lab, 1)
        nb = np.maximum.reduce([p[1:-1, 1:-1], p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]])
        nb = np.where(sub, nb, 0)
        if np.array_equal(nb, lab):
            break
        lab = nb
    counts = np.bincount(lab.ravel())
    counts[0] = 0
    out = np.zeros_like(m)
    out[y0:y1, x0:x1] = lab == counts.argmax()
    return out


def components(m: Array) -> int:
    """Number of 8-connected components of a boolean mask (the speck measure of the evaluation)."""
    m = np.asarray(m, dtype=bool)
    if not m.any():
        return 0
    lab = np.where(m, np.arange(1, m.size + 1).reshape(m.shape), 0)
    while True:
        p = np.pad(lab, 1)
        nb = np.maximum.reduce([p[1 + dy:p.shape[0] - 1 + dy, 1 + dx:p.shape[1] - 1 + dx]
                                for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
        nb = np.where(m, nb, 0)
        if np.array_equal(nb, lab):
            break
        lab = nb
    return int(len(np.unique(lab[m])))


# ---------------------------------------------------------------- background

def render_background(style: int, p: Array, res: int) -> Array:
    """v2 background from the style index and 16 params in [0,1]; float RGB [res,res,3]."""
    name = STYLES[style]
    x, y = grid(res)
    px = 1.0 / res
    hz = horizon_of(p)
    top, bot = (np.array(c) for c in W1.SKY[name])
    hue_shift = (p[13] - 0.5) * 0.25
    top = np.clip(top + np.array([hue_shift, -0.5 * abs(hue_shift), -hue_shift]) * 0.6, 0, 1)
    bright = 0.85 + 0.3 * p[1] if name != "night" else 0.8 + 0.4 * p[1]
    t = np.clip(y / hz, 0, 1)[..., None] ** 0.8
    img = lerp(top, bot, t) * bright

    if name == "night":
        # stars: points on a jittered lattice, one pixel-ish at any resolution.  The star field is the same every
        # night (only its brightness follows p1, smoothly): a field that changed chaotically with a parameter could
        # not be learnt by a reconstruction loss and would be averaged away, as v1's stars were.
        n = 26
        gx, gy = np.floor(x * n), np.floor(y * n)
        h1 = np.mod(np.sin(gx * 12.9898 + gy * 78.233) * 43758.5453, 1.0)
        h2 = np.mod(np.sin(gx * 39.3468 + gy * 11.135) * 24634.6345, 1.0)
        h3 = np.mod(np.sin(gx * 73.156 + gy * 52.235) * 13579.2468, 1.0)
        sx, sy = (gx + 0.15 + 0.7 * h1) / n, (gy + 0.15 + 0.7 * h2) / n
        r = np.maximum(0.6 * px, 0.0035) * (0.7 + 0.6 * h3)
        star = (np.hypot(x - sx, y - sy) < r) & (h3 > 0.45) & (y < hz * 0.9)
        img = img + star[..., None] * ((0.45 + 0.5 * h3) * (0.75 + 0.25 * p[1]))[..., None]

    if name == "day":
        cx, cy, rad, col = 0.08 + 0.4 * p[0], 0.08 + 0.25 * p[1] * hz, 0.07, np.array([1.0, 0.97, 0.8])
    elif name == "dusk":
        cx, cy, rad, col = 0.08 + 0.35 * p[0], hz * (0.55 + 0.35 * p[1]), 0.10, np.array([1.0, 0.72, 0.35])
    else:
        cx, cy, rad, col = 0.55 + 0.37 * p[0], 0.08 + 0.3 * p[1] * hz, 0.06, np.array([0.95, 0.95, 0.86])
    d = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    glow = np.exp(-((d / (rad * 3.0)) ** 2)) * (0.35 if name != "night" else 0.15)
    img = img + glow[..., None] * col
    disc = smoothstep(rad + 0.5 * px, rad - 0.5 * px, d)  # crisp edge
    if name == "night":  # crescent: a second disc (sky coloured) bites the moon
        d2 = np.sqrt((x - cx - rad * (0.35 + 0.4 * p[15])) ** 2 + (y - cy + rad * 0.25) ** 2)
        disc = disc * (1 - 0.85 * smoothstep(rad * 0.92 + 0.5 * px, rad * 0.92 - 0.5 * px, d2))
    img = lerp(img, col, disc[..., None])

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
    far_h = 0.06 + 0.16 * p[4]
    ridge = hz - far_h * (0.35 + 0.65 * W1._ridge(x, p[5], (2.1, 4.7, 9.3)))
    mcol = {"day": (0.35, 0.42, 0.55), "dusk": (0.35, 0.22, 0.35), "night": (0.05, 0.06, 0.12)}[name]
    mcol = lerp(np.array(mcol), haze_col, haze)
    snowcap = (y < ridge + 0.025) & (p[4] > 0.6) & (name != "dusk")
    m = (y >= ridge) & (y < hz + 0.01)
    img = np.where(m[..., None], mcol * (1 + 0.25 * snowcap[..., None]), img)
    near_h = 0.03 + 0.1 * p[6]
    ridge2 = hz - near_h * (0.3 + 0.7 * W1._ridge(x, p[7], (1.3, 3.1)))
    hcol = {"day": (0.22, 0.38, 0.22), "dusk": (0.25, 0.16, 0.20), "night": (0.03, 0.05, 0.07)}[name]
    hcol = lerp(np.array(hcol), haze_col, haze * 0.45)
    m2 = (y >= ridge2) & (y < hz + 0.01)
    img = np.where(m2[..., None], hcol * (0.9 + 0.2 * (y - ridge2)[..., None] / max(near_h, 1e-3)), img)

    kind = "grass" if p[11] < 0.5 else ("sand" if p[11] < 0.75 else "snow")
    g = np.array(W1.GROUND[kind]) * (0.85 + 0.3 * p[12])
    g = g + np.array([(p[12] - 0.5) * 0.12, 0, -(p[12] - 0.5) * 0.06])
    tint, amb, _ = LIGHT[name]
    g = g * np.array(tint) * (amb + 0.25)
    gt = np.clip((y - hz) / (1 - hz), 0, 1)[..., None]
    tex = (np.sin(x * 40.0 + np.sin(y * 25.0 + p[15] * 6.0) * 2.0) * np.sin(y * 55.0 * (1 + gt[..., 0])))[..., None]
    gcol = g * (1.0 + 0.18 * gt - 0.1 * (1 - gt)) * (1 + 0.08 * tex)
    gcol = lerp(gcol, haze_col, (1 - gt) ** 4 * 0.35 * haze)
    ground = y >= hz
    img = np.where(ground[..., None], gcol, img)

    # water: none (p9 < 0.3), a lake below the horizon (0.3-0.65) or a meandering river (> 0.65)
    wx = 0.15 + 0.7 * p[10]
    wcol = lerp(bot, top, 0.35) * bright * (0.85 if name != "night" else 1.1)
    if p[9] > 0.65:
        half = 0.018 + 0.16 * ((y - hz) / (1 - hz)) * (0.6 + 0.4 * p[9])
        cxr = wx + 0.08 * np.sin((y - hz) * 9.0 + p[10] * 4.0)
        dist = np.abs(x - cxr) / np.maximum(half, 1e-6)
        water = ground & (dist < 1)
        shore = ground & (dist >= 1) & (dist < 1 + 2.0 * px / np.maximum(half, 1e-6))
    elif p[9] > 0.3:
        depth = 0.06 + 0.14 * (p[9] - 0.3) / 0.35
        ww = 0.2 + 0.25 * p[10]
        dist = np.sqrt(((x - wx) / ww) ** 2 + ((y - hz) / depth) ** 2)
        water = ground & (dist < 1)
        shore = ground & (dist >= 1) & (dist < 1 + 2.0 * px / depth)
    else:
        water = shore = np.zeros_like(ground)
    ripple = (np.sin(y * 150.0 + np.sin(x * 20.0) * 2.0) > 0.8) * (0.10 if name != "night" else 0.05)
    wimg = wcol + ripple[..., None] + 0.04 * np.sin(x * 30.0 + y * 80.0)[..., None]
    img = np.where(shore[..., None], gcol * 0.6, img)
    img = np.where(water[..., None], wimg, img)
    return np.clip(img, 0, 1)


# ---------------------------------------------------------------- objects

def shape_horse(u: Array, v: Array, q: Array) -> Shape:
    """v1's horse with the tail joined to the body."""
    if q[0] >= 0.5:
        u = 1.0 - u
    bl = 0.26 + 0.06 * q[1]
    bh = 0.14 + 0.05 * q[2]
    cy = 0.40 + 0.1 * q[5]
    cu = 0.55
    body, _ = _ellipse(u, v, cu, cy, bl, bh)
    legs = np.zeros_like(body)
    leg_w = 0.05
    for lu in (cu - bl * 0.75, cu - bl * 0.5, cu + bl * 0.5, cu + bl * 0.75):
        legs |= _rect(u, v, lu - leg_w / 2, lu + leg_w / 2, cy, 1.0)
    ang = 0.5 + 0.5 * q[3]
    nu0, nv0 = cu - bl * 0.75, cy - bh * 0.3
    nu1, nv1 = nu0 - 0.12 * (1.2 - ang), 0.1 + 0.08 * (1 - ang)
    t = np.clip(((u - nu0) * (nu1 - nu0) + (v - nv0) * (nv1 - nv0)) / ((nu1 - nu0) ** 2 + (nv1 - nv0) ** 2), 0, 1)
    pu, pv = nu0 + t * (nu1 - nu0), nv0 + t * (nv1 - nv0)
    neck = (u - pu) ** 2 + (v - pv) ** 2 <= (0.07 - 0.02 * t) ** 2
    hs = 0.07 + 0.03 * q[4]
    head, _ = _ellipse(u, v, nu1 - hs * 0.6, nv1 + 0.03, hs * 1.2, hs * 0.6)
    mane = neck & ((u - pu) * (nv1 - nv0) - (v - pv) * (nu1 - nu0) < -0.0)
    tail = (np.abs(u - (cu + bl - 0.01 + 0.1 * (v - cy))) < 0.03) & (v > cy - bh * 0.5) & (v < cy + 0.3)
    inside = body | legs | neck | head | tail
    part = np.where(mane | tail, 2, 0)
    part = np.where(legs & (v > 0.93), 2, part)
    nx = np.clip((u - cu) / bl, -1, 1)
    if q[0] >= 0.5:
        nx = -nx
    return Shape(inside, part, nx)


def shape_person(u: Array, v: Array, q: Array) -> Shape:
    """Head (skin, hair on top), torso (shirt or dress), two arms (pose), two legs (trousers)."""
    hr_v = 0.075 + 0.025 * q[4]
    hr_u = hr_v * 2.3
    hc_v = hr_v + 0.005
    head, _ = _ellipse(u, v, 0.5, hc_v, hr_u, hr_v)
    neck = _rect(u, v, 0.44, 0.56, hc_v, hc_v + hr_v + 0.04)
    t0 = hc_v + hr_v + 0.02
    t1 = 0.52 + 0.08 * q[0]
    sw = 0.20 + 0.08 * q[1]  # shoulder half width
    fr = np.clip((v - t0) / max(t1 - t0, 1e-3), 0, 1)
    dress = q[5] > 0.6
    hw = sw - 0.04 * fr + (0.12 * np.clip((v - t1) / 0.3, 0, 1) if dress else 0.0)
    torso = (v >= t0) & (v <= (t1 if not dress else 0.8)) & (np.abs(u - 0.5) <= hw)
    arms = np.zeros_like(torso)
    raise_ = q[2]
    for s in (-1.0, 1.0):
        a0u, a0v = 0.5 + s * (sw - 0.03), t0 + 0.03
        lift = raise_ if s > 0 else 0.3 * raise_
        a1u = 0.5 + s * (sw + 0.12 + 0.1 * lift)
        a1v = t1 + 0.02 - 0.45 * lift
        tt = np.clip(((u - a0u) * (a1u - a0u) + (v - a0v) * (a1v - a0v)) / ((a1u - a0u) ** 2 + (a1v - a0v) ** 2), 0, 1)
        arms |= ((u - (a0u + tt * (a1u - a0u))) / 2.3) ** 2 + (v - (a0v + tt * (a1v - a0v))) ** 2 <= 0.028 ** 2
    spread = 0.02 + 0.08 * q[3]
    legs = np.zeros_like(torso)
    for s in (-1.0, 1.0):
        lu = 0.5 + s * (0.07 + spread * np.clip((v - t1) / (1 - t1), 0, 1))
        legs |= (np.abs(u - lu) <= 0.075) & (v >= t1 - 0.02) & (v <= 1.0)
    hair = head & (v < hc_v - hr_v * (0.1 + 0.5 * q[6]))
    inside = head | neck | torso | arms | legs
    part = np.where(torso, 0, 1)  # 0 shirt, 1 trousers
    part = np.where(head | neck | (arms & ~torso), 3, part)  # skin
    part = np.where(hair, 2, part)
    part = np.where(legs & (v > 0.95), 2, part)  # shoes
    nx = np.clip((u - 0.5) / (sw + 0.1), -1, 1)
    return Shape(inside, part, nx)


def shape_sheep(u: Array, v: Array, q: Array) -> Shape:
    """A woolly body (bumpy outline), a dark head at the front (facing left or right), four thin dark legs."""
    if q[0] >= 0.5:
        u = 1.0 - u
    cu, cv = 0.56, 0.42 + 0.06 * q[5]
    ru, rv = 0.36 + 0.06 * q[1], 0.24 + 0.06 * q[2]
    du, dv = (u - cu) / ru, (v - cv) / rv
    ang = np.arctan2(dv, du)
    r = 1.0 + 0.07 * np.sin(9 * ang + 6.28 * q[4]) + 0.04 * np.sin(14 * ang)
    body = du * du + dv * dv <= r * r
    hs = 0.10 + 0.03 * q[3]
    hu, hv = cu - ru * 0.95, cv - rv * (0.2 + 0.5 * q[6])
    head, _ = _ellipse(u, v, hu, hv, hs * 0.9, hs)
    legs = np.zeros_like(body)
    for lu in (cu - ru * 0.6, cu - ru * 0.3, cu + ru * 0.35, cu + ru * 0.65):
        legs |= _rect(u, v, lu - 0.035, lu + 0.035, cv, 1.0)
    inside = body | head | legs
    part = np.where(body, 0, 2)
    part = np.where(head & ~body, 2, part)
    nx = np.clip(du, -1, 1)
    if q[0] >= 0.5:
        nx = -nx
    return Shape(inside, part, nx)


SHAPES = dict(W1.SHAPES)
SHAPES.update({"horse": shape_horse, "person": shape_person, "sheep": shape_sheep})
BOX = dict(W1.BOX)
BOX.update({"person": (1.0, 0.42), "sheep": (0.55, 0.85)})


def shape_mask(category: int, q: Array, res: int) -> Array:
    """Object-centred mask [res,res] bool, one connected component."""
    x, y = grid(res)
    return largest_component(SHAPES[CATEGORIES[category]](x, y, q).inside)


def _colours(cat: str, a: Array, style: str) -> Tuple[Array, Array, Array, Array]:
    if cat == "person":
        prim = hsv_to_rgb(a[0], 0.45 + 0.45 * a[2], 0.45 + 0.45 * a[1])  # shirt / dress
        sec = hsv_to_rgb(0.55 + 0.2 * a[3], 0.25 + 0.4 * a[2], 0.2 + 0.35 * a[7])  # trousers
        dark = hsv_to_rgb(0.07, 0.6, 0.08 + 0.5 * a[6] ** 2)  # hair, shoes
        light = hsv_to_rgb(0.06, 0.35 + 0.2 * a[7], 0.35 + 0.6 * (1 - a[7]))  # skin
        return prim, sec, dark, light
    if cat == "sheep":
        prim = hsv_to_rgb(0.1 + 0.05 * a[0], 0.05 + 0.2 * a[2], 0.72 + 0.26 * a[1])  # wool
        dark = hsv_to_rgb(0.07, 0.3, 0.08 + 0.3 * a[6])  # head and legs
        return prim, prim, dark, prim * 1.1
    return W1._colours(cat, a, style)


def paint_object(canvas: Array, category: int, q: Array, a: Array, box: Tuple[float, float, float, float],
                 style: int) -> Tuple[Array, Array]:
    """Paint one object onto a float canvas [R,R,3] (a whole canvas or a crop); returns (canvas, mask bool [R,R]).

    box = (x0, y0, w, h) normalised to the canvas (or the crop).  Only pixels inside the dilated mask change.
    """
    res = canvas.shape[0]
    name = CATEGORIES[category]
    sname = STYLES[style]
    x, y = grid(res)
    bx, by, bw, bh = box
    u = (x - bx) / bw
    v = (y - by) / bh
    sh = SHAPES[name](u, v, q)
    mask = largest_component(sh.inside & (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1))
    prim, sec, dark, light = _colours(name, a, sname)
    col = np.where((sh.part == 0)[..., None], prim, sec)
    col = np.where((sh.part == 2)[..., None], dark, col)
    col = np.where((sh.part == 3)[..., None], light, col)
    ph = a[4] * 6.283
    st = 0.1 + 0.25 * a[5]
    if name in ("tree", "pine", "bush"):  # leaves
        tex = np.sin(u * 31.0 + ph) * np.sin(v * 27.0 + 1.7 * ph) + 0.5 * np.sin((u + v) * 17.0 - ph)
        col = col * (1 + st * 0.8 * tex)[..., None]
        if name == "bush" and a[6] > 0.5:  # flowers
            dots = (np.sin(u * 41.0 + ph) * np.sin(v * 37.0 + ph) > 0.75) & (sh.part == 0)
            col = np.where(dots[..., None], sec, col)
    elif name == "rock":
        tex = np.sin(u * 23.0 + v * 9.0 + ph) * np.sin(v * 19.0 - ph)
        col = col * (1 + st * 0.6 * tex)[..., None]
    elif name == "horse":
        col = col * (1 + 0.1 * st * np.sin(v * 25.0 + ph))[..., None]
    elif name == "house":  # bricks (courses and staggered joints), roof lines
        course = np.sin(v * 60.0) > 0.8
        joint = np.sin(u * 30.0 + np.pi * (np.floor(v * 60.0 / np.pi) % 2)) > 0.93
        bricks = (course | joint) & (sh.part == 0)
        col = col * (1 - (0.1 + st * 0.4) * bricks)[..., None]
        roof_lines = (np.sin(u * 45.0 + ph) > 0.7) & (sh.part == 1)
        col = col * (1 - (0.1 + st * 0.4) * roof_lines)[..., None]
    elif name == "person":  # stripes on the shirt for half the seeds
        if a[6] > 0.5:
            stripes = (np.sin(v * 70.0 + ph) > 0.5) & (sh.part == 0)
            col = np.where(stripes[..., None], col * 0.65, col)
    elif name == "sheep":  # wool curls
        tex = np.sin(u * 47.0 + ph) * np.sin(v * 43.0 + 1.3 * ph)
        col = np.where((sh.part == 0)[..., None], col * (1 + 0.12 * tex)[..., None], col)
    tint, amb, diff = LIGHT[sname]
    shade = amb + diff * (-sh.nx) + 0.12 * (0.5 - np.clip(v, 0, 1)) * (1 if sname != "night" else 0.3)
    if sname == "dusk":
        shade = shade - 0.10 * (sh.nx > 0.2)
    lit = col * shade[..., None] * np.array(tint)
    if name == "house" and sname == "night":
        lit = np.where((sh.part == 3)[..., None], light, lit)  # windows glow at night
    out = canvas.copy()
    out = np.where(mask[..., None], np.clip(lit, 0, 1), out)
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
    z_shape: Array
    z_fg: Array
    mask: Array = field(default=None)


@dataclass
class Scene:
    style: int
    z_bg: Array
    background: Array  # uint8 [R,R,3]
    background_f: Array  # float [R,R,3] in [0,1] (the lighting code is computed from it)
    canvases: List[Array]  # uint8
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
                 style: Optional[int] = None, layout=None) -> Scene:
    """A layered v2 scene, deterministic from ``seed``; objects painted back to front on the canvas."""
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
        layout.sort(key=lambda cb: cb[1][1] + cb[1][3])
    canvases = [to_uint8(bg)]
    objs: List[SceneObject] = []
    for c, box in layout:
        zs = rng.standard_normal(NOISE_SHAPE).astype(np.float32)
        zf = rng.standard_normal(NOISE_FOREGROUND).astype(np.float32)
        canv = canvases[-1].astype(np.float64) / 255.0
        canv, m = paint_object(canv, c, params_from_noise(zs[:SHAPE_PARAMS]), params_from_noise(zf[:FG_PARAMS]), box, st)
        canvases.append(to_uint8(canv))
        objs.append(SceneObject(c, box, zs, zf, m))
    return Scene(st, z_bg, canvases[0], bg, canvases, objs)


def background_image(style: int, z_bg: Array, res: int) -> Array:
    return to_uint8(render_background(style, params_from_noise(np.asarray(z_bg)[:BG_PARAMS]), res))


def main(argv: Optional[List[str]] = None) -> None:
    """Render a sheet of v2 world scenes (rows x0 ... xT) and an object sheet:
    python -m strata_models.v2.world --out world.png [--resolution 128]"""
    import argparse

    from PIL import Image

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--out", default="world-v2.png")
    ap.add_argument("--resolution", type=int, default=128)
    ap.add_argument("--rows", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", type=int, default=2)
    a = ap.parse_args(argv)
    R = a.resolution
    rows = []
    for r in range(a.rows):
        s = render_scene(a.seed + r, R, n_objects=4, style=r % len(STYLES))
        rows.append(np.concatenate(s.canvases, 1))
    img = np.concatenate(rows, 0)
    Image.fromarray(img).resize((img.shape[1] * a.scale, img.shape[0] * a.scale), Image.NEAREST).save(a.out)
    # objects: one row per category, painted at crop resolution on grey/dusk/night crops
    rows = []
    for c in range(len(CATEGORIES)):
        cells = []
        rng = np.random.default_rng(c)
        for k in range(9):
            st = k % 3
            base = np.full((CROP, CROP, 3), (0.55, 0.5, 0.12)[st])
            zs, zf = rng.standard_normal(NOISE_SHAPE), rng.standard_normal(NOISE_FOREGROUND)
            im, _ = paint_object(base, c, params_from_noise(zs[:SHAPE_PARAMS]), params_from_noise(zf[:FG_PARAMS]),
                                 crop_box(), st)
            cells.append(to_uint8(im))
        rows.append(np.concatenate(cells, 1))
    img = np.concatenate(rows, 0)
    out2 = a.out.replace(".png", "-objects.png")
    Image.fromarray(img).resize((img.shape[1] * a.scale, img.shape[0] * a.scale), Image.NEAREST).save(out2)
    print(a.out, out2)


if __name__ == "__main__":
    main()
