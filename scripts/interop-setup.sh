#!/usr/bin/env bash
# Installs the interop suite's reference readers (npm run test:interop runs this first):
# - a virtualenv in .interop/venv with the pinned packages of test/interop/requirements.txt
#   (PyIceberg, PySpark, DuckDB and its iceberg extension), installed through pip's cache;
# - Spark's Iceberg runtime jar from Maven Central, cached in the local Maven repository.
# Idempotent: a virtualenv built from the same requirements file is kept as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=.interop
REQ=test/interop/requirements.txt
# The runtime jar is built per Spark minor version: keep it in step with pyspark in $REQ.
ICEBERG_SPARK_RUNTIME=org.apache.iceberg:iceberg-spark-runtime-4.0_2.13:1.10.0
PYTHON=${PYTHON:-python3}
M2_REPO=${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}

for tool in "$PYTHON" java mvn; do
  command -v "$tool" >/dev/null 2>&1 || { echo "interop: $tool not found (Python 3.10+, Java 17 and Maven are needed)" >&2; exit 1; }
done

stamp="$(sha256sum "$REQ" | cut -c1-16)"
if [ ! -x "$DIR/venv/bin/python" ] || [ "$(cat "$DIR/venv/.requirements" 2>/dev/null)" != "$stamp" ]; then
  echo "interop: creating $DIR/venv from $REQ"
  rm -rf "$DIR/venv"
  "$PYTHON" -m venv "$DIR/venv" || { echo "interop: $PYTHON cannot create a virtualenv (Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$DIR/venv/bin/pip" install --quiet --disable-pip-version-check --progress-bar off -r "$REQ"
  echo "$stamp" >"$DIR/venv/.requirements"
fi

IFS=: read -r group artifact version <<<"$ICEBERG_SPARK_RUNTIME"
jar="$M2_REPO/${group//.//}/$artifact/$version/$artifact-$version.jar"
if [ ! -f "$jar" ]; then
  echo "interop: fetching $ICEBERG_SPARK_RUNTIME"
  mvn -q -B -Dmaven.repo.local="$M2_REPO" dependency:get -Dartifact="$ICEBERG_SPARK_RUNTIME" -Dtransitive=false
fi

java -version 2>&1 | head -1
printf '{"python":"%s","sparkRuntimeJar":"%s"}\n' "$PWD/$DIR/venv/bin/python" "$jar" >"$DIR/env.json"
echo "interop: ready ($DIR/env.json)"
