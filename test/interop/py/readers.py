"""The interop suite's reference readers, driven by the vitest suite over JSON lines.

Usage: python readers.py <pyiceberg|spark|duckdb> '<json config>'

Reads one JSON request a line on standard input ({"op": name, "args": {...}}) and answers
each with one line `@@interop {"ok": result}` or `@@interop {"error": "..."}` on standard
output (anything else written there is moved to standard error). Values are made JSON:
decimals as their exact text, timestamps as UTC ISO 8601 with a Z, dates as YYYY-MM-DD.
"""

import datetime
import decimal
import json
import os
import sys
import traceback

MARK = "@@interop "


def jsonable(v):
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:  # Spark hands back naive datetimes in the session time zone (UTC)
            v = v.replace(tzinfo=datetime.timezone.utc)
        v = v.astimezone(datetime.timezone.utc)
        frac = f"{v.microsecond // 1000:03d}" if v.microsecond % 1000 == 0 else f"{v.microsecond:06d}"
        return v.strftime("%Y-%m-%dT%H:%M:%S.") + frac + "Z"
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.hex()
    raise TypeError(f"cannot make {type(v).__name__} JSON")


def arrow_answer(table):
    """Columns (name, Arrow type) and rows of an Arrow table."""
    return {
        "schema": [[f.name, str(f.type)] for f in table.schema],
        "rows": table.to_pylist(),
    }


class PyIcebergReader:
    def __init__(self, cfg):
        from pyiceberg.catalog.rest import RestCatalog

        self.catalog = RestCatalog("lake", uri=cfg["catalog"])

    def catalog_listing(self):
        namespaces = [list(ns) for ns in self.catalog.list_namespaces()]
        tables = {}
        for ns in namespaces:
            tables[".".join(ns)] = sorted(t[-1] for t in self.catalog.list_tables(tuple(ns)))
        return {"namespaces": namespaces, "tables": tables}

    def table_info(self, table):
        t = self.catalog.load_table(table)
        return {
            "location": t.location(),
            "spec": [[f.field_id, f.name, f.source_id, str(f.transform)] for f in t.spec().fields],
            "snapshots": [s.snapshot_id for s in t.snapshots()],
            "current": t.current_snapshot().snapshot_id if t.current_snapshot() else None,
        }

    def scan(self, table, row_filter=None, snapshot_id=None):
        t = self.catalog.load_table(table)
        kwargs = {}
        if row_filter is not None:
            kwargs["row_filter"] = row_filter
        if snapshot_id is not None:
            kwargs["snapshot_id"] = snapshot_id
        scan = t.scan(**kwargs)
        files = [task.file.file_path for task in scan.plan_files()]
        answer = arrow_answer(scan.to_arrow())
        answer["files"] = files
        return answer


class SparkReader:
    def __init__(self, cfg):
        from pyspark.sql import SparkSession

        self.spark = (
            SparkSession.builder.master("local[1]")
            .appName("lakehouse-interop")
            .config("spark.jars", cfg["sparkRuntimeJar"])
            .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
            .config("spark.sql.catalog.lake", "org.apache.iceberg.spark.SparkCatalog")
            .config("spark.sql.catalog.lake.type", "rest")
            .config("spark.sql.catalog.lake.uri", cfg["catalog"])
            # Every query sees the catalog's current metadata, as after a commit by the lake.
            .config("spark.sql.catalog.lake.cache-enabled", "false")
            .config("spark.sql.defaultCatalog", "lake")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "1g")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")

    def sql(self, query):
        df = self.spark.sql(query)
        return {
            "schema": [[f.name, f.dataType.simpleString()] for f in df.schema.fields],
            "rows": [r.asDict() for r in df.collect()],
        }


class DuckDBReader:
    def __init__(self, cfg):
        import duckdb

        # The duckdb-ext-* packages put the extension files under site-packages/duckdb_ext/extensions,
        # laid out as DuckDB's extension directory (v1.4.4/linux_amd64/iceberg.duckdb_extension).
        ext_dir = os.path.realpath(os.path.join(os.path.dirname(duckdb.__file__), "..", "duckdb_ext", "extensions"))
        self.con = duckdb.connect(
            config={"extension_directory": ext_dir, "autoinstall_known_extensions": "false"}
        )
        self.con.execute("LOAD iceberg")
        self.con.execute("SET TimeZone = 'UTC'")
        self.catalog = cfg["catalog"]

    def attach(self):
        self.con.execute(
            f"ATTACH 'lake' AS lake (TYPE ICEBERG, ENDPOINT '{self.catalog}', AUTHORIZATION_TYPE 'none')"
        )
        return True

    def sql(self, query):
        rel = self.con.sql(query)
        return None if rel is None else arrow_answer(rel.fetch_arrow_table())


ENGINES = {"pyiceberg": PyIcebergReader, "spark": SparkReader, "duckdb": DuckDBReader}


def answer(obj, out):
    out.write(MARK + json.dumps(obj, default=jsonable) + "\n")
    out.flush()


def main():
    # The protocol keeps its own copy of standard output; everything else printing there
    # (the JVM Spark starts, progress bars) goes to standard error instead.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    engine, cfg = sys.argv[1], json.loads(sys.argv[2])
    try:
        reader = ENGINES[engine](cfg)
    except Exception:
        answer({"error": traceback.format_exc()}, out)
        return 1
    answer({"ok": "ready"}, out)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            answer({"ok": getattr(reader, req["op"])(**req.get("args", {}))}, out)
        except Exception as e:  # the test shows the reader's own message
            answer({"error": f"{type(e).__name__}: {e}"}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
