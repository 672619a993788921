# roofline.gp — each kernel's achieved rate against the limits measured on this machine.
# Data:
#   curve 'roofline_limits': series 'GB/s' (y = measured memory bandwidth) and
#       series 'GFLOP/s' (y = measured GEMM rate); x is ignored (write 0).
#   curve 'roofline': series = kernel name, x = arithmetic intensity (FLOP/byte),
#       y = achieved GFLOP/s (one point per shape; several points per kernel are fine).
# Written by griffin run kernels (series '<kernel> <variant>': scan, rglru, attn, gemm;
# GB/s = the larger of copy and read bandwidth) or, as a fallback, by
# griffin import-gbench from the bench context and its GB/s and GFLOP/s counters.
fig = 'roofline'
load (exists("dir") ? dir : 'plots').'/common.gp'
R = (run ne '') ? run : val("select coalesce(max(run_id),'') from curve where name='roofline'")
NS = (R eq '') ? 0 : num(sprintf("select count(distinct series) from curve where run_id=%s and name='roofline'", R))
set title 'Roofline: achieved rate of each kernel against the measured limits'
set xlabel 'arithmetic intensity (FLOP/byte)'
set ylabel 'GFLOP/s'
if (NS == 0) {
    eval(nodata('no data yet — run: griffin run kernels'))
} else {
    BW = num(sprintf("select max(y) from curve where run_id=%s and name='roofline_limits' and series='GB/s'", R))
    PK = num(sprintf("select max(y) from curve where run_id=%s and name='roofline_limits' and series='GFLOP/s'", R))
    set logscale xy 10
    set key top left font ',8'
    set xrange [0.01:1000]
    eval(set_footnote(R))
    roof(x) = (BW > 0 && PK > 0) ? ((BW * x < PK) ? BW * x : PK) : NaN
    S(i) = sprintf("(select series from curve where run_id=%s and name='roofline' group by series order by series limit 1 offset %d)", R, i - 1)
    plot roof(x) with lines lw 2 lc rgb 'black' title sprintf('limit: %.1f GB/s, %.1f GFLOP/s', BW, PK), \
         for [i=1:NS] sql(sprintf("select x, y from curve where run_id=%s and name='roofline' and series=%s order by x", R, S(i))) \
         using 1:2 with points pt 7 ps 1.2 title val(sprintf("select %s", S(i)))
}
