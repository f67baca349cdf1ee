# weir's build, test and benchmark entry points. Everything installs into
# the checkout: bin/weir and the Python virtualenv .venv.

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
GO     ?= go
ROWS   ?= 10000000
COLUMNS ?= 10
WORKERS ?= 1
# weir's one version number lives in python/weir/__init__.py; the engine gets it at link time.
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"$$/\1/p' python/weir/__init__.py)

export WEIR_PYTHON := $(abspath $(VPY))
export PIP_CONSTRAINT := $(abspath python/constraints.txt)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

PY_SOURCES := $(shell find python/weir -name '*.py' -o -name '*.pyx' -o -name '*.pxd') python/pyproject.toml python/setup.py python/constraints.txt
GO_SOURCES := $(shell find cmd internal -name '*.go') go.mod go.sum

.PHONY: all setup build venv run kafka test test-go test-python test-e2e test-flink test-spill test-state-big test-checkpoint wheel test-wheel bench bench-parquet bench-table-api fuzz lint proto clean conformance-record expressions-record

all: setup

setup: build venv

build: bin/weir

# Static and -trimpath, as in the wheel (python/setup.py), so the two builds share Go's cache.
bin/weir: $(GO_SOURCES) python/weir/__init__.py
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/weir ./cmd/weir

venv: $(VENV)/.installed

$(VENV)/.installed: $(PY_SOURCES)
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet setuptools Cython pytest
	$(VPY) -m pip install --quiet ./python
	$(VPY) -c "import weir.coder as c, weir.operations as o; print('weir Python package installed: coder', c.IMPLEMENTATION, '/ operations', o.IMPLEMENTATION)"
	touch $@

# The FLIP-121 benchmark job: $(ROWS) rows x $(COLUMNS) INT columns through inc.
run: setup
	bin/weir bench flip121 --rows $(ROWS) --columns $(COLUMNS) --workers $(WORKERS)

test: setup test-go test-python test-wheel

# The Apache Kafka broker of the Kafka tests (internal/kafkatest), from Maven Central; about 20-50 s once.
kafka:
	scripts/kafka.sh

test-go: kafka
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...
	$(GO) test -race -count=1 ./internal/pyexec ./internal/fnapi ./internal/worker

# The spill test: aggregation, join and sort over ~2 GB of generated input each with 64 MB of managed
# memory, exact results and the engine's peak RSS under 300 MB (internal/job/spill_large_test.go; ~10 min).
# WEIR_SPILL_SCALE=0.1 runs a tenth of it.
test-spill:
	WEIR_SPILL_TEST=1 $(GO) test -count=1 -timeout 60m -v -run '^TestSpillLarge$$' ./internal/job

# The on-disk state test: the sum accumulators of 10M groups in Pebble, each read and written twice, exact
# values, the process's peak RSS under 256 MB (internal/state/big_test.go); writes
# internal/state/testdata/big-results.txt, checked by `make test`. WEIR_STATE_BIG=N runs N groups.
test-state-big:
	WEIR_STATE_BIG=$${WEIR_STATE_BIG:-1} $(GO) test -count=1 -timeout 60m -v -run '^TestBigOnDisk$$' ./internal/state

# The Kafka checkpoint proof: 1M JSON records -> Python function -> exactly-once Kafka sink with checkpoints,
# the engine SIGKILLed at least 3 times at random moments and resumed, each result read back exactly once
# (e2e/checkpoint_kafka_test.go; a few minutes); writes testdata/checkpoint-kafka/results.txt, checked by `make test`.
test-checkpoint: setup kafka
	WEIR_CHECKPOINT_KAFKA=1 $(GO) test -count=1 -timeout 60m -v -run '^TestCheckpointKafkaLarge$$' ./e2e

# The Python suite runs twice: on the Cython fast paths and on the pure-Python twins.
test-python:
	cd python/tests && WEIR_CYTHON=1 ../../$(VPY) -m pytest -q -p no:cacheprovider
	cd python/tests && WEIR_CYTHON=0 ../../$(VPY) -m pytest -q -p no:cacheprovider

# dist/: the sdist and a manylinux wheel per CPython >= 3.10 on the machine (PYTHONS="python3" for one),
# each with the Cython extensions and the engine, checked by auditwheel.
wheel:
	packaging/build.sh

# The wheel of python3 in a new venv with no Go, C compiler or other Python on PATH (a job, the e2e smoke
# tests); the sdist from source, without a C compiler, and without Go.
test-wheel: wheel
	packaging/test.sh

# The benchmark suite (bench/README.md): weir vs bare CPython vs PyFlink, one run, under 15 minutes.
# Options go in BENCH_ARGS, e.g. make bench BENCH_ARGS="--quick" or "--skip-pyflink --rows 20000000".
bench: setup
	$(VPY) bench/run.py $(BENCH_ARGS)

# Parquet 10M rows -> Python udf -> Parquet: weir vs DuckDB (with a Python UDF, and native) on the same files,
# one run, ratios printed (bench/parquet.py); options in BENCH_PARQUET_ARGS, e.g. "--rows 1000000".
bench-parquet: build setup
	$(VPY) bench/parquet.py $(BENCH_PARQUET_ARGS)

# A PyFlink Table API program (from_pandas -> Python udf -> to_pandas) on weir and on PyFlink, in one run.
bench-table-api: build setup
	$(VPY) bench/table_api.py $(BENCH_TABLE_API_ARGS)

# The Flink target on a real cluster: a standalone Flink 2.3 (JobManager and two TaskManagers on loopback,
# from apache-flink's scripts, Java 17) runs the e2e suite's scalar, table-function and aggregate jobs beside
# weir; rows, job states and times go to testdata/flink-target/results.txt (scripts/test-flink.sh).
test-flink: setup
	test -x bench/.venv-pyflink/bin/python || { $(PYTHON) -m venv bench/.venv-pyflink && PIP_CONSTRAINT= bench/.venv-pyflink/bin/pip install --quiet -r bench/requirements-pyflink.txt; }
	scripts/test-flink.sh

# Records Flink 2.3's answers to the conformance corpus (testdata/conformance; format in
# internal/conformance/corpus.go) with PyFlink in bench's venv; `make test` checks weir against them.
# CONFORMANCE_ARGS limits it to files whose path contains one of its words, e.g. "aggregate".
conformance-record:
	test -x bench/.venv-pyflink/bin/python || { $(PYTHON) -m venv bench/.venv-pyflink && PIP_CONSTRAINT= bench/.venv-pyflink/bin/pip install --quiet -r bench/requirements-pyflink.txt; }
	bench/.venv-pyflink/bin/python internal/conformance/record.py testdata/conformance $(CONFORMANCE_ARGS)

# Re-records Flink 2.3's answers to the expression cases of internal/plan's TestFlinkExpressions
# (DECIMAL arithmetic, CAST, TRY_CAST) into internal/plan/testdata/flink_expressions.txt.
expressions-record:
	test -x bench/.venv-pyflink/bin/python || { $(PYTHON) -m venv bench/.venv-pyflink && PIP_CONSTRAINT= bench/.venv-pyflink/bin/pip install --quiet -r bench/requirements-pyflink.txt; }
	bench/.venv-pyflink/bin/python internal/plan/testdata/record_flink_expressions.py

# Every decoder and parser has a fuzz target; this runs each for a while.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 30s ./internal/sql
	$(GO) test -run '^$$' -fuzz '^FuzzParseType$$' -fuzztime 30s ./internal/sql
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 30s ./internal/coder
	$(GO) test -run '^$$' -fuzz '^FuzzRoundTrip$$' -fuzztime 30s ./internal/coder
	$(GO) test -run '^$$' -fuzz '^FuzzSplitElements$$' -fuzztime 30s ./internal/pyexec
	$(GO) test -run '^$$' -fuzz '^FuzzOutputParts$$' -fuzztime 30s ./internal/pyexec
	$(GO) test -run '^$$' -fuzz '^FuzzCSVSource$$' -fuzztime 30s ./internal/connector
	$(GO) test -run '^$$' -fuzz '^FuzzJSONDecode$$' -fuzztime 30s ./internal/format
	$(GO) test -run '^$$' -fuzz '^FuzzJSONFastSlow$$' -fuzztime 30s ./internal/format
	$(GO) test -run '^$$' -fuzz '^FuzzCSVDecode$$' -fuzztime 30s ./internal/format
	$(GO) test -run '^$$' -fuzz '^FuzzAvroDecode$$' -fuzztime 30s ./internal/format
	$(GO) test -run '^$$' -fuzz '^FuzzRawDecode$$' -fuzztime 30s ./internal/format
	$(GO) test -run '^$$' -fuzz '^FuzzDatePattern$$' -fuzztime 30s ./internal/exec

# Static checks beyond go vet.
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# Regenerates the protobuf code of proto/weir.proto with protoc from grpcio-tools (in its own venv, pinned to
# the protobuf runtime weir installs) and protoc-gen-go from the Go module proxy.
proto:
	test -x .venv-proto/bin/python || $(PYTHON) -m venv .venv-proto
	PIP_CONSTRAINT= .venv-proto/bin/pip install --quiet grpcio-tools==1.81.1 protobuf==6.33.6
	GOBIN=$(abspath bin) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	PATH=$(abspath bin):$$PATH .venv-proto/bin/python -m grpc_tools.protoc -Iproto --go_out=internal/weirpb --go_opt=paths=source_relative --python_out=python/weir/proto proto/weir.proto

clean:
	rm -rf bin $(VENV) python/build python/*.egg-info python/weir/_bin dist
