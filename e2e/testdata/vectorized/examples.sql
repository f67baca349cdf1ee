CREATE TABLE src (a BIGINT, b BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '20',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '20',
  'fields.b.kind' = 'sequence', 'fields.b.start' = '81', 'fields.b.end' = '100');
CREATE TABLE snk1 (a BIGINT, s STRING, x DOUBLE, big BOOLEAN) WITH ('connector' = 'print');
CREATE TABLE snk2 (r ROW<total BIGINT, label STRING>, p BIGINT, q BIGINT) WITH ('connector' = 'print');
CREATE TABLE snk3 (a BIGINT, c DOUBLE) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION add AS 'udfs.add' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION shout AS 'udfs.shout' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION scale AS 'udfs.scale' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION is_big AS 'udfs.is_big' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION summarize AS 'udfs.summarize' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION centered AS 'udfs.centered' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION plus_one AS 'udfs.plus_one' LANGUAGE PYTHON;
INSERT INTO snk1 SELECT add(CASE WHEN a % 4 = 0 THEN NULL ELSE a END, b),
  shout(CASE WHEN a % 5 = 0 THEN NULL ELSE CONCAT('wörd', CAST(a AS STRING)) END),
  scale(CASE WHEN a % 3 = 0 THEN NULL ELSE CAST(a AS DOUBLE) / 4 END, CAST(2.5 AS DOUBLE)),
  is_big(add(a, b)) FROM src;
INSERT INTO snk2 SELECT summarize(a, b, CONCAT('Row', CAST(a AS STRING))), plus_one(add(a, b)), add(plus_one(a), b) FROM src;
INSERT INTO snk3 SELECT add(a, a), centered(CAST(b AS DOUBLE)) FROM src WHERE is_big(a * 10);
