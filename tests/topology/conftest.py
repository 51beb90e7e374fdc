"""The grid tests' fixtures serve the topology tests too."""

from tests.grid.conftest import _english, api, editor, login  # noqa: F401
