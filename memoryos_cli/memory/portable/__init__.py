"""Export and import one user/assistant pair as one lossless JSON file.

- `format`: the file format as pydantic models (`memoryos export --schema`);
- `export`: the store -> an `ExportFile`;
- `read`: a file -> a validated `ExportFile`, or one line that says what is wrong;
- `merge`: an `ExportFile` -> the store, in one transaction, without duplicates.
"""

from __future__ import annotations

from memoryos_cli.memory.portable.export import build, export_data
from memoryos_cli.memory.portable.format import ExportFile, schema, to_json
from memoryos_cli.memory.portable.merge import ImportCounts, import_data
from memoryos_cli.memory.portable.read import parse, read_file, read_stream

__all__ = [
    "ExportFile",
    "ImportCounts",
    "build",
    "export_data",
    "import_data",
    "parse",
    "read_file",
    "read_stream",
    "schema",
    "to_json",
]
