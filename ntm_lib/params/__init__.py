"""Report parameters: schema, loading and checks before injection."""
from .params import (
    PARAMETERS_TAG,
    load_params,
    notebook_defaults,
    parameter_names,
    parameters_cell,
    schema,
    validate_params,
)

__all__ = [
    "PARAMETERS_TAG",
    "load_params",
    "notebook_defaults",
    "parameter_names",
    "parameters_cell",
    "schema",
    "validate_params",
]
