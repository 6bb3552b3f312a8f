"""Report parameters: schema, loading and checks before injection."""
from .params import (
    PARAMETERS_TAG,
    TEXT_FIELDS,
    load_params,
    notebook_defaults,
    parameter_defaults,
    parameter_names,
    parameters_cell,
    read_notebook,
    schema,
    secret_env_name,
    secret_names,
    text_field_problem,
    validate_params,
)

__all__ = [
    "PARAMETERS_TAG",
    "TEXT_FIELDS",
    "load_params",
    "notebook_defaults",
    "parameter_defaults",
    "parameter_names",
    "parameters_cell",
    "read_notebook",
    "schema",
    "secret_env_name",
    "secret_names",
    "text_field_problem",
    "validate_params",
]
