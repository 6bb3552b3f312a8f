"""Parameters are checked against the schema before injection."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ntm_lib.errors import NotebookError, ParameterError, ParameterErrors
from ntm_lib.params import load_params, notebook_defaults, parameter_names, parameters_cell

SAMPLE = Path(__file__).resolve().parent.parent / "params" / "2023" / "nam-mon.yaml"


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def test_sample_loads_with_code_as_string():
    p = load_params(SAMPLE)
    assert p["commune"] == "02881" and isinstance(p["commune"], str)
    assert p["year"] == 2023
    assert set(p) == set(parameter_names()) - {"data_api_token"}


def test_notebook_parameters_pick_the_sample_and_hold_no_text(root):
    """Run as it is in JupyterLab, the notebook builds the sample report from
    its params file: the parameters cell holds no copy of a commune's text."""
    defaults = notebook_defaults(root / "notebooks" / "commune_report.ipynb")
    assert defaults == {"commune": "02881", "year": 2023, "params_file": None}
    sample = load_params(SAMPLE)
    assert (sample["commune"], sample["year"]) == (defaults["commune"], defaults["year"])


def test_old_single_brace_field_says_the_new_name(tmp_path):
    text = sample_text().replace("MTQG huyện {{ commune.district }}", "MTQG huyện {district_name}")
    with pytest.raises(ParameterError, match=r"unknown field \{district_name\}: write \{\{ commune.district \}\}"):
        load_params(write(tmp_path, text))


def test_secret_in_a_params_file_refused(tmp_path):
    path = write(tmp_path, sample_text() + "data_api_token: abc123\n")
    with pytest.raises(ParameterError, match="NTM_SECRET_DATA_API_TOKEN") as info:
        load_params(path)
    assert info.value.parameter == "data_api_token"


@pytest.mark.parametrize("written, found", [
    ("commune: 2881", "2881"),       # lost its leading zero
    ("commune: 02771", "1529"),      # read by YAML as octal 0o2771
])
def test_unquoted_codes_refused(tmp_path, written, found):
    path = write(tmp_path, sample_text().replace('commune: "02881"', written))
    with pytest.raises(ParameterError) as info:
        load_params(path)
    err = info.value
    assert err.parameter == "commune"
    assert err.row == 6  # the line of the commune in the file
    assert found in str(err) and "quotes" in str(err)


def test_short_code_string_refused(tmp_path):
    path = write(tmp_path, sample_text().replace('commune: "02881"', 'commune: "2881"'))
    with pytest.raises(ParameterError, match="5 digits"):
        load_params(path)


def test_unknown_parameter(tmp_path):
    path = write(tmp_path, sample_text() + "colour: blue\n")
    with pytest.raises(ParameterError, match="unknown parameter.*colour"):
        load_params(path)


def test_missing_parameter(tmp_path):
    text = sample_text().replace("signer_name: Nguyễn Văn A\n", "")
    with pytest.raises(ParameterError, match="missing parameter.*signer_name"):
        load_params(write(tmp_path, text))


def test_unknown_narrative_key(tmp_path):
    text = sample_text().replace("  plans:\n", "  plan:\n")
    with pytest.raises(ParameterErrors) as info:
        load_params(write(tmp_path, text))
    found = {e.parameter: str(e) for e in info.value.errors}
    assert "did you mean plans?" in found["narrative.plan"]
    assert "missing parameter plans" in found["narrative.plans"]


def test_every_problem_reported_with_its_line(tmp_path):
    text = (sample_text().replace("signer_title:", "signer_tittle:")
            .replace('report_date: "2023-12"', 'report_date: "2023-02-31"')
            .replace("MTQG huyện {{ commune.district }}", "MTQG huyện {{ district }}"))
    with pytest.raises(ParameterErrors) as info:
        load_params(write(tmp_path, text))
    lines = str(info.value).splitlines()
    assert len(lines) == 4
    assert "line 15, parameter report_date: 2023-02-31 is not a real date" in lines[0]
    assert "line 19, parameter signer_tittle: unknown parameter signer_tittle; did you mean signer_title?" in lines[1]
    assert "parameter recipients.1: unknown name {{ district }}" in lines[2]
    assert "missing parameter signer_title" in lines[3]


def test_unbalanced_brace(tmp_path):
    text = sample_text().replace("Tiếp tục duy trì và nâng cao", "Tiếp tục {{ commune.name duy trì")
    with pytest.raises(ParameterError, match="braces do not parse") as info:
        load_params(write(tmp_path, text))
    assert info.value.parameter.startswith("narrative.plans")


def test_wrong_type_names_line(tmp_path):
    text = sample_text().replace("year: 2023", "year: hai nghìn")
    with pytest.raises(ParameterError) as info:
        load_params(write(tmp_path, text))
    assert info.value.parameter == "year" and info.value.row == 7


def test_not_yaml_and_not_utf8(tmp_path):
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_params(write(tmp_path, "commune: [unclosed\n"))
    bad = tmp_path / "latin.yaml"
    bad.write_bytes("place: Lào Cai\n".encode("cp1258", errors="replace"))
    with pytest.raises(ParameterError, match="UTF-8"):
        load_params(bad)
    with pytest.raises(ParameterError, match="not found"):
        load_params(tmp_path / "missing.yaml")


def test_nfd_text_normalised(tmp_path):
    import unicodedata
    text = sample_text().replace("place: Lào Cai", "place: " + unicodedata.normalize("NFD", "Lào Cai"))
    assert load_params(write(tmp_path, text))["place"] == "Lào Cai"


def test_notebook_without_parameters_cell(tmp_path):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": []}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    with pytest.raises(NotebookError, match="no cell tagged 'parameters'"):
        parameters_cell(nb)
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(NotebookError) as info:
        notebook_defaults(path)
    assert info.value.file.endswith("nb.ipynb")


@pytest.mark.parametrize("text, message", [
    ("Lưu {{ criteria.met_cnt }} VT", "unknown attribute {{ criteria.met_cnt }} (did you mean "
                                      "{{ criteria.met_count }}?)"),
    ("{{ commune.nam }}", "unknown attribute {{ commune.nam }} (did you mean {{ commune.name }}?)"),
    ("{{ poverty.reduction }}", "unknown attribute {{ poverty.reduction }} (did you mean "
                                "{{ poverty.reduction_points }}?)"),
])
def test_an_unknown_attribute_in_free_text_is_refused_at_load(tmp_path, root, text, message):
    """Refused before any kernel starts, naming the file, the line and the field."""
    source = (root / "params" / "2023" / "nam-mon.yaml").read_text(encoding="utf-8")
    assert '  - "Lưu: VT, Ban KT-XH"' in source
    path = tmp_path / "p.yaml"
    path.write_text(source.replace('  - "Lưu: VT, Ban KT-XH"', f'  - "{text}"', 1),
                    encoding="utf-8")
    with pytest.raises(ParameterError) as caught:
        load_params(path)
    assert message in str(caught.value) and "recipients.4" in str(caught.value)
    assert caught.value.exit_code == 2


def test_the_attributes_free_text_is_checked_against_are_the_real_ones(root):
    """names.ATTRIBUTES (what load checks) is what report_names makes: each
    sample's objects have only those attributes, and together all of them."""
    import dataclasses

    from ntm_lib.notebook.names import ATTRIBUTES, report_names
    from ntm_lib.report import prepare_report

    seen: dict[str, set] = {name: set() for name in ATTRIBUTES}
    for params_file in ("2023/nam-mon.yaml", "2023/nam-mon-6m.yaml", "2026/bac-ha.yaml"):
        names = report_names(prepare_report(load_params(root / "params" / params_file)))
        for name, attributes in ATTRIBUTES.items():
            value = names.get(name)
            if value is None:
                continue
            real = ({f.name for f in dataclasses.fields(value)} if dataclasses.is_dataclass(value)
                    else set(value))
            assert real <= attributes, (params_file, name, real - attributes)
            seen[name] |= real
    assert seen == {name: set(attributes) for name, attributes in ATTRIBUTES.items()}


@pytest.mark.parametrize("line, field", [
    ('signer_name: "{{ criteria.met_cnt }}"', "signer_name"),
    ('signer_name: "{commune_name}"', "signer_name"),
    ('place: "{% if true %}Lào Cai{% endif %}"', "place"),
])
def test_braces_in_a_field_printed_as_written_are_refused(tmp_path, root, line, field):
    """Only recipients and narrative are filled with names: elsewhere the
    braces would print as they are (the signer's name "{{ ... }}")."""
    source = (root / "params" / "2023" / "nam-mon.yaml").read_text(encoding="utf-8")
    key = line.split(":")[0]
    [old] = [x for x in source.splitlines() if x.startswith(key + ":")]
    path = tmp_path / "p.yaml"
    path.write_text(source.replace(old, line, 1), encoding="utf-8")
    with pytest.raises(ParameterError) as caught:
        load_params(path)
    assert f"parameter {field}: this field is printed as written" in str(caught.value)
