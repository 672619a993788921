# common.gp — shared set-up for every figure script (loaded first).
#
# Variables passed by `griffin plot` with gnuplot -e (defaults here):
#   db   database path           out  output path without extension
#   fmt  png | svg | dumb        run  run id ('' = newest run with the figure's data)
#   dir  this folder             metric  (history) one metric or '' for all
# The caller sets `fig` (the figure name) before loading this file.
if (!exists("db")) { db = 'results/griffin.sqlite' }
if (!exists("fmt")) { fmt = 'png' }
if (!exists("run")) { run = '' }
if (!exists("metric")) { metric = '' }
if (!exists("dir")) { dir = 'plots' }
if (!exists("out")) { out = 'plots/out/'.fig }

set encoding utf8
# sql(q): a data source reading rows of the query; val(q): one value as a string.
# (.timeout: a reader waits for a moment's lock instead of answering an error)
sql(q) = sprintf("< sqlite3 -readonly -cmd '.timeout 5000' -noheader -separator ' ' -nullvalue NaN '%s' \"%s\"", db, q)
val(q) = system(sprintf("sqlite3 -readonly -cmd '.timeout 5000' -noheader -separator ' ' '%s' \"%s\"", db, q))
num(q) = (val(q) eq '') ? 0 : val(q) + 0

if (fmt eq 'png') { set terminal pngcairo size 1100,700 noenhanced font 'sans,10'; set output out.'.png' }
if (fmt eq 'svg') { set terminal svg size 1100,700 dynamic noenhanced font 'sans,10' background rgb 'white'; set output out.'.svg' }
if (fmt eq 'dumb') { set terminal dumb size 130,40; set output out.'.txt' }

set datafile missing NaN
set grid
set key noenhanced top left
set bmargin 5

# footnote(r): machine and commit of run r, for the bottom of the figure.
footnote(r) = val(sprintf("select replace('run ' || r.id || ' (' || substr(r.uuid,1,8) || ', ' || r.suite || ') | ' || coalesce(nullif(m.cpu_model,''),'unknown CPU') || ', ' || coalesce(m.cores,0) || ' cores' || case when coalesce(m.gpu,'') <> '' then ', ' || m.gpu else '' end || ' | BLAS ' || coalesce(m.blas_core,'') || ' | commit ' || b.git_commit || case when b.dirty then '+dirty' else '' end || ' | ' || r.started, char(39), '') from run r join machine m on m.id=r.machine_id join build b on b.id=r.build_id where r.id=%s", r))
set_footnote(r) = sprintf("set label 99 '%s' at screen 0.01, screen 0.015 left font ',8' noenhanced", footnote(r))

# nodata(msg): draw an empty frame that says what to run.
nodata(msg) = sprintf("unset border; unset tics; unset key; unset grid; unset logscale; set xrange [0:1]; set yrange [0:1]; set label 98 '%s' at graph 0.5, graph 0.5 center noenhanced; plot 2 notitle; unset label 98; set border; set tics; set key; set grid; set autoscale", msg)

# One colour per family in every figure (series named '<Family> ...', or a preset
# or case name with the family in lower case: 'small-hawk', 'family=mqa'); other
# series grey. Modelled series (named '... predicted') are dashed, measured solid.
famcol(s) = (strstrt(s, 'MQA') == 1 || strstrt(s, 'mqa') > 0) ? '#d62728' : (strstrt(s, 'Hawk') == 1 || strstrt(s, 'hawk') > 0) ? '#1f77b4' : (strstrt(s, 'Griffin') == 1 || strstrt(s, 'griffin') > 0) ? '#2ca02c' : '#7f7f7f'
famdash(s) = (strstrt(s, 'predicted') > 0 || strstrt(s, 'model') > 0) ? 2 : 1

# limits_of(r): sets BW (read GB/s) and PK (sgemm GFLOP/s) from run r's curve
# 'roofline_limits' (0 when absent); decode_limit_note(bw, pk): the second title
# line of a decode figure drawn against them ('' without limits).
limits_of(r) = (r eq '') ? "BW = 0; PK = 0" : sprintf("BW = num(\"select max(y) from curve where run_id=%s and name='roofline_limits' and series='GB/s'\"); PK = num(\"select max(y) from curve where run_id=%s and name='roofline_limits' and series='GFLOP/s'\")", r, r)
decode_limit_note(bw, pk) = (bw > 0 && pk > 0) ? sprintf("\nsolid: measured; dashed: limit, each step at max((weights + B x state) / %.1f GB/s, FLOPs / %.0f GFLOP/s), measured in this run", bw, pk) : ''
