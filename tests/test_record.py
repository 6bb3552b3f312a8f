"""Figures recorded in a notebook are read back and schema-checked."""
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from ntm_lib.record import MEDIA_TYPE, FigureError, make_payload, read_figures


def notebook_with(*payloads):
    cell = new_code_cell("", outputs=[
        new_output("display_data", data={MEDIA_TYPE: p}) for p in payloads])
    return new_notebook(cells=[cell])


def test_round_trip_through_a_file(tmp_path):
    nb = notebook_with(
        make_payload("criteria_met", 13, unit="criteria",
                     sources=[{"path": "data/communes/02881/criteria_status.csv"}]),
        make_payload("criteria_not_met_numbers", (1, 2, 10, 11, 17, 18)),
        make_payload("criteria_met", 14),  # recorded again: the later one wins
    )
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    figures = read_figures(path)
    assert figures["criteria_met"].value == 14
    assert figures["criteria_not_met_numbers"].value == [1, 2, 10, 11, 17, 18]


def test_numpy_values_become_json():
    import numpy as np
    assert make_payload("x", np.int64(7))["value"] == 7
    assert make_payload("y", {"a": np.float64(0.5)})["value"] == {"a": 0.5}


@pytest.mark.parametrize("name, value", [("Bad Name", 1), ("x", float("nan")), ("x", object())])
def test_bad_figures_refused(name, value):
    with pytest.raises(FigureError):
        make_payload(name, value)


def test_tampered_output_named(tmp_path):
    nb = notebook_with({"schema": "ntm.figure.v1", "name": "x", "value": 1, "extra": True})
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(FigureError) as info:
        read_figures(path)
    assert info.value.cell == "0" and "bad.ipynb" in str(info.value)
