#!/usr/bin/env bash
# Fetches the Apache Kafka broker that weir's Kafka tests run (internal/kafkatest
# starts and stops it): the jars of scripts/kafka/pom.xml and their dependencies,
# from Maven Central with mvn, into ~/.cache/weir-kafka/<version>/libs (or
# $WEIR_KAFKA_LIBS). Needs mvn and Java 17; does nothing when the jars are there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's/^const Version = "\(.*\)"$/\1/p' "$here/../internal/kafkatest/kafkatest.go")"
libs="${WEIR_KAFKA_LIBS:-$HOME/.cache/weir-kafka/$version/libs}"
if ls "$libs"/kafka_2.13-"$version".jar "$libs"/log4j-slf4j-impl-*.jar >/dev/null 2>&1; then
	exit 0
fi
command -v mvn >/dev/null || { echo "scripts/kafka.sh: mvn is not installed (apt-get install maven); the Kafka tests need it to fetch the broker" >&2; exit 1; }
command -v java >/dev/null || { echo "scripts/kafka.sh: java is not installed (apt-get install openjdk-17-jdk-headless); the Kafka broker needs Java 17" >&2; exit 1; }
grep -q "<version>$version</version>" "$here/kafka/pom.xml" || { echo "scripts/kafka.sh: scripts/kafka/pom.xml does not name Kafka $version (internal/kafkatest.Version)" >&2; exit 1; }
echo "fetching Apache Kafka $version into $libs"
mkdir -p "$libs.tmp"
mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs.tmp"
rm -rf "$libs"
mv "$libs.tmp" "$libs"
