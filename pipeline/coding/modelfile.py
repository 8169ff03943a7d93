"""The verifier's model file: numbers and text only, never code.

A model is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding the coefficients,
thresholds, vocabulary weights and anchor embeddings, plus one ``meta`` entry with JSON: the
format and its version, the parameters, the code ids, the vocabulary, the pattern labels, the
codebook (name, version, SHA-256) it was trained for, the embedding name, the size and SHA-256
of the training data, and a SHA-256 over every array.

Opening a model file never runs anything: it is read with ``allow_pickle=False`` after its zip
directory was checked for size and compression ratio; a file that is not such an archive, was
changed after it was written (checksum), comes from a newer qda, or was trained for another
codebook is refused with a message that says which, and what to do.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from pipeline.errors import InputError

FORMAT = "qda-verifier"
VERSION = 1
MODEL_NAME = "model.npz"


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}\n".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def to_arrays(model) -> tuple[dict[str, np.ndarray], dict]:
    """The fitted state of a :class:`~pipeline.coding.verifier.Verifier` as arrays and JSON."""
    arrays = {
        "intercept": np.asarray(model.intercept_, dtype=np.float64),
        "thresholds": np.asarray(model.thresholds_, dtype=np.float64),
        "idf": np.asarray(model.lexicon_.idf, dtype=np.float64),
    }
    if getattr(model, "precision_thresholds_", None) is not None:  # None: read from a file saved before qda had them
        arrays["precision_thresholds"] = np.asarray(model.precision_thresholds_, dtype=np.float64)
    for j, c in enumerate(model.coef_):
        arrays[f"coef_{j:03d}"] = np.asarray(c, dtype=np.float64)
    if model.embedding != "none":
        arrays["anchor_emb"] = np.asarray(model.anchor_emb_, dtype=np.float32)
        arrays["anchor_owner"] = np.asarray(model.anchor_owner_, dtype=np.int64)
        arrays["def_emb"] = np.asarray(model.def_emb_, dtype=np.float32)
    meta = {
        "format": FORMAT, "version": VERSION, "params": model.get_params(), "codes": list(model.codes_),
        "dimensions": list(model.dimensions_), "modes": list(model.modes_), "patterns": [list(p) for p in model.patterns_],
        "terms": list(model.lexicon_.terms), "n_train": model.n_train_, "n_labelled": model.n_labelled_,
        **getattr(model, "provenance_", {}),
    }
    return arrays, meta


def save_model(model, path: Path) -> None:
    """Writes ``model`` to ``path`` (an ``.npz`` file), byte-identical for identical models."""
    arrays, meta = to_arrays(model)
    meta["sha256"] = _digest(arrays)
    arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    buf = io.BytesIO()
    # written entry by entry with a fixed date: np.savez would stamp the current time
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, member.getvalue())
    Path(path).write_bytes(buf.getvalue())


def _refuse(path: Path, what: str) -> InputError:
    return InputError(path, what, f"give the {MODEL_NAME} written by 'qda code --train' (a model from someone else must be a qda model file too)")


def read_model_file(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and metadata of a model file, checked (see the module doc).

    Raises:
        InputError: the file is missing, not a qda model, damaged or changed.
    """
    from pipeline.ingest.archive import check_zip

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", f"give the {MODEL_NAME} of an earlier 'qda code --train' run")
    if not zipfile.is_zipfile(path):
        raise _refuse(path, "is not a qda model file (not an .npz archive; a pickle or joblib file is never opened)")
    check_zip(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as exc:
        raise _refuse(path, f"holds something other than plain arrays ({str(exc).splitlines()[0][:100]}); it was not opened")
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise _refuse(path, f"is damaged ({type(exc).__name__})")
    if "meta" not in arrays:
        raise _refuse(path, "is not a qda model file (no meta entry)")
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        raise _refuse(path, "is not a qda model file (its meta entry is not JSON)")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _refuse(path, "is not a qda verifier model")
    if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
        raise InputError(path, f"was written by a newer qda (model format {meta.get('version')}, this qda reads up to {VERSION})", "update qda, or train a model here with --train")
    if meta.get("sha256") != _digest(arrays):
        raise InputError(path, "was changed after it was written (its checksum does not match)", "ask for an unchanged copy, or train a new model with --train")
    return arrays, meta


def fits_codebook(meta: dict, codebook) -> bool:
    """Was the model (its metadata from :func:`read_model_file`) trained for exactly ``codebook``?"""
    return meta.get("codebook", {}).get("sha256") == codebook.sha256


def load_model(path: Path, codebook, *, contents: tuple[dict, dict] | None = None):
    """The :class:`~pipeline.coding.verifier.Verifier` stored in ``path``, for ``codebook``.
    ``contents``: what :func:`read_model_file` already returned for ``path`` (not read again).

    Raises:
        InputError: see :func:`read_model_file`; also a model trained for another codebook.
    """
    from pipeline.coding.features import Lexicon
    from pipeline.coding.verifier import Verifier

    arrays, meta = contents or read_model_file(path)
    cb = meta.get("codebook", {})
    if not fits_codebook(meta, codebook):
        raise InputError(path, f"was trained for the codebook '{cb.get('name')}' {cb.get('version')} (sha256 {str(cb.get('sha256'))[:12]}…), "
                               f"not for '{codebook.name}' {codebook.version} (sha256 {str(codebook.sha256)[:12]}…)",
                         "code with the codebook the model was trained for, or train a new model for this one with --train")
    try:
        model = Verifier(**meta["params"])
        model.codes_ = list(meta["codes"])
        model.dimensions_ = list(meta["dimensions"])
        model.modes_ = list(meta["modes"])
        model.patterns_ = [list(p) for p in meta["patterns"]]
        model.lexicon_ = Lexicon(meta["terms"], arrays["idf"])
        model.coef_ = [arrays[f"coef_{j:03d}"] for j in range(len(model.codes_))]
        model.intercept_ = arrays["intercept"]
        model.thresholds_ = arrays["thresholds"]
        # absent in files saved before qda chose them: coding with favour="precision" then says so
        model.precision_thresholds_ = arrays.get("precision_thresholds")
        if model.embedding != "none":
            model.anchor_emb_, model.anchor_owner_, model.def_emb_ = arrays["anchor_emb"], arrays["anchor_owner"], arrays["def_emb"]
        model.n_train_ = int(meta["n_train"])
        model.n_labelled_ = dict(meta.get("n_labelled", {}))
        model.provenance_ = {k: meta[k] for k in ("codebook", "training") if k in meta}
    except (KeyError, TypeError, ValueError) as exc:
        raise _refuse(path, f"is incomplete ({type(exc).__name__}: {exc})")
    unknown = [c for c in model.codes_ if c not in codebook.codes]
    if unknown:
        raise _refuse(path, f"names codes this codebook lacks: {', '.join(unknown[:5])}")
    model.file_ = {"path": str(path), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}  # for run.json
    return model
