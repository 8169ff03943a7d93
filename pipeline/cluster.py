"""Clustering innovation examples into overarching categories, reproducibly and offline.

``cluster_units(texts, ...)`` returns one cluster per unit plus a description per cluster.
The steps:

1. **Embed** the units offline (``use`` sentence embeddings by default, ``tfidf`` lexical, or a
   local sentence-transformers model).
2. **Remove the theme** (``remove_theme=COLUMN``, default the network): answers from one
   network share its topic words (procurement, AI, UX), so plain clustering groups by network.
   Subtracting each group's mean embedding keeps what an example *does* (a tool, a new role, a
   changed procedure) and drops what it is *about*, which is what the category map is after.
3. **Guide** (optional): categories from a file (``label, description, seed_terms``), from a
   codebook dimension (definitions and anchor examples), or from partially labelled examples
   become centroids; an example close enough to one (cosine ≥ ``guide_threshold``) joins it.
4. **Cluster** the rest with BERTopic (UMAP with ``random_state`` and ``init="random"``, so
   repeated short answers cannot make the spectral start random; HDBSCAN, or k-means with
   ``n_clusters``), so unexpected categories can still appear; outliers are reassigned to the
   nearest cluster and reported.
5. **Describe** each cluster with c-TF-IDF over folded lemmas without German stop words.

Everything is seeded; the same input and seed give identical ``clusters.csv``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.embed import embed
from pipeline.errors import QdaError


@dataclass
class Guide:
    """Known categories: a label, a text describing it, and seed terms."""

    label: str
    description: str = ""
    seed_terms: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    patterns: list = field(default_factory=list)  # codebook patterns (from --guide); else seed_terms are used

    def text(self) -> str:
        return ". ".join(x for x in [self.label, self.description, ", ".join(self.seed_terms)] if x)


@dataclass
class ClusterResult:
    assignments: pd.DataFrame  # row order of the input: cluster, cluster_label, probability, outlier, guided
    clusters: pd.DataFrame  # one row per cluster: cluster, label, top_terms, size, guided
    coords: np.ndarray  # 2-D map coordinates per unit
    params: dict


def _stop_words() -> set[str]:
    from spacy.lang.de.stop_words import STOP_WORDS

    from pipeline.nlp import fold

    extra = {"z.b", "bzw", "usw", "etc", "ca", "ggf", "mal", "halt", "eigentlich", "ja", "ne", "äh", "ähm", "also", "gut", "neu", "uns", "bei",
             "ans", "anderer", "konkret", "beispiel", "fest", "laufen", "gerade", "eher", "bisschen", "ganz", "sowas",
             # spoken fillers and light verbs say nothing about a category
             "irgendwie", "einfach", "eben", "sozusagen", "quasi", "natürlich", "wirklich", "gerne", "genau", "okay",
             "geben", "machen", "sagen", "finden", "gehen", "kommen", "sehen", "lassen", "stehen", "bringen", "nehmen"}
    return {fold(w) for w in STOP_WORDS | extra}


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1
    return x / n


def remove_group_means(emb: np.ndarray, groups: list[str]) -> np.ndarray:
    """Subtracts each group's mean embedding (then re-normalises)."""
    out = emb.astype(np.float64).copy()
    g = np.array(groups, dtype=object)
    for value in sorted(set(groups)):
        mask = g == value
        if mask.sum() >= 2:
            out[mask] -= out[mask].mean(axis=0)
    return np.round(_normalise_rows(out), 6).astype(np.float32)


def seed_labels(texts: list[str], guides: list[Guide]) -> list[str]:
    """Per text the guide whose seed terms (or codebook patterns) match it, when exactly one
    guide matches most often; "" otherwise. Matching is the rule coder's: lemmas, compounds,
    negation."""
    from pipeline.codebook.load import codebook_from_data, parse_pattern
    from pipeline.codebook.model import Pattern
    from pipeline.coding import RuleMatcher
    from pipeline.tokens import parse_texts

    codes = []
    for i, g in enumerate(guides):
        pats = list(g.patterns)
        if not pats:
            probs: list = []
            pats = [p for p in (parse_pattern(t, "", probs) for t in g.seed_terms) if p is not None]
        if pats:
            codes.append({"id": f"g{i}", "label": g.label, "definition": g.description or g.label,
                          "include": [p.to_yaml() if isinstance(p, Pattern) else p for p in pats]})
    if not codes:
        return [""] * len(texts)
    cb, _ = codebook_from_data({"name": "guides", "version": "1", "codes": codes})
    table, _ = parse_texts(texts)
    hits = RuleMatcher(cb).match_table(table)
    counts: dict[int, dict[str, int]] = {}
    for h in hits:
        counts.setdefault(h.unit, {}).setdefault(h.code, 0)
        counts[h.unit][h.code] += 1
    out = []
    for u in range(len(texts)):
        c = counts.get(u, {})
        if not c:
            out.append("")
            continue
        best = max(c.values())
        top = [k for k, v in c.items() if v == best]
        out.append(guides[int(top[0][1:])].label if len(top) == 1 else "")
    return out


def _topic_words(texts: list[str], labels: np.ndarray, top_n: int = 8) -> dict[int, list[str]]:
    """c-TF-IDF (BERTopic's class-based TF-IDF) over folded lemmas per cluster."""
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    from pipeline.embed import _WORD
    from pipeline.nlp import fold, lemmatize

    # readable topic words: lower-case lemmas with their umlauts (the stop list is matched folded)
    stop = _stop_words()
    ids = sorted(set(labels.tolist()))

    def words(t: str) -> str:
        return " ".join(w for w in (lemmatize(x.strip(":*-")).lower() for x in _WORD.findall(t)) if fold(w) not in stop and len(w) > 1)

    docs = [" ".join(words(t) for t, l in zip(texts, labels) if l == c) for c in ids]
    vec = CountVectorizer(token_pattern=r"(?u)\b[^\W\d_][\w\-:*]+\b", ngram_range=(1, 2), min_df=1, lowercase=False)
    try:
        counts = vec.fit_transform(docs)
    except ValueError:
        return {c: [] for c in ids}
    ctfidf = ClassTfidfTransformer(reduce_frequent_words=True).fit_transform(counts)
    vocab = np.array(vec.get_feature_names_out())
    out = {}
    for row, c in enumerate(ids):
        scores = ctfidf[row].toarray().ravel()
        order = np.lexsort((vocab, -scores))
        out[c] = [vocab[i] for i in order[:top_n] if scores[i] > 0]
    return out


def _bertopic_clusters(texts: list[str], emb: np.ndarray, *, seed: int, n_clusters: int | None, min_cluster_size: int) -> np.ndarray:
    """Topic ids from BERTopic with seeded UMAP and HDBSCAN (or k-means); -1 are outliers."""
    from bertopic import BERTopic
    from sklearn.cluster import KMeans
    from umap import UMAP

    n = len(texts)
    if n_clusters is not None and n_clusters >= n:
        raise QdaError(f"{n} unit(s) cannot form {n_clusters} clusters; ask for fewer with --n-clusters")
    umap_model = UMAP(n_neighbors=min(15, max(2, n - 1)), n_components=min(5, max(2, n - 2)), min_dist=0.0, metric="cosine",
                      random_state=seed, init="random", n_jobs=1, low_memory=True)
    if n_clusters:
        cluster_model = KMeans(n_clusters=n_clusters, random_state=seed, n_init=10)
    else:
        from hdbscan import HDBSCAN

        cluster_model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=max(2, min_cluster_size // 2), metric="euclidean",
                                cluster_selection_method="eom", prediction_data=True)
    model = BERTopic(embedding_model=None, umap_model=umap_model, hdbscan_model=cluster_model, language="multilingual",
                     calculate_probabilities=False, verbose=False, low_memory=True)
    topics, _ = model.fit_transform(texts, embeddings=emb)
    return np.array(topics, dtype=np.int64)


def cluster_units(
    texts: list[str],
    *,
    groups: list[str] | None = None,
    embedding: str = "use",
    seed: int = 42,
    n_clusters: int | None = None,
    min_cluster_size: int | None = None,
    guides: list[Guide] | None = None,
    guide_threshold: float = 0.35,
    labels: list[str] | None = None,
    max_clusters: int = 12,
) -> ClusterResult:
    """Clusters unit texts (see the module docstring for the steps).

    Args:
        texts: the units (non-empty strings).
        groups: per unit the theme group to remove (e.g. the network), or None.
        embedding: ``use``, ``tfidf`` or ``st:PATH``.
        seed: every random choice derives from it.
        n_clusters: reduce to this many clusters (k-means) instead of HDBSCAN's choice.
        min_cluster_size: HDBSCAN's minimum cluster size (default: ~2 % of the units, ≥ 5).
        max_clusters: without ``n_clusters``, HDBSCAN's clusters are merged down to this many.
        guides: known categories to steer towards.
        guide_threshold: cosine similarity from which an example joins a guide category.
        labels: per unit a known category or "" (semi-supervised: labelled units are centroids).

    Raises:
        QdaError: too few units, or all texts empty.
    """
    texts = [t if isinstance(t, str) else "" for t in texts]
    keep = [i for i, t in enumerate(texts) if t.strip()]
    if not keep:
        raise QdaError("all selected texts are empty; check the column or the --where filter")
    if len(keep) < 3:
        raise QdaError(f"only {len(keep)} non-empty unit(s) selected; clustering needs at least 3")
    if n_clusters is not None and n_clusters >= len(keep):
        raise QdaError(f"{len(keep)} unit(s) cannot form {n_clusters} clusters; ask for fewer with --n-clusters")
    texts_k = [texts[i] for i in keep]
    emb = embed(texts_k, embedding, random_state=seed)
    theme_removed = False
    if groups is not None:
        gk = [str(groups[i]) for i in keep]
        if len(set(gk)) > 1:
            emb = remove_group_means(emb, gk)
            theme_removed = True
    n = len(texts_k)
    mcs = min_cluster_size or max(5, round(n * 0.02))
    assigned = np.full(n, -1, dtype=np.int64)
    sims = np.zeros(n)
    names: dict[int, str] = {}
    guided_ids: set[int] = set()
    # guides and labelled examples become centroids
    centroid_names: list[str] = []
    centroids = []
    lk = [str(labels[i] or "").strip() for i in keep] if labels is not None else [""] * n
    if guides:
        # seed terms and codebook patterns label the examples they clearly match
        seeded = seed_labels(texts_k, guides)
        lk = [x or y for x, y in zip(lk, seeded)]
        labels = lk
    if labels is not None:
        for name in sorted({x for x in lk if x}):
            idx = [j for j, x in enumerate(lk) if x == name]
            centroids.append(emb[idx].mean(axis=0))
            centroid_names.append(name)
    if guides:
        missing = [g for g in guides if g.label not in centroid_names]
        if missing:
            ge = embed([g.text() for g in missing], embedding, random_state=seed)
            if groups is not None and theme_removed:
                ge = ge - ge.mean(axis=0, keepdims=True)  # descriptions carry no network theme: center them alike
            for g, v in zip(missing, ge):
                centroids.append(v)
                centroid_names.append(g.label)
    if centroids:
        C = _normalise_rows(np.vstack(centroids))
        S = emb @ C.T
        best = S.argmax(axis=1)
        best_sim = S.max(axis=1)
        for cid, name in enumerate(centroid_names):
            names[cid] = name
            guided_ids.add(cid)
        ok = best_sim >= guide_threshold
        if labels is not None:
            for j, x in enumerate(lk):
                if x:
                    best[j] = centroid_names.index(x)
                    ok[j] = True
                    best_sim[j] = 1.0
        assigned[ok] = best[ok]
        sims[ok] = best_sim[ok]
    rest = np.nonzero(assigned < 0)[0]
    next_id = len(centroid_names)
    outliers = np.zeros(n, dtype=bool)
    if len(rest) >= max(3, mcs if not n_clusters else 3):
        k_rest = None
        if n_clusters:
            k_rest = max(1, n_clusters - len(centroid_names)) if centroid_names else n_clusters
            k_rest = min(k_rest, len(rest) - 1) if len(rest) > 1 else 1
        if k_rest == 1:
            topics = np.zeros(len(rest), dtype=np.int64)
        else:
            topics = _bertopic_clusters([texts_k[i] for i in rest], emb[rest], seed=seed, n_clusters=k_rest, min_cluster_size=mcs)
        found = sorted(t for t in set(topics.tolist()) if t >= 0)
        room = max(2, max_clusters - len(centroid_names))  # the known categories count towards the map's size
        if not n_clusters and len(found) > room:
            # HDBSCAN finds many small, stable groups in short answers; merge the closest
            # (average linkage on their centroids) into a readable map of max_clusters
            from sklearn.cluster import AgglomerativeClustering

            sub = emb[rest]
            cents = _normalise_rows(np.vstack([sub[topics == t].mean(axis=0) for t in found]))
            merged = AgglomerativeClustering(n_clusters=room, metric="cosine", linkage="average").fit_predict(cents)
            to_merged = {t: int(m) for t, m in zip(found, merged)}
            topics = np.array([to_merged.get(t, -1) for t in topics.tolist()], dtype=np.int64)
            found = sorted(t for t in set(topics.tolist()) if t >= 0)
        remap = {t: next_id + i for i, t in enumerate(found)}
        for j, t in zip(rest.tolist(), topics.tolist()):
            if t >= 0:
                assigned[j] = remap[t]
        next_id += len(found)
    # outliers: reassigned to the nearest cluster centroid, and reported
    if (assigned < 0).any() and (assigned >= 0).any():
        ids = sorted(set(assigned[assigned >= 0].tolist()))
        cents = _normalise_rows(np.vstack([emb[assigned == c].mean(axis=0) if (assigned == c).any() else C[c] for c in ids]))
        out_idx = np.nonzero(assigned < 0)[0]
        s = emb[out_idx] @ cents.T
        outliers[out_idx] = True
        assigned[out_idx] = np.array(ids)[s.argmax(axis=1)]
        sims[out_idx] = s.max(axis=1)
    elif (assigned < 0).all():
        assigned[:] = 0
        outliers[:] = True
    # probability: similarity to the own cluster's centroid, scaled to 0..1
    ids = sorted(set(assigned.tolist()))
    cent = {c: _normalise_rows(emb[assigned == c].mean(axis=0, keepdims=True))[0] for c in ids}
    prob = np.array([(float(emb[j] @ cent[assigned[j]]) + 1) / 2 for j in range(n)])
    # renumber by size (largest first, ties by first appearance) so ids are stable and readable
    sizes = {c: int((assigned == c).sum()) for c in ids}
    first_pos = {c: int(np.nonzero(assigned == c)[0][0]) for c in ids}
    order = sorted(ids, key=lambda c: (-sizes[c], first_pos[c]))
    renum = {c: i for i, c in enumerate(order)}
    final = np.array([renum[c] for c in assigned.tolist()], dtype=np.int64)
    words = _topic_words(texts_k, final)
    rows = []
    label_of = {}
    for old in order:
        c = renum[old]
        tw = words.get(c, [])
        single = [w for w in tw if " " not in w]
        label = names.get(old) or (" · ".join(single[:3]) if single else f"Cluster {c}")
        label_of[c] = label
        rows.append({"cluster": c, "label": label, "top_terms": ", ".join(tw), "size": sizes[old], "guided": old in guided_ids})
    coords = _map_coords(emb, seed, final)
    full = pd.DataFrame({"cluster": -1, "cluster_label": "", "probability": np.nan, "outlier": False, "guided": False}, index=range(len(texts)))
    full.loc[keep, "cluster"] = final
    full.loc[keep, "cluster_label"] = [label_of[c] for c in final.tolist()]
    full.loc[keep, "probability"] = np.round(prob, 4)
    full.loc[keep, "outlier"] = outliers
    full.loc[keep, "guided"] = [bool(assigned[j] in guided_ids) for j in range(n)]
    xy = np.full((len(texts), 2), np.nan)
    xy[keep] = coords
    params = {"embedding": embedding, "seed": seed, "n_clusters": n_clusters, "min_cluster_size": mcs, "max_clusters": max_clusters, "theme_removed": theme_removed,
              "guides": [g.label for g in guides or []], "guide_threshold": guide_threshold, "labelled": int(sum(1 for x in (labels or []) if x)),
              "umap": {"n_neighbors": 15, "n_components": 5, "min_dist": 0.0, "metric": "cosine", "init": "random"}}
    return ClusterResult(full, pd.DataFrame(rows), xy, params)


def _map_coords(emb: np.ndarray, seed: int, clusters: np.ndarray) -> np.ndarray:
    """2-D coordinates for the category map, drawn the way the study drew its map.

    Categories are placed by their centroids' similarity (classical MDS of the centroids,
    spread so they do not overlap); each example sits inside its category's disc, arranged by
    the first two principal components of the category's own embeddings. Deterministic.
    """
    ids = sorted(set(clusters.tolist()))
    cent = _normalise_rows(np.vstack([emb[clusters == c].mean(axis=0) for c in ids]))
    k = len(ids)
    if k == 1:
        pos = np.zeros((1, 2))
    else:
        d2 = np.clip(2 - 2 * cent @ cent.T, 0, None)  # squared distances of unit vectors
        j = np.eye(k) - 1.0 / k
        b = -0.5 * j @ d2 @ j
        vals, vecs = np.linalg.eigh(b)
        top = np.argsort(vals)[::-1][:2]
        pos = vecs[:, top] * np.sqrt(np.clip(vals[top], 1e-9, None))
        for col in range(pos.shape[1]):  # eigenvector signs are arbitrary: fix them
            if pos[np.argmax(np.abs(pos[:, col])), col] < 0:
                pos[:, col] *= -1
    sizes = np.array([(clusters == c).sum() for c in ids], dtype=float)
    radius = 0.5 * np.sqrt(sizes / sizes.max())
    # push centres apart until discs do not overlap
    if k > 1:
        pos = pos / (np.abs(pos).max() or 1) * 1.2
        for _ in range(200):
            moved = False
            for a in range(k):
                for b_ in range(a + 1, k):
                    v = pos[b_] - pos[a]
                    dist = np.linalg.norm(v) or 1e-6
                    need = radius[a] + radius[b_] + 0.35
                    if dist < need:
                        shift = (need - dist) / 2 * (v / dist if np.linalg.norm(v) else np.array([1.0, 0.0]))
                        pos[a] -= shift
                        pos[b_] += shift
                        moved = True
            if not moved:
                break
    xy = np.zeros((len(emb), 2))
    for i, c in enumerate(ids):
        idx = np.nonzero(clusters == c)[0]
        member = emb[idx].astype(np.float64)
        if len(idx) >= 3:
            centred = member - member.mean(axis=0)
            u, sv, vt = np.linalg.svd(centred, full_matrices=False)
            local = u[:, :2] * sv[:2]
            for col in range(2):
                if local[np.argmax(np.abs(local[:, col])), col] < 0:
                    local[:, col] *= -1
            scale = np.percentile(np.linalg.norm(local, axis=1), 90) or 1.0
            local = local / scale * radius[i] * 0.85
            norm = np.linalg.norm(local, axis=1, keepdims=True)
            too_far = (norm > radius[i]).ravel()
            local[too_far] = local[too_far] / norm[too_far] * radius[i]
        else:
            local = np.zeros((len(idx), 2))
        xy[idx] = pos[i] + local
    return np.round(xy, 4)


def read_guides(path) -> list[Guide]:
    """A categories file: a YAML list of ``{label, description, seed_terms}``."""
    from pathlib import Path

    import yaml

    from pipeline.errors import InputError, ValidationError

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", "give a YAML list of {label, description, seed_terms}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(path, f"is not valid YAML ({getattr(exc, 'problem', exc)})", "fix the YAML syntax", where=f"line {mark.line + 1}, column {mark.column + 1}" if mark else None)
    if isinstance(data, dict) and "categories" in data:
        data = data["categories"]
    problems = []
    guides = []
    if not isinstance(data, list) or not data:
        raise ValidationError(path, [("", "must be a list of categories, each {label, description, seed_terms}")])
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not str(item.get("label") or "").strip():
            problems.append((f"[{i}]", "needs a label"))
            continue
        unknown = set(item) - {"label", "description", "seed_terms"}
        if unknown:
            problems.append((f"[{i}]", f"unknown key(s) {', '.join(sorted(unknown))}; allowed: label, description, seed_terms"))
        terms = item.get("seed_terms") or []
        if isinstance(terms, str):
            terms = [terms]
        guides.append(Guide(str(item["label"]).strip(), str(item.get("description") or "").strip(), [str(t) for t in terms]))
    if problems:
        raise ValidationError(path, problems, title="is not a valid categories file")
    return guides


def guides_from_codebook(codebook, dimension: str) -> list[Guide]:
    """A codebook dimension's codes as guide categories (label, definition, anchor examples)."""
    codes = [c for c in codebook.codable() if c.dimension == dimension]
    if not codes:
        dims = sorted({c.dimension for c in codebook.codable()})
        raise QdaError(f"the codebook has no codable codes in dimension '{dimension}'; dimensions: {', '.join(dims)}")
    return [Guide(c.label, c.definition, [p.value for p in c.include if p.kind == "term"][:12], list(c.anchor_examples), list(c.include)) for c in codes]


def compare_with_gold(found: list[int], gold: list[str]) -> tuple[dict, pd.DataFrame]:
    """ARI, NMI and the contingency table of found clusters against given categories."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    pairs = [(f, g) for f, g in zip(found, gold) if g and f >= 0]
    if len(pairs) < 2:
        raise QdaError("fewer than two units carry a gold category; check --gold-column")
    f, g = zip(*pairs)
    scores = {"units": len(pairs), "ari": round(float(adjusted_rand_score(g, f)), 4), "nmi": round(float(normalized_mutual_info_score(g, f)), 4),
              "gold_categories": len(set(g)), "clusters": len(set(f))}
    table = pd.crosstab(pd.Series(g, name="gold"), pd.Series(f, name="cluster"))
    return scores, table


def stability(texts, *, runs: int, seed: int, **kwargs) -> tuple[dict, pd.DataFrame]:
    """Reruns with ``runs`` seeds: pairwise ARI and how often each unit changes category."""
    from itertools import combinations

    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import adjusted_rand_score

    results = [cluster_units(texts, seed=seed + r, **kwargs).assignments["cluster"].to_numpy() for r in range(runs)]
    aris = [adjusted_rand_score(a, b) for a, b in combinations(results, 2)]
    base = results[0]
    changed = np.zeros(len(base), dtype=int)
    for other in results[1:]:
        # match clusters of a rerun to the first run's (Hungarian on the overlap), then compare
        a_ids, b_ids = sorted(set(base.tolist())), sorted(set(other.tolist()))
        overlap = np.array([[np.sum((base == a) & (other == b)) for b in b_ids] for a in a_ids])
        r, c = linear_sum_assignment(-overlap)
        mapping = {b_ids[j]: a_ids[i] for i, j in zip(r, c)}
        mapped = np.array([mapping.get(x, -2) for x in other.tolist()])
        changed += (mapped != base).astype(int)
    summary = {"runs": runs, "seeds": [seed + r for r in range(runs)], "ari_mean": round(float(np.mean(aris)), 4) if aris else 1.0,
               "ari_min": round(float(np.min(aris)), 4) if aris else 1.0, "units_changing": int((changed > 0).sum())}
    return summary, pd.DataFrame({"changes": changed, "share_of_reruns": np.round(changed / max(1, runs - 1), 3)})


def parse_where(items: list[str]) -> list[tuple[str, str]]:
    out = []
    for item in items:
        if "=" not in item:
            raise QdaError(f"--where '{item}' is not COLUMN=PATTERN (e.g. question=innovationsbeispiel or code=innovationsform.*)")
        k, v = item.split("=", 1)
        out.append((k.strip(), v.strip()))
    return out


def apply_where(segments: pd.DataFrame, where: list[tuple[str, str]], codings: pd.DataFrame | None) -> pd.DataFrame:
    """Keeps units matching every ``COLUMN=GLOB`` (``code=…`` looks at a previous run's codings)."""
    import fnmatch

    mask = np.ones(len(segments), dtype=bool)
    for col, pattern in where:
        rx = re.compile(fnmatch.translate(pattern))
        if col == "code":
            if codings is None:
                raise QdaError("--where code=… needs a run folder of 'qda code' (with codings.csv) as SOURCE")
            ids = set(codings.loc[codings["code"].astype(str).map(lambda c: bool(rx.match(c))), "segment_id"].astype(str))
            mask &= segments["segment_id"].astype(str).isin(ids).to_numpy()
        else:
            if col not in segments.columns:
                raise QdaError(f"--where: no column '{col}'; columns: {', '.join(segments.columns)}")
            mask &= segments[col].fillna("").astype(str).map(lambda v: bool(rx.match(v))).to_numpy()
    return segments[mask]
