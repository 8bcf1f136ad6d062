"""Bulk reads of a SQLite file straight into Arrow columns, through ADBC's SQLite driver: no
Python object per value, under half the time sqlite3 takes on a million records.

The driver brings its own copy of SQLite, and two copies in one process break each other's
file locks (closing a file in one drops the locks the other holds on it: SQLite's "How To
Corrupt", 2.2.1). So the read runs in a child process that streams the result back in
Arrow's IPC format. The child runs this file as a script: it imports nothing else of
Kenning's, for a quick start.
"""

from __future__ import annotations

import mmap
import subprocess
import sys
import tempfile

import pyarrow as pa

# The whole result in one batch: the driver takes each column's type from its first batch,
# and a column with no value in it would be taken for integers.
_ONE_BATCH = {"adbc.sqlite.query.batch_rows": str(2**30)}


def read_arrow(path: str, sql: str) -> pa.Table:
    """The result of a query on the committed state of the SQLite file at ``path``."""
    # Through a file, mapped, rather than a pipe: hundreds of megabytes are not copied.
    with tempfile.TemporaryFile() as result:
        child = subprocess.run(
            [sys.executable, __file__, path, sql], stdout=result, stderr=subprocess.PIPE
        )
        if child.returncode:
            message = child.stderr.decode(errors="replace").strip().splitlines()[-1:]
            raise OSError(f"cannot read {path}: {''.join(message) or 'the reader failed'}")
        mapped = mmap.mmap(result.fileno(), 0, access=mmap.ACCESS_READ)
    return pa.ipc.open_stream(pa.py_buffer(mapped)).read_all()


def _write_result(path: str, sql: str) -> None:
    import adbc_driver_manager
    import adbc_driver_sqlite

    with (
        adbc_driver_sqlite.connect(path) as database,
        adbc_driver_manager.AdbcConnection(database) as connection,
        adbc_driver_manager.AdbcStatement(connection) as statement,
    ):
        statement.set_options(**_ONE_BATCH)
        statement.set_sql_query(sql)
        stream, _ = statement.execute_query()
        reader = pa.RecordBatchReader.from_stream(stream)
        with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as out:
            for batch in reader:
                out.write_batch(batch)


if __name__ == "__main__":
    _write_result(sys.argv[1], sys.argv[2])
