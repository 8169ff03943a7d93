"""Would another clusterer recover the researchers' categories without guidance? (issue 12)

    uv run python bench/unguided_alternatives.py

For the two sets of bench/cluster_quality.py (the dev examples, when ../shared/dev is there, and
corpora/beispiel), clusters the embeddings with the *true* number of categories given, with
k-means, Ward, average linkage (cosine), spectral clustering and k-means on 20 principal
components; each on ``use`` and ``e5`` embeddings, raw, with the network means removed
(``group``, what qda does) or with the overall mean removed (``global``). Prints the ARI of
each against the hand-made categories and writes bench/results/unguided_alternatives.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cluster_quality import load_beispiel, load_dev  # noqa: E402

METHODS = ("k-means", "Ward", "average (cosine)", "spectral", "k-means on 20 PCs")


def cluster_all(X: np.ndarray, k: int, seed: int = 42) -> dict[str, np.ndarray]:
    from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering
    from sklearn.decomposition import PCA

    return {
        "k-means": KMeans(k, random_state=seed, n_init=20).fit_predict(X),
        "Ward": AgglomerativeClustering(k, linkage="ward").fit_predict(X),
        "average (cosine)": AgglomerativeClustering(k, linkage="average", metric="cosine").fit_predict(X),
        "spectral": SpectralClustering(k, affinity="nearest_neighbors", n_neighbors=10, random_state=seed).fit_predict(X),
        "k-means on 20 PCs": KMeans(k, random_state=seed, n_init=20).fit_predict(PCA(min(20, len(X) - 1), random_state=seed).fit_transform(X)),
    }


def main() -> None:
    from sklearn.metrics import adjusted_rand_score

    from pipeline.cluster.theme import ThemeRemover, normalise_rows
    from pipeline.embed import embed

    lines = ["| data | embedding | theme removed | " + " | ".join(METHODS) + " |", "|---|---|---|" + "---:|" * len(METHODS)]
    for ds in (d for d in (load_dev(), load_beispiel()) if d is not None):
        k = len(set(ds.gold))
        for name in ("use", "e5"):
            E = embed(ds.texts, name).astype(np.float64)
            for theme in ("none", "group", "global"):
                X = normalise_rows(E) if theme == "none" else ThemeRemover(by_group=theme == "group").fit_transform(E, groups=ds.groups)
                scores = {m: adjusted_rand_score(ds.gold, lab) for m, lab in cluster_all(X, k).items()}
                lines.append(f"| {ds.name} | {name} | {theme} | " + " | ".join(f"{scores[m]:.2f}" for m in METHODS) + " |")
                print(lines[-1], flush=True)
    out = ROOT / "bench" / "results" / "unguided_alternatives.md"
    out.write_text("ARI against the hand-made categories, the true number of categories given (k = number of categories).\n\n"
                   + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
