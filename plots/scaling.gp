# scaling.gp — data-parallel training (scripts/scaling.sh): tokens/s of one
# process and of ranks against the total threads, and the scaling efficiency
# with the ring all-reduce model's prediction up to 64 ranks.
# Data: `griffin train` runs whose case params carry ranks, threads, bucket_mb
# (newest run of each configuration, of the newest run's model):
#   result 'step_s' (median over steps)      tokens/s = B*T / step_s
#   result 'compute_s', 'allreduce_s_per_byte', 'grad_bytes' (2 ranks, bucket 0)
# Efficiency = tokens/s of N ranks x 1 thread / tokens/s of 1 process x N threads.
# Model (per-rank batch fixed): eff(N) = t_c / (t_c + 2(N-1)/N * grad_bytes * s_per_byte),
# drawn for the cost per byte measured here and for 10 GbE / 100 Gb IB (bandwidth only).
fig = 'scaling'
load (exists("dir") ? dir : 'plots').'/common.gp'
T0 = "with t as (select r.id rid, json_extract(c.params,'$.model') model, json_extract(c.params,'$.ranks') n, json_extract(c.params,'$.threads') th, json_extract(c.params,'$.bucket_mb') bk, json_extract(c.params,'$.B') * json_extract(c.params,'$.T') / m.median tps from run r join result m on m.run_id = r.id and m.metric = 'step_s' join bench_case c on c.id = m.case_id where r.suite = 'train' and r.status = 'ok' and json_extract(c.params,'$.ranks') is not null"
TR = (run ne '') ? sprintf(" and r.id <= %s", run) : ''
T1 = "), u as (select * from t where model = (select model from t order by rid desc limit 1)), z as (select * from u where rid in (select max(rid) from u group by n, th, bk)) "
W = T0.TR.T1
NR = num(W."select count(*) from z")
LAST = val(W."select coalesce(max(rid),'') from z")
set multiplot layout 1,2 title 'data-parallel training: ranks against one process with the same total threads' noenhanced
if (NR == 0) {
    eval(nodata('no data yet — run: bash scripts/scaling.sh'))
    eval(nodata('no data yet — run: bash scripts/scaling.sh'))
} else {
    eval(set_footnote(LAST))
    set title 'tokens/s vs total threads ('.val(W."select model from z limit 1").')'
    set xlabel 'threads in total (ranks x threads per rank)'
    set ylabel 'tokens/s (median step)'
    set logscale x 2
    set xrange [0.8:*]
    set yrange [0:*]
    plot sql(W."select th, tps from z where n = 1 order by th") using 1:2 with linespoints pt 7 title '1 process', \
         sql(W."select n, tps from z where n > 1 and bk = 0 order by n") using 1:2 with linespoints pt 5 title 'ranks x 1 thread, all-reduce after the backward', \
         sql(W."select n, tps from z where n > 1 and bk > 0 order by n") using 1:2 with linespoints pt 9 title 'ranks x 1 thread, overlapped (buckets)'
    unset label 99
    TC = num(W."select m.median from z join result m on m.run_id = z.rid and m.metric = 'compute_s' where z.n = 2 and z.bk = 0")
    CB = num(W."select m.median from z join result m on m.run_id = z.rid and m.metric = 'allreduce_s_per_byte' where z.n = 2 and z.bk = 0")
    GB = num(W."select m.median from z join result m on m.run_id = z.rid and m.metric = 'grad_bytes' where z.n = 2 and z.bk = 0")
    eff(N, c) = TC / (TC + 2.0 * (N - 1) / N * GB * c)
    set title sprintf('scaling efficiency (measured; model: t_c %.3f s, %.1f MB of gradients)', TC, GB / 1e6)
    set xlabel 'ranks'
    set ylabel 'efficiency'
    set xrange [1:64]
    set yrange [0:1.1]
    set samples 64
    if (TC > 0 && CB > 0) {
        plot sql(W."select z.n, z.tps / o.tps from z join z o on o.n = 1 and o.th = z.n where z.n > 1 and z.bk = 0 order by z.n") using 1:2 with points pt 5 ps 1.5 title 'measured, after the backward', \
             sql(W."select z.n, z.tps / o.tps from z join z o on o.n = 1 and o.th = z.n where z.n > 1 and z.bk > 0 order by z.n") using 1:2 with points pt 9 ps 1.5 title 'measured, overlapped', \
             [2:64] eff(x, CB) with lines lw 2 title sprintf('model, %.2g s/byte (measured here)', CB), \
             [2:64] eff(x, 8e-10) with lines dt 2 title 'model, 10 GbE (8e-10 s/byte)', \
             [2:64] eff(x, 8e-11) with lines dt 3 title 'model, 100 Gb IB (8e-11 s/byte)'
    } else {
        plot sql(W."select z.n, z.tps / o.tps from z join z o on o.n = 1 and o.th = z.n where z.n > 1 order by z.n") using 1:2 with points pt 5 ps 1.5 title 'measured'
    }
    unset logscale
}
unset multiplot
