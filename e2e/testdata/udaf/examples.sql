CREATE TABLE src (a BIGINT, b BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '200',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '200',
  'fields.b.kind' = 'sequence', 'fields.b.start' = '1001', 'fields.b.end' = '1200');
CREATE TABLE snk1 (k BIGINT, wa DOUBLE, m FLOAT, c BIGINT, s BIGINT) WITH ('connector' = 'print');
CREATE TABLE snk2 (k STRING, n BIGINT, nn BIGINT, j STRING, wm DOUBLE) WITH ('connector' = 'print');
CREATE TABLE snk3 (wa DOUBLE, m FLOAT, c BIGINT) WITH ('connector' = 'print');
CREATE TABLE snk4 (k BIGINT, wa DOUBLE, mx BIGINT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION weighted_avg AS 'udfs.weighted_avg' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION mean_udaf AS 'udfs.mean_udaf' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION count_non_null AS 'udfs.count_non_null' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION concat_agg AS 'udfs.concat' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION weighted_mean AS 'udfs.weighted_mean' LANGUAGE PYTHON;
INSERT INTO snk1 SELECT a % 7, weighted_avg(a, b % 5), CAST(NULL AS FLOAT), COUNT(*), SUM(b) FROM src GROUP BY a % 7;
INSERT INTO snk1 SELECT a % 7, CAST(NULL AS DOUBLE), mean_udaf(CAST(b AS FLOAT)), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT) FROM src GROUP BY a % 7;
INSERT INTO snk2 SELECT CASE WHEN a % 3 = 0 THEN 'x' ELSE 'y' END, COUNT(*),
  count_non_null(CASE WHEN a % 4 = 0 THEN NULL ELSE a END),
  concat_agg(CASE WHEN a < 10 THEN CAST(a AS STRING) END), CAST(NULL AS DOUBLE)
  FROM src GROUP BY CASE WHEN a % 3 = 0 THEN 'x' ELSE 'y' END;
INSERT INTO snk2 SELECT CASE WHEN a % 3 = 0 THEN 'x' ELSE 'y' END, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS STRING),
  weighted_mean(CAST(a AS DOUBLE), CAST(b AS DOUBLE))
  FROM src GROUP BY CASE WHEN a % 3 = 0 THEN 'x' ELSE 'y' END;
INSERT INTO snk3 SELECT weighted_avg(a, b), CAST(NULL AS FLOAT), COUNT(b) FROM src;
INSERT INTO snk3 SELECT CAST(NULL AS DOUBLE), mean_udaf(CAST(a AS FLOAT)), CAST(NULL AS BIGINT) FROM src;
INSERT INTO snk4 SELECT a % 10, weighted_avg(a, 2), MAX(b) FROM src WHERE a > 50 GROUP BY a % 10 HAVING weighted_avg(a, 2) > 120 AND COUNT(*) > 3;
