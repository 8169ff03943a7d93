"""2-D coordinates for the category map, drawn the way the study drew its map.

Categories are placed by their centroids' similarity (classical MDS of the centroids, spread
so their discs do not overlap); each example sits inside its category's disc, arranged by the
first two principal components of the category's own embeddings. Deterministic.
"""

from __future__ import annotations

import numpy as np

from pipeline.cluster.theme import normalise_rows


def _fix_signs(m: np.ndarray) -> np.ndarray:
    """Eigenvector signs are arbitrary: make each column's largest entry positive."""
    for col in range(m.shape[1]):
        if m[np.argmax(np.abs(m[:, col])), col] < 0:
            m[:, col] *= -1
    return m


def _centre_positions(cent: np.ndarray) -> np.ndarray:
    """Classical MDS of unit-length centroids into 2-D."""
    k = len(cent)
    if k == 1:
        return np.zeros((1, 2))
    d2 = np.clip(2 - 2 * cent @ cent.T, 0, None)  # squared distances of unit vectors
    j = np.eye(k) - 1.0 / k
    vals, vecs = np.linalg.eigh(-0.5 * j @ d2 @ j)
    top = np.argsort(vals)[::-1][:2]
    pos = vecs[:, top] * np.sqrt(np.clip(vals[top], 1e-9, None))
    if pos.shape[1] < 2:
        pos = np.hstack([pos, np.zeros((k, 2 - pos.shape[1]))])
    return _fix_signs(pos)


def _push_apart(pos: np.ndarray, radius: np.ndarray, gap: float = 0.35, steps: int = 200) -> np.ndarray:
    """Moves centres apart until no two discs (plus ``gap``) overlap."""
    k = len(pos)
    pos = pos / (np.abs(pos).max() or 1) * 1.2
    for _ in range(steps):
        moved = False
        for a in range(k):
            for b in range(a + 1, k):
                v = pos[b] - pos[a]
                dist = float(np.linalg.norm(v))
                need = radius[a] + radius[b] + gap
                if dist < need:
                    direction = v / dist if dist > 0 else np.array([1.0, 0.0])
                    pos[a] -= (need - dist) / 2 * direction
                    pos[b] += (need - dist) / 2 * direction
                    moved = True
        if not moved:
            break
    return pos


def _local(member: np.ndarray, radius: float) -> np.ndarray:
    """Members arranged inside a disc of ``radius`` by their first two principal components."""
    if len(member) < 3:
        return np.zeros((len(member), 2))
    centred = member - member.mean(axis=0)
    u, sv, _ = np.linalg.svd(centred, full_matrices=False)
    local = _fix_signs(u[:, :2] * sv[:2])
    scale = np.percentile(np.linalg.norm(local, axis=1), 90) or 1.0
    local = local / scale * radius * 0.85
    norm = np.linalg.norm(local, axis=1, keepdims=True)
    too_far = (norm > radius).ravel()
    local[too_far] = local[too_far] / norm[too_far] * radius
    return local


def map_coords(emb: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Per example its 2-D position on the category map (rounded to 4 decimals)."""
    emb = np.asarray(emb, dtype=np.float64)
    ids = sorted(set(clusters.tolist()))
    cent = normalise_rows(np.vstack([emb[clusters == c].mean(axis=0) for c in ids]))
    sizes = np.array([(clusters == c).sum() for c in ids], dtype=float)
    radius = 0.5 * np.sqrt(sizes / sizes.max())
    pos = _centre_positions(cent)
    if len(ids) > 1:
        pos = _push_apart(pos, radius)
    xy = np.zeros((len(emb), 2))
    for i, c in enumerate(ids):
        idx = np.nonzero(clusters == c)[0]
        xy[idx] = pos[i] + _local(emb[idx], radius[i])
    return np.round(xy, 4)
