# attention.gp — local MQA attention variants (prefill forward) at the paper's window:
# achieved GFLOP/s vs T, log2 x, against the sgemm rate measured in the same run (black).
# Data: curve 'attn_gflops', series = '<variant> W=<window>', x = T, y = GFLOP/s of the
#   useful work (4 dh H sum_t visible keys); the limit: curve 'roofline_limits' series
#   'GFLOP/s' (both written by griffin run kernels).
fig = 'attention'
load (exists("dir") ? dir : 'plots').'/common.gp'
R = (run ne '') ? run : val("select coalesce(max(run_id),'') from curve where name='attn_gflops'")
NS = (R eq '') ? 0 : num(sprintf("select count(distinct series) from curve where run_id=%s and name='attn_gflops'", R))
set title 'Local attention variants: achieved GFLOP/s vs sequence length'
set xlabel 'sequence length T'
set ylabel 'GFLOP/s'
if (NS == 0) {
    eval(nodata('no data yet — run: griffin run kernels'))
} else {
    PK = num(sprintf("select coalesce(max(y),0) from curve where run_id=%s and name='roofline_limits' and series='GFLOP/s'", R))
    set logscale x 2
    set yrange [0:*]
    set key top left font ',8'
    eval(set_footnote(R))
    S(i) = sprintf("(select series from curve where run_id=%s and name='attn_gflops' group by series order by series limit 1 offset %d)", R, i - 1)
    plot (PK > 0 ? PK : NaN) with lines lw 2 lc rgb 'black' title sprintf('sgemm rate of this run: %.1f GFLOP/s', PK), \
         for [i=1:NS] sql(sprintf("select x, y from curve where run_id=%s and name='attn_gflops' and series=%s order by x", R, S(i))) \
         using 1:2 with linespoints pt (5 + i % 4) ps 0.8 title val(sprintf("select %s", S(i)))
}
