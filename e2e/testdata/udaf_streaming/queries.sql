CREATE TABLE src (a BIGINT, b BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '12',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '12',
  'fields.b.kind' = 'sequence', 'fields.b.start' = '101', 'fields.b.end' = '112');
CREATE TABLE snk_kv (k BIGINT, v BIGINT) WITH ('connector' = 'print');
CREATE TABLE snk_kd (k BIGINT, v DOUBLE) WITH ('connector' = 'print');
CREATE TABLE snk_ks (k BIGINT, v STRING) WITH ('connector' = 'print');
CREATE TABLE snk_kvv (k BIGINT, v BIGINT, w BIGINT) WITH ('connector' = 'print');
CREATE TABLE snk_v (v BIGINT) WITH ('connector' = 'print');
CREATE TABLE snk_mix (k BIGINT, u BIGINT, c BIGINT, s BIGINT, mn BIGINT, mx BIGINT, av BIGINT) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION usum AS 'udfs.usum' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION largest AS 'udfs.largest' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION wavg AS 'udfs.wavg' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION concat_agg AS 'udfs.concat' LANGUAGE PYTHON;
INSERT INTO snk_kv SELECT a % 3, usum(b) FROM src GROUP BY a % 3;
INSERT INTO snk_kv SELECT a % 2, largest(12 - a) FROM src GROUP BY a % 2;
INSERT INTO snk_kd SELECT a % 4, wavg(b, a) FROM src GROUP BY a % 4;
INSERT INTO snk_v SELECT usum(a) FROM src;
INSERT INTO snk_kv SELECT c, usum(k) FROM (SELECT a % 5 AS k, COUNT(*) AS c FROM src GROUP BY a % 5) GROUP BY c;
INSERT INTO snk_kvv SELECT c, largest(k), usum(k) FROM (SELECT a % 4 AS k, COUNT(*) AS c FROM src GROUP BY a % 4) GROUP BY c;
INSERT INTO snk_ks SELECT c, concat_agg(CAST(k AS STRING)) FROM (SELECT a % 6 AS k, SUM(b) % 3 AS c FROM src GROUP BY a % 6) GROUP BY c;
INSERT INTO snk_kv SELECT k, usum(v) FROM (SELECT a % 3 AS k, usum(b) AS v FROM src GROUP BY a % 3) GROUP BY k HAVING usum(v) > 400;
INSERT INTO snk_mix SELECT a % 3, usum(b), COUNT(*), SUM(b), MIN(b), MAX(a), AVG(a) FROM src GROUP BY a % 3;
INSERT INTO snk_mix SELECT c, usum(k), COUNT(*), SUM(k), MIN(k), MAX(k), AVG(k) FROM (SELECT a % 5 AS k, COUNT(*) AS c FROM src GROUP BY a % 5) GROUP BY c;
