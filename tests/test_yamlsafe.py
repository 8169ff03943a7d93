"""The YAML reader: libyaml reads the events where PyYAML has it, the Python composer keeps the limits."""

import pytest
import yaml

from pipeline import yamlsafe
from pipeline.errors import InputError
from conftest import ROOT


@pytest.mark.skipif(not getattr(yaml, "__with_libyaml__", False), reason="PyYAML built without libyaml")
def test_libyaml_reads_the_events_when_available():
    assert yamlsafe._Loader.__name__ == "_CLoader"


@pytest.mark.parametrize("name", ["innovationsnetzwerke-v1.yaml", "innovationsnetzwerke-v3.yaml"])
def test_both_loaders_give_the_same_value(name):
    text = (ROOT / "codebooks" / name).read_text(encoding="utf-8")
    assert yaml.load(text, Loader=yamlsafe._Loader) == yaml.load(text, Loader=yamlsafe._PyLoader)


@pytest.mark.parametrize("text, words", [
    ("a: &x [1, 2]\n" + "".join(f"b{i}: *x\n" for i in range(yamlsafe.MAX_ALIASES + 1)), "aliases"),
    ("a: " + "[" * (yamlsafe.MAX_DEPTH + 2) + "]" * (yamlsafe.MAX_DEPTH + 2) + "\n", "nested"),
    ("a: 1\na: 2\n", "appears twice"),
    ("a: [1, 2\n", "not valid YAML"),
])
def test_the_limits_hold_with_the_fast_loader(text, words, tmp_path):
    with pytest.raises(InputError, match=words) as err:
        yamlsafe.parse_yaml(text, tmp_path / "x.yaml")
    assert "line" in str(err.value)
