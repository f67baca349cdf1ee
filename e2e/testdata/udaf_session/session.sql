CREATE TABLE sess (id INT, k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '10' SECOND) WITH ('connector' = 'filesystem', 'path' = '${DIR}/sessions.csv', 'format' = 'csv');
CREATE TABLE snk1 (k STRING, ws TIMESTAMP(3), we TIMESTAMP(3), n BIGINT, t STRING, m DOUBLE) WITH ('connector' = 'print');
CREATE TABLE snk2 (ws TIMESTAMP(3), we TIMESTAMP(3), t STRING, s INT) WITH ('connector' = 'print');
CREATE TABLE snk3 (k STRING, we TIMESTAMP(3), t STRING) WITH ('connector' = 'print');
CREATE TEMPORARY FUNCTION trace AS 'udfs.trace' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION no_merge AS 'udfs.no_merge' LANGUAGE PYTHON;
INSERT INTO snk1 SELECT k, window_start, window_end, COUNT(*), trace(id), no_merge(v, id) FROM TABLE(SESSION(TABLE sess PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY k, window_start, window_end;
INSERT INTO snk2 SELECT window_start, window_end, trace(id), SUM(v) FROM TABLE(SESSION(TABLE sess, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end;
INSERT INTO snk3 SELECT k, window_end, trace(id) FROM TABLE(SESSION(TABLE sess PARTITION BY k, DESCRIPTOR(ts), INTERVAL '8' SECOND)) WHERE v <> 50 GROUP BY k, window_start, window_end;
